// report.md and report.csv: the matrix report (matrix_report.h's JSON) as a page to read and
// as one row per level for a spreadsheet.
#include <fmt/core.h>

#include "core/error.h"
#include "core/units.h"
#include "decide/matrix_report.h"

namespace lp::decide {

using nlohmann::json;

namespace {

std::string num(const json& v, const char* format, double scale = 1.0) {
  if (v.is_null()) return "—";
  return fmt::format(fmt::runtime(format), v.get<double>() * scale);
}

std::string interval(const json& e, double scale = 1.0) {
  if (e.is_null()) return "—";
  std::string s = fmt::format("{:+.1f}", e["value"].get<double>() * scale);
  if (e.contains("ci95") && !e["ci95"].is_null())
    s += fmt::format(" [{:+.1f}, {:+.1f}]", e["ci95"][0].get<double>() * scale, e["ci95"][1].get<double>() * scale);
  return s;
}

std::string tier_text(const json& t) {
  if (t.is_null()) return "—";
  std::string s = t["name"].get<std::string>() + (t.value("unsettled", false) ? " (unsettled)" : "");
  if (t.contains("benchmark_tier") && !t["benchmark_tier"].is_null() && t["benchmark_tier"] != t["name"])
    s += "; benchmark alone: " + t["benchmark_tier"].get<std::string>();
  return s;
}

// A machine's field as a record gave it (records come from other machines and may be edited):
// a number or a string of the right type, else the fallback.
double number_or(const json& m, const char* key, double fallback) {
  const auto it = m.find(key);
  return it != m.end() && it->is_number() ? it->get<double>() : fallback;
}
std::string text_or(const json& m, const char* key) {
  const auto it = m.find(key);
  return it != m.end() && it->is_string() ? it->get<std::string>() : std::string("?");
}

std::string markdown(const json& r) {
  std::string out;
  const json& model = r["model"];
  out += fmt::format("# Decision matrix: {}\n\n", model.value("name", std::string("model")));
  const json& rec = r["recommendation"];
  out += fmt::format("**Recommendation: {}**\n\n", rec["level"].is_null() ? "none" : rec["level"].get<std::string>());
  for (const auto& reason : rec["reasons"]) out += "- " + reason.get<std::string>() + "\n";
  out += fmt::format("\nBaseline: {} ({}). Suite: {}. Key metric: {}. {}\n\n", r["baseline"]["level"].get<std::string>(),
                     r["baseline"]["why"].get<std::string>(), r["suite"]["name"].get<std::string>(),
                     r["key_metric"]["description"].get<std::string>(), r["key_metric"]["caveat"].get<std::string>());
  bool any_code = false;
  for (const json& l : r["levels"]) any_code = any_code || !l.value("code", json(nullptr)).is_null();
  out += "| level | size MB | bpw | PPL | KLD | accuracy | Δ bench pp [95%] | Δ gen % [95%] | tier | pp t/s | tg t/s | TTFT ms | peak RSS MiB | $/1M | score |";
  out += any_code ? " HumanEval pass@1 | Δ code pp [95%] |\n" : "\n";
  out += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |";
  out += any_code ? " ---: | ---: |\n" : "\n";
  for (const json& l : r["levels"]) {
    const json& sp = l["speed"];
    const json same_model = l.value("same_model_as", json(nullptr));
    out += fmt::format("| {}{}{} | {:.1f} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |", l["level"].get<std::string>(),
                       l["is_baseline"].get<bool>() ? " (baseline)" : "",
                       same_model.is_string() ? " (same tensors as " + same_model.get<std::string>() + ")" : "", l["file"]["bytes"].get<double>() / 1e6,
                       num(l["bits_per_weight"], "{:.2f}"), l["perplexity"].is_null() ? "—" : num(l["perplexity"]["value"], "{:.3f}"),
                       num(l["kld_mean"], "{:.4f}"), l["accuracy"]["pooled"].is_null() ? "—" : num(l["accuracy"]["pooled"]["value"], "{:.1f}%", 100.0),
                       interval(l["benchmark_delta_pp"]), l["generation"].is_null() ? "—" : interval(l["generation"]["delta_pct"]),
                       tier_text(l["tier"]), sp.is_null() ? "—" : num(sp["pp_tps"], "{:.1f}"), sp.is_null() ? "—" : num(sp["tg_tps"], "{:.1f}"),
                       sp.is_null() ? "—" : num(sp["ttft_ms"], "{:.0f}"), sp.is_null() ? "—" : num(sp["peak_rss_bytes"], "{:.1f}", 1.0 / kMiB),
                       l["cost"].is_null() ? "—" : num(l["cost"]["usd_per_million"], "${:.4f}"),
                       l["score"].is_null() ? "—" : num(l["score"]["total"], "{:.1f}"));
    if (any_code) {
      const json code = l.value("code", json(nullptr));
      out += fmt::format(" {} | {} |", code.is_null() ? "—" : num(code["pass_at_1"], "{:.1f}%", 100.0),
                         code.is_null() ? "—" : interval(code["delta_pp"]));
    }
    out += "\n";
  }
  if (any_code) {
    out += "\nHumanEval: pass@1 of greedy completions, each run against its problem's tests in a sandbox; the change "
           "from the baseline is paired on the same problems. It is reported beside the tier, not in it (TR125's tiers "
           "are defined on the benchmark and generation deltas).\n";
  }
  out += "\n## Accuracy cliff\n\n";
  const json& c = r["accuracy_cliff"];
  out += c.is_null() ? "No level in the sweep is concerning or worse.\n"
                     : fmt::format("{} is the first level that is concerning or worse; the last safe level is {}.\n",
                                   c["level"].get<std::string>(), c["last_safe"].is_null() ? "none" : c["last_safe"].get<std::string>());
  out += fmt::format("\n## Best level per memory budget (predicted peak at {} tokens of context)\n\n", r["suite"]["deploy_ctx"].get<int64_t>());
  out += "| memory | level | fit | why |\n| --- | --- | --- | --- |\n";
  for (const json& t : r["memory_tiers"])
    out += fmt::format("| {} | {} | {} | {} |\n", t["name"].get<std::string>(), t["best"].is_null() ? "—" : t["best"].get<std::string>(),
                       t["verdict"].is_null() ? "—" : t["verdict"].get<std::string>(), t["reason"].get<std::string>());
  out += "\n## Weighted score (seed 000: quality 30, speed 25, memory 25, size 20)\n\n| level | score | quality | speed | memory | size |\n| --- | ---: | --- | --- | --- | --- |\n";
  for (const json& l : r["levels"]) {
    if (l["score"].is_null()) continue;
    const json& s = l["score"]["components"];
    out += fmt::format("| {} | {:.1f} | {} | {} | {} | {} |\n", l["level"].get<std::string>(), l["score"]["total"].get<double>(),
                       s["quality"]["working"].get<std::string>(), s["speed"]["working"].get<std::string>(),
                       s["memory"]["working"].get<std::string>(), s["size"]["working"].get<std::string>());
  }
  out += fmt::format("\nCost: ${}/hr ({}), cost = rate / (tg tokens/s x 3600) x 1M.\n", r["cost"]["usd_per_hour"].get<double>(),
                     r["cost"]["source"].get<std::string>());
  out += "\nMeasured on:";
  for (const json& m : r["machines"])
    out += fmt::format(" {} ({:.0f} cores, {:.1f} GiB, {});", text_or(m, "cpu_model"), number_or(m, "logical_cores", 0),
                       number_or(m, "memory_bytes", 0) / kGiB, text_or(m, "os"));
  out += fmt::format("\n\nTier rule: {}.\n", r["tier_rule"]["description"].get<std::string>());
  return out;
}

std::string csv(const json& r) {
  std::string out =
      "level,is_baseline,file_bytes,bits_per_weight,perplexity,kld_mean,accuracy_pooled,benchmark_delta_pp,benchmark_delta_low,"
      "benchmark_delta_high,generation_delta_pct,tier,unsettled,pp_tps,tg_tps,ttft_ms,peak_rss_bytes,predicted_peak_bytes,"
      "usd_per_million,savings_pct,score,code_pass_at_1,code_delta_pp\n";
  auto cell = [](const json& v) -> std::string {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    return fmt::format("{:.6g}", v.get<double>());
  };
  auto at = [](const json& j, std::initializer_list<const char*> path) {
    const json* p = &j;
    for (const char* k : path) {
      if (p->is_null() || !p->contains(k)) return json(nullptr);
      p = &(*p)[k];
    }
    return *p;
  };
  for (const json& l : r["levels"]) {
    const json ci = at(l, {"benchmark_delta_pp", "ci95"});
    const std::vector<json> cells = {
        l["level"], l["is_baseline"], l["file"]["bytes"], l["bits_per_weight"], at(l, {"perplexity", "value"}), l["kld_mean"],
        at(l, {"accuracy", "pooled", "value"}), at(l, {"benchmark_delta_pp", "value"}), ci.is_null() ? json(nullptr) : ci[0],
        ci.is_null() ? json(nullptr) : ci[1], at(l, {"generation", "delta_pct", "value"}), at(l, {"tier", "name"}),
        at(l, {"tier", "unsettled"}), at(l, {"speed", "pp_tps"}), at(l, {"speed", "tg_tps"}), at(l, {"speed", "ttft_ms"}),
        at(l, {"speed", "peak_rss_bytes"}), at(l, {"memory", "predicted_peak_bytes"}), at(l, {"cost", "usd_per_million"}),
        at(l, {"cost", "savings_pct"}), at(l, {"score", "total"}), at(l, {"code", "pass_at_1"}),
        at(l, {"code", "delta_pp", "value"})};
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      out += cell(cells[i]);
    }
    out += "\n";
  }
  return out;
}

}  // namespace

// The report holds values copied from records; a mistyped one is an InputError, as it is when
// the report is built.
std::string matrix_report_markdown(const json& r) {
  try {
    return markdown(r);
  } catch (const json::exception& e) {
    fail("the matrix report holds a mistyped value from a record ({})", e.what());
  }
}

std::string matrix_report_csv(const json& r) {
  try {
    return csv(r);
  } catch (const json::exception& e) {
    fail("the matrix report holds a mistyped value from a record ({})", e.what());
  }
}

}  // namespace lp::decide
