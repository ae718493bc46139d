// `fit`: will this file run on that device, how fast, and at what cost. Reads the file's
// headers only (a multi-GB model is judged in milliseconds); --calibrate also decodes a few
// tokens here to turn the bandwidth-based speed prediction into a calibrated one.
#include <fmt/core.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "core/error.h"
#include "core/memory_bandwidth.h"
#include "core/parallel.h"
#include "core/thread_pool.h"
#include "decide/fit_report.h"
#include "engine/decode_traffic.h"
#include "engine/inference_session.h"
#include "kernels/kv_rows.h"

namespace lp::cli {
namespace {

// This machine's read bandwidth over a buffer larger than any cache, on `threads` threads.
double probe_bandwidth_gbs(unsigned threads) {
  std::vector<uint8_t> buffer(size_t{512} << 20);
  std::memset(buffer.data(), 1, buffer.size());  // resident, not the shared zero page
  ThreadPool pool(threads);
  const std::span<const uint8_t> region(buffer);
  return measure_read_bandwidth(pool, std::span(&region, 1)) / 1e9;
}

// Decodes `n` tokens one at a time on an empty context, with the read bandwidth probed over
// the model's own weights before and after (as `bench --bandwidth` does).
decide::DecodeMeasurement measure_decode(const std::string& path, unsigned threads) {
  constexpr int64_t kTokens = 32;
  const auto model = LoadedModel::open(path, 64);
  SessionOptions options;
  options.ctx_size = 64;
  options.batch_size = 64;
  options.threads = threads;
  InferenceSession session(*model, options);
  std::vector<float> logits(static_cast<size_t>(session.vocab_size()));
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(session.vocab_size() - 1));
  auto decode = [&](int64_t n) {
    session.rewind(0);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < n; ++i) {
      const int32_t t = token(rng);
      session.eval(std::span(&t, 1), logits, false);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  decode(8);  // warm-up: pages the weights in
  const auto regions = decode_weight_regions(*model);
  const double before = measure_read_bandwidth(session.pool(), regions);
  const double seconds = decode(kTokens);
  const double after = measure_read_bandwidth(session.pool(), regions);
  decide::DecodeMeasurement m;
  m.decode_tps = static_cast<double>(kTokens) / seconds;
  m.bytes_per_token = decode_traffic(*model, 0, kTokens, options.kv_type).total();
  m.bandwidth_gbs = 0.5 * (before + after) / 1e9;
  m.what = fmt::format("tg{} on an empty context, {} threads", kTokens, threads);
  return m;
}

}  // namespace

void add_fit_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("fit", "Will a model file run on a device: memory needed, PASS/MARGINAL/FAIL, speed and cost");
  struct Options {
    std::string model, device = "all", devices_file, preset = "safe", policy = "predicted", kv_type = "f16";
    int64_t ctx = 0, max_new = 0, batch = 512;
    unsigned threads = 0;
    double users = 10000, updates = 0;
    std::optional<double> usd_per_hour;
    bool json = false, explain = false, calibrate = false;
  };
  auto o = std::make_shared<Options>();
  add_model_option(cmd, "model", o->model, "GGUF file or Hugging Face model directory")->required();
  cmd->add_option("--device", o->device, "Device names, comma-separated, or all (this: the machine you are on)")->capture_default_str();
  cmd->add_option("--devices", o->devices_file, "A JSON catalog of your own devices (added to the built-in ones; same names replace them)");
  cmd->add_option("--preset", o->preset, "Context and answer length: safe (512/128), guard (384/96), full (1024/256), chat (4096/512), long (32768/1024)")
      ->capture_default_str();
  cmd->add_option("-c,--ctx-size", o->ctx, "Context size (overrides the preset's)");
  cmd->add_option("-n,--max-new", o->max_new, "Tokens per answer (overrides the preset's)");
  cmd->add_option("-b,--batch-size", o->batch, "Tokens per forward pass while reading a prompt")->capture_default_str();
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16, f32, q8_0 or q4_0")->check(CLI::IsMember(kv_cache_type_names()))->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Threads for this machine's measurements (default: every core)");
  cmd->add_option("--policy", o->policy, "Admission: predicted (the memory model's peak) or seed000 (size x 1.6 + 600 MB)")
      ->check(CLI::IsMember({"predicted", "seed000"}))
      ->capture_default_str();
  cmd->add_option("--usd-per-hour", o->usd_per_hour, "Hourly rate for the cost per 1M tokens on every device (default: the catalog's, where it has one)");
  cmd->add_option("--users", o->users, "Users downloading the model, for the CDN cost")->capture_default_str();
  cmd->add_option("--updates-per-month", o->updates, "Full model re-downloads per user per month (updates)")->capture_default_str();
  cmd->add_flag("--calibrate", o->calibrate, "Decode a few tokens here to calibrate the speed predictions (loads the model)");
  cmd->add_flag("--explain", o->explain, "Print every term of the memory estimate");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->callback([o] {
    if (o->usd_per_hour && *o->usd_per_hour < 0) fail("--usd-per-hour must not be negative");
    if (o->users < 0 || o->updates < 0) fail("--users and --updates-per-month must not be negative");
    if (o->batch <= 0) fail("--batch-size must be positive");
    const auto& deployment = decide::builtin_deployment_data();
    const decide::ContextPreset& preset = deployment.preset(o->preset);
    const ModelSummary model = summarize_model(o->model);
    decide::FitSettings s;
    s.memory.ctx_size = o->ctx > 0 ? o->ctx : preset.ctx;
    // A preset longer than the model's own context is capped there; an explicit -c is not.
    if (o->ctx <= 0 && model.hparams.context_length > 0)
      s.memory.ctx_size = std::min<int64_t>(s.memory.ctx_size, static_cast<int64_t>(model.hparams.context_length));
    if (o->ctx < 0) fail("--ctx-size must be positive");
    s.max_new = o->max_new > 0 ? o->max_new : preset.max_new;
    s.memory.batch_size = o->batch;
    s.memory.kv_type = *kv_cache_type_from_name(o->kv_type);
    const unsigned threads = o->threads > 0 ? o->threads : default_thread_count();
    s.memory.threads = threads;
    s.policy = decide::admission_policy(o->policy);
    s.usd_per_hour = o->usd_per_hour;
    s.users = o->users;
    s.updates_per_month = o->updates;

    decide::DeviceCatalog catalog = decide::builtin_device_catalog();
    if (!o->devices_file.empty()) decide::add_devices_file(catalog, o->devices_file);
    const bool wants_here = o->device == "all" || o->calibrate || ("," + o->device + ",").find(",this,") != std::string::npos;
    std::optional<decide::DecodeMeasurement> here;
    if (wants_here) {
      if (o->calibrate) here = measure_decode(o->model, threads);
      catalog.devices.push_back(decide::this_machine(here ? here->bandwidth_gbs : probe_bandwidth_gbs(threads)));
    }
    const auto devices = decide::select_devices(catalog, o->device);
    const decide::FitReport report = decide::build_fit_report(model, s, devices, deployment, here);
    if (o->json) print_json(decide::fit_report_json(report));
    else fmt::print("{}", decide::fit_report_text(report, o->explain));
  });
}

}  // namespace lp::cli
