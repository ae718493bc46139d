#include "decide/fit_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/units.h"
#include "decide/distribution_cost.h"
#include "decide/token_cost.h"
#include "kernels/kv_rows.h"

namespace lp::decide {
namespace {


std::string minutes_seconds(double seconds) {
  const auto total = static_cast<long>(seconds + 0.5);
  return total >= 60 ? fmt::format("{} min {:02d} s", total / 60, static_cast<int>(total % 60)) : fmt::format("{} s", total);
}

// What one decoded token reads: the weights, plus the K and V of every cached position. An
// answer of max_new tokens at the end of a full context reads, on average, ctx - max_new / 2
// positions per token.
double decode_bytes(const MemorySettings& m, int64_t max_new, const MemoryEstimate& e) {
  const double per_position = static_cast<double>(e.term("kv_cache")) / static_cast<double>(m.ctx_size);
  const double positions = std::max(1.0, static_cast<double>(m.ctx_size) - static_cast<double>(std::min(max_new, m.ctx_size)) / 2.0);
  return static_cast<double>(e.decode_bytes_per_token) + per_position * positions;
}

}  // namespace

FitReport build_fit_report(const ModelSummary& model, const FitSettings& settings, const std::vector<const Device*>& devices,
                           const DeploymentData& deployment, const std::optional<DecodeMeasurement>& here) {
  FitReport r;
  r.model_path = model.path;
  r.model_name = model.name;
  r.file_type = model.file_type;
  r.file_bytes = model.file_bytes;
  r.parameters = model.parameter_count;
  r.active_parameters = model.active_parameter_count;
  r.settings = settings;
  r.memory = estimate_memory(model, settings.memory);
  r.decode_bytes_per_token = decode_bytes(settings.memory, settings.max_new, r.memory);
  r.calibration = default_calibration();
  if (here) {
    r.calibration = calibrate(here->decode_tps, here->bytes_per_token, here->bandwidth_gbs);
    r.calibration.how += " (" + here->what + ")";
  }

  const double need_predicted_mib = static_cast<double>(r.memory.total()) / kMiB;
  const double need_seed_mib = seed000_need_mb(static_cast<double>(r.file_bytes) / kMiB);
  for (const Device* d : devices) {
    DeviceFit f;
    f.device = d;
    const double need = settings.policy == AdmissionPolicy::seed000 ? need_seed_mib : need_predicted_mib;
    f.admission = admit(need, d->usable_gb * 1024.0);
    f.speed = predict_speed(d->bandwidth_gbs, d->fp16_tflops, r.decode_bytes_per_token, r.active_parameters, r.calibration);
    if (d->measured && here) f.measured_decode_tps = here->decode_tps;
    const double tps = f.measured_decode_tps.value_or(f.speed.decode_tps);
    if (const auto rate = settings.usd_per_hour ? settings.usd_per_hour : d->usd_per_hour; rate && tps > 0)
      f.usd_per_million = cost_per_million_tokens(*rate, tps);
    if (d->watts && tps > 0) f.joules_per_token = joules_per_token(*d->watts, tps);
    r.devices.push_back(f);
  }
  for (const Network& n : deployment.networks) r.downloads.push_back({&n, download_seconds(r.file_bytes, n.mbps)});
  r.storage_gb = deployment.device_storage_gb;
  r.storage_share_pct = storage_share_pct(r.file_bytes, deployment.app_base_mb, deployment.device_storage_gb);
  const double per_user = deployment.downloads.total() + settings.updates_per_month;
  for (const CdnPrice& c : deployment.cdn) {
    const CdnMonth m = cdn_month(r.file_bytes, settings.users, per_user, c.usd_per_gb);
    r.cdn.push_back({&c, m.gigabytes, m.usd});
  }
  return r;
}

nlohmann::json fit_report_json(const FitReport& r) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json devices = json::array();
  for (const DeviceFit& f : r.devices) {
    json d = {{"device", device_json(*f.device)},
              {"admission", admission_json(f.admission)},
              {"decode_tps", {{"value", f.measured_decode_tps.value_or(f.speed.decode_tps)},
                              {"kind", f.measured_decode_tps ? "measured" : "predicted"}}},
              {"predicted_decode_tps", f.speed.decode_tps},
              {"prefill_tps_bound", opt(f.speed.prefill_tps_bound)},
              {"usd_per_million_tokens", opt(f.usd_per_million)},
              {"joules_per_token_estimate", opt(f.joules_per_token)}};
    devices.push_back(d);
  }
  json downloads = json::array();
  for (const auto& d : r.downloads) downloads.push_back({{"network", d.network->name}, {"mbps", d.network->mbps}, {"seconds", d.seconds}});
  json cdn = json::array();
  for (const auto& c : r.cdn) cdn.push_back({{"cdn", c.cdn->name}, {"usd_per_gb", c.cdn->usd_per_gb}, {"gigabytes", c.gigabytes}, {"usd", c.usd}});
  return {{"model", {{"path", r.model_path}, {"name", r.model_name}, {"file_type", r.file_type}, {"file_bytes", r.file_bytes},
                     {"parameters", r.parameters}, {"active_parameters", r.active_parameters}}},
          {"settings", {{"ctx_size", r.settings.memory.ctx_size}, {"batch_size", r.settings.memory.batch_size},
                        {"max_new", r.settings.max_new}, {"kv_type", kv_cache_type_name(r.settings.memory.kv_type)},
                        {"policy", admission_policy_name(r.settings.policy)}, {"marginal_fraction", kMarginalFraction},
                        {"users", r.settings.users}, {"updates_per_month", r.settings.updates_per_month}}},
          {"memory", memory_estimate_json(r.memory)},
          {"decode_bytes_per_token", r.decode_bytes_per_token},
          {"calibration", {{"efficiency", r.calibration.efficiency}, {"measured", r.calibration.measured}, {"how", r.calibration.how}}},
          {"devices", devices},
          {"downloads", downloads},
          {"storage_share_pct", r.storage_share_pct},
          {"cdn_per_month", cdn}};
}

std::string fit_report_text(const FitReport& r, bool explain) {
  std::string out;
  const auto& s = r.settings;
  const double params = static_cast<double>(r.parameters);
  out += fmt::format("{} ({}{:.1f} MiB, {} parameters)\n", r.model_path, r.file_type.empty() ? "" : r.file_type + ", ",
                     static_cast<double>(r.file_bytes) / kMiB,
                     params >= 1e9 ? fmt::format("{:.2f} B", params / 1e9) : fmt::format("{:.1f} M", params / 1e6));
  if (r.active_parameters != r.parameters) {
    const double active = static_cast<double>(r.active_parameters);
    out += fmt::format("a mixture of experts: {} parameters active per token (memory holds all of them; decoding reads the "
                       "active ones)\n",
                       active >= 1e9 ? fmt::format("{:.2f} B", active / 1e9) : fmt::format("{:.1f} M", active / 1e6));
  }
  out += fmt::format("context {} positions, batch {}, {} new tokens per answer, KV cache {}; admission: {}\n", s.memory.ctx_size,
                     std::min(s.memory.batch_size, s.memory.ctx_size), s.max_new, kv_cache_type_name(s.memory.kv_type),
                     s.policy == AdmissionPolicy::seed000 ? "seed 000's size x 1.6 + 600 MB" : "predicted peak memory");
  out += fmt::format("predicted peak memory on our engine: {:.1f} MiB =", static_cast<double>(r.memory.total()) / kMiB);
  for (size_t i = 0; i < r.memory.terms.size(); ++i)
    out += fmt::format("{} {} {:.1f}", i ? " +" : "", r.memory.terms[i].name, static_cast<double>(r.memory.terms[i].bytes) / kMiB);
  out += "\n";
  if (explain) {
    for (const auto& t : r.memory.terms) out += fmt::format("  {:<14} {:>10.1f} MiB  {}\n", t.name, static_cast<double>(t.bytes) / kMiB, t.detail);
    if (r.memory.kv_cache_windowed_bytes != r.memory.term("kv_cache"))
      out += fmt::format("  (a runtime that keeps only the window on sliding-window layers needs {:.1f} MiB of KV cache)\n",
                         static_cast<double>(r.memory.kv_cache_windowed_bytes) / kMiB);
    out += fmt::format("  decode reads {:.1f} MB per token (weights {:.1f} MB + KV of the cached positions)\n",
                       r.decode_bytes_per_token / 1e6, static_cast<double>(r.memory.decode_bytes_per_token) / 1e6);
  }
  out += fmt::format("speed: {}\n\n", r.calibration.how);
  out += "| device | usable | need | margin | fit | decode tok/s | prefill tok/s bound | $/1M tok | J/token (est.) |\n";
  out += "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n";
  for (const DeviceFit& f : r.devices) {
    const auto& a = f.admission;
    const std::string decode = f.measured_decode_tps ? fmt::format("{:.1f} (measured)", *f.measured_decode_tps)
                                                     : fmt::format("{:.1f} (predicted)", f.speed.decode_tps);
    out += fmt::format("| {} | {:.0f} MiB | {:.0f} MiB | {:+.0f} MiB ({:.0f}%) | {} | {} | {} | {} | {} |\n", f.device->label,
                       a.usable_mib, a.need_mib, a.margin_mib, a.headroom_pct, verdict_name(a.verdict), decode,
                       f.speed.prefill_tps_bound ? fmt::format("{:.0f}", *f.speed.prefill_tps_bound) : "-",
                       f.usd_per_million ? fmt::format("${:.4f}", *f.usd_per_million) : "-",
                       f.joules_per_token ? fmt::format("{:.3f}", *f.joules_per_token) : "-");
  }
  out += "\ndownload:";
  for (const auto& d : r.downloads) out += fmt::format(" {} ({:g} Mbps) {};", d.network->label, d.network->mbps, minutes_seconds(d.seconds));
  out += fmt::format(" app + model {:.2f}% of a {:g} GB device\n", r.storage_share_pct, r.storage_gb);
  out += fmt::format("CDN per month for {:g} users:", s.users);
  for (const auto& c : r.cdn) out += fmt::format(" {} {:.0f} GB ${:.0f};", c.cdn->label, c.gigabytes, c.usd);
  out += "\n";
  return out;
}

}  // namespace lp::decide
