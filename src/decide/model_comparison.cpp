#include "decide/model_comparison.h"

#include <fmt/core.h>

#include <cmath>
#include <fstream>

#include "core/child_process.h"
#include "core/error.h"
#include "core/units.h"
#include "decide/json_path.h"
#include "model/model_summary.h"
#include "stats/intervals.h"

namespace lp::decide {
namespace {

// Runs one of our subcommands with its JSON on stdout into `out`, and reads it back.
nlohmann::json run_step(const std::string& name, std::vector<std::string> args, const CompareOptions& o,
                        bool our_engine = true) {
  const std::filesystem::path out = o.work_dir / (name + ".json");
  const std::filesystem::path log = o.work_dir / (name + ".log");
  args.insert(args.begin(), self_executable().string());
  if (o.threads > 0 && our_engine) args.insert(args.end(), {"-t", std::to_string(o.threads)});
  const ChildResult r = run_child(args, out, log);
  if (r.exit_code != 0) fail("compare: step '{}' failed (exit {}); its log is {}", name, r.exit_code, log.string());
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) fail("compare: step '{}' wrote no JSON record ({})", name, out.string());
  return j;
}

double number_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const auto* p = json_at(j, path);
  if (p == nullptr || !p->is_number()) fail("compare: a record lacks {}", fmt::format("{}", fmt::join(path, ".")));
  return p->get<double>();
}

struct BenchResult {
  double pp = 0, pp_sd = 0, tg = 0, tg_sd = 0, ttft_ms = 0, peak_rss = 0, size = 0, params = 0;
  std::string type;
};

// bench's llama-bench-style JSON: one entry per test (ppN, tgN).
BenchResult read_bench(const nlohmann::json& j, const CompareOptions& o) {
  BenchResult r;
  double pp_seconds = 0, tg_seconds_per_token = 0;
  for (const auto& t : j) {
    const std::string test = t.value("test", "");
    auto mean = [](const nlohmann::json& samples) {
      double s = 0;
      for (const auto& v : samples) s += v.get<double>();
      return samples.empty() ? 0.0 : s / static_cast<double>(samples.size());
    };
    if (test.rfind("pp", 0) == 0) {
      r.pp = t.value("avg_ts", 0.0);
      r.pp_sd = t.value("stddev_ts", 0.0);
      pp_seconds = mean(t["samples_s"]);
    } else if (test.rfind("tg", 0) == 0) {
      r.tg = t.value("avg_ts", 0.0);
      r.tg_sd = t.value("stddev_ts", 0.0);
      tg_seconds_per_token = mean(t["samples_s"]) / std::max(1, o.gen_tokens);
    }
    r.peak_rss = std::max(r.peak_rss, t.value("peak_rss_bytes", 0.0));
    r.size = t.value("model_size", 0.0);
    r.params = t.value("model_n_params", 0.0);
    r.type = t.value("model_type", "");
  }
  // Time to first token: the prompt read in one pass, then one decode step.
  r.ttft_ms = 1000.0 * (pp_seconds + tg_seconds_per_token);
  return r;
}

std::string fixed(double v, int digits) { return fmt::format("{:.{}f}", v, digits); }

CompareRow ratio_row(const std::string& metric, double a, double b, const std::string& a_text, const std::string& b_text,
                     bool higher_is_better) {
  const double ratio = a != 0 ? b / a : NAN;
  return {metric, a, b, a_text, b_text,
          std::isfinite(ratio) ? fmt::format("x{:.3g}{}", ratio, ratio == 1.0 ? "" : (ratio > 1) == higher_is_better ? " (B better)" : " (A better)") : "",
          {{"ratio", std::isfinite(ratio) ? nlohmann::json(ratio) : nlohmann::json(nullptr)}}};
}

void add_speed_rows(Comparison& c, const BenchResult& a, const BenchResult& b, const CompareOptions& o) {
  const auto with_sd = [](double v, double sd) { return fmt::format("{:.1f} ± {:.1f}", v, sd); };
  if (o.prompt_tokens > 0) {
    c.rows.push_back(ratio_row(fmt::format("pp{} (tokens/s)", o.prompt_tokens), a.pp, b.pp, with_sd(a.pp, a.pp_sd),
                               with_sd(b.pp, b.pp_sd), true));
  }
  if (o.gen_tokens > 0) {
    c.rows.push_back(ratio_row(fmt::format("tg{} (tokens/s)", o.gen_tokens), a.tg, b.tg, with_sd(a.tg, a.tg_sd),
                               with_sd(b.tg, b.tg_sd), true));
  }
  if (o.prompt_tokens > 0 && o.gen_tokens > 0) {
    c.rows.push_back(ratio_row(fmt::format("TTFT, {}-token prompt (ms)", o.prompt_tokens), a.ttft_ms, b.ttft_ms,
                               fixed(a.ttft_ms, 1), fixed(b.ttft_ms, 1), false));
  }
}

void add_memory_rows(Comparison& c, const BenchResult& a, const BenchResult& b, const CompareOptions& o) {
  const auto mib = [](double bytes) { return fmt::format("{:.1f} MiB", bytes / kMiB); };
  // On disk: the GGUF file (all its parts) or the directory's safetensors files.
  const double disk_a = static_cast<double>(summarize_model(o.a).file_bytes);
  const double disk_b = static_cast<double>(summarize_model(o.b).file_bytes);
  c.rows.push_back(ratio_row("size on disk", disk_a, disk_b, mib(disk_a), mib(disk_b), false));
  const double bpw_a = a.params > 0 ? 8 * disk_a / a.params : 0, bpw_b = b.params > 0 ? 8 * disk_b / b.params : 0;
  c.rows.push_back(ratio_row("bits per weight (on disk)", bpw_a, bpw_b, fixed(bpw_a, 3), fixed(bpw_b, 3), false));
  // The engine's copy: MLX groups are repacked at load (levels of 6 and 8 bits as bytes).
  c.rows.push_back(ratio_row("weights in memory", a.size, b.size, mib(a.size), mib(b.size), false));
  c.rows.push_back(ratio_row("peak RSS", a.peak_rss, b.peak_rss, mib(a.peak_rss), mib(b.peak_rss), false));
}

struct Quality {
  double ppl = 0, ppl_se = 0, kld = 0, kld_low = 0, kld_high = 0;
};

Quality quality_of(const nlohmann::json& record, bool of_reference) {
  Quality q;
  q.ppl = number_at(record, {"metrics", "kld", "perplexity", of_reference ? "ppl_base" : "ppl_q", "value"});
  q.ppl_se = number_at(record, {"metrics", "kld", "perplexity", of_reference ? "ppl_base" : "ppl_q", "se"});
  if (!of_reference) {
    q.kld = number_at(record, {"metrics", "kld", "kl_divergence", "mean", "value"});
    const auto* ci = json_at(record, {"metrics", "kld", "kl_divergence", "mean", "ci95"});
    if (ci != nullptr && ci->is_array() && ci->size() == 2) {
      q.kld_low = (*ci)[0].get<double>();
      q.kld_high = (*ci)[1].get<double>();
    }
  }
  return q;
}

void add_quality_rows(Comparison& c, const Quality& a, const Quality& b, bool a_is_reference, const nlohmann::json& paired,
                      const CompareOptions& o) {
  const auto ppl_text = [](const Quality& q) { return fmt::format("{:.3f} ± {:.3f}", q.ppl, q.ppl_se); };
  c.rows.push_back(ratio_row("perplexity", a.ppl, b.ppl, ppl_text(a), ppl_text(b), false));
  const auto kld_text = [](const Quality& q) { return fmt::format("{:.5f} [{:.5f}, {:.5f}]", q.kld, q.kld_low, q.kld_high); };
  CompareRow kld{a_is_reference ? "KL-divergence vs A" : "KL-divergence vs reference",
                 a_is_reference ? nlohmann::json(0.0) : nlohmann::json(a.kld), b.kld,
                 a_is_reference ? "0 (reference)" : kld_text(a), kld_text(b),
                 a_is_reference ? "" : fmt::format("{:+.5f}", b.kld - a.kld),
                 {{"difference", a_is_reference ? b.kld : b.kld - a.kld}}};
  c.rows.push_back(std::move(kld));

  // The question set, scored for both in one pass: B is the model, A the reference.
  const auto* cmp = json_at(paired, {"metrics", o.questions.c_str(), "comparison", "acc"});
  if (cmp == nullptr) fail("compare: the paired record has no {} comparison", o.questions);
  const double n = number_at(*cmp, {"items"});
  const double acc_a = number_at(*cmp, {"reference", "value"}), acc_b = number_at(*cmp, {"model", "value"});
  const auto only_b = static_cast<uint64_t>(number_at(*cmp, {"mcnemar", "only_model"}));
  const auto only_a = static_cast<uint64_t>(number_at(*cmp, {"mcnemar", "only_reference"}));
  const double p = number_at(*cmp, {"mcnemar", "p_exact"});
  // The per-question differences are fully described by the discordant counts: +1 where only B
  // is right, -1 where only A is, 0 elsewhere; their mean's bootstrap interval is the difference's.
  std::vector<double> differences(static_cast<size_t>(n), 0.0);
  for (uint64_t i = 0; i < only_b && i < differences.size(); ++i) differences[i] = 1.0;
  for (uint64_t i = 0; i < only_a && only_b + i < differences.size(); ++i) differences[only_b + i] = -1.0;
  const stats::Interval ci = stats::bootstrap_mean_interval(differences);
  const double diff = acc_b - acc_a;
  c.rows.push_back({fmt::format("{} accuracy ({} questions)", o.questions, static_cast<int>(n)), acc_a, acc_b,
                    fmt::format("{:.1f}%", 100 * acc_a), fmt::format("{:.1f}%", 100 * acc_b),
                    fmt::format("{:+.1f} pp [{:+.1f}, {:+.1f}], McNemar p = {:.3f}", 100 * diff, 100 * ci.low,
                                100 * ci.high, p),
                    {{"difference", diff}, {"ci95", {ci.low, ci.high}}, {"only_a", only_a}, {"only_b", only_b},
                     {"mcnemar_p_exact", p}}});
}

std::vector<std::string> validate_args(const std::filesystem::path& model, const std::filesystem::path& reference,
                                       const std::string& metrics, const CompareOptions& o) {
  std::vector<std::string> args = {"validate", model.string(), "--reference", reference.string(), "--metrics", metrics,
                                   "--json"};
  // validate refuses settings for metrics it was not asked for.
  if (metrics.find(o.questions) != std::string::npos) {
    args.insert(args.end(), {"--subset", o.subset});
    if (!o.data_dir.empty()) args.insert(args.end(), {"--data-dir", o.data_dir.string()});
  }
  if (metrics.find("kld") != std::string::npos) {
    if (o.chunks > 0) args.insert(args.end(), {"--chunks", std::to_string(o.chunks)});
    if (!o.text.empty()) args.insert(args.end(), {"-f", o.text.string()});
  }
  return args;
}

}  // namespace

Comparison compare_models(const CompareOptions& o, const std::function<void(const std::string&)>& progress) {
  std::error_code ec;
  for (const auto& m : {o.a, o.b}) {
    if (!std::filesystem::exists(m, ec)) fail("{} does not exist", m.string());
  }
  if (!o.reference.empty() && !std::filesystem::exists(o.reference, ec)) fail("{} does not exist", o.reference.string());
  std::filesystem::create_directories(o.work_dir, ec);
  if (!std::filesystem::is_directory(o.work_dir, ec)) fail("cannot use {} for compare's records", o.work_dir.string());
  Comparison c;
  if (o.speed || o.memory) {
    BenchResult r[2];
    for (int i = 0; i < 2; ++i) {
      const auto& model = i == 0 ? o.a : o.b;
      progress(fmt::format("benchmarking {} ({})", i == 0 ? "A" : "B", model.string()));
      const auto j = run_step(i == 0 ? "bench-a" : "bench-b",
                              {"bench", model.string(), "-p", std::to_string(std::max(0, o.prompt_tokens)), "-n",
                               std::to_string(std::max(0, o.gen_tokens)), "-r", std::to_string(o.repetitions), "-o", "json",
                               "--backend", i == 0 ? o.backend_a : o.backend_b},
                              o, (i == 0 ? o.backend_a : o.backend_b) == "cpu");
      c.records[i == 0 ? "bench_a" : "bench_b"] = j;
      r[i] = read_bench(j, o);
    }
    if (o.speed) add_speed_rows(c, r[0], r[1], o);
    if (o.memory) add_memory_rows(c, r[0], r[1], o);
  }
  if (o.quality) {
    const std::string text_metrics = "perplexity,kld";
    if (o.reference.empty()) {
      progress("scoring B against A (perplexity, KL-divergence, " + o.questions + ")");
      const auto j = run_step("validate-b-vs-a", validate_args(o.b, o.a, text_metrics + "," + o.questions, o), o);
      c.records["validate_b_vs_a"] = j;
      add_quality_rows(c, quality_of(j, true), quality_of(j, false), true, j, o);
    } else {
      progress("scoring A against the reference");
      const auto ja = run_step("validate-a", validate_args(o.a, o.reference, text_metrics, o), o);
      progress("scoring B against the reference");
      const auto jb = run_step("validate-b", validate_args(o.b, o.reference, text_metrics, o), o);
      progress("scoring B against A on " + o.questions);
      const auto jp = run_step("validate-b-vs-a", validate_args(o.b, o.a, o.questions, o), o);
      c.records["validate_a"] = ja;
      c.records["validate_b"] = jb;
      c.records["validate_b_vs_a"] = jp;
      add_quality_rows(c, quality_of(ja, false), quality_of(jb, false), false, jp, o);
    }
  }
  return c;
}

std::string comparison_table(const Comparison& c, const CompareOptions& o) {
  std::string out = fmt::format("A: {} (backend {})\nB: {} (backend {})\n", o.a.string(), o.backend_a, o.b.string(),
                                o.backend_b);
  if (o.quality && (o.backend_a != "cpu" || o.backend_b != "cpu")) out += "quality: our engine's (the backends set speed and memory)\n";
  if (!o.reference.empty()) out += fmt::format("reference: {}\n", o.reference.string());
  out += "\n| metric | A | B | B against A |\n|---|---:|---:|---|\n";
  for (const auto& r : c.rows) out += fmt::format("| {} | {} | {} | {} |\n", r.metric, r.a_text, r.b_text, r.delta_text);
  return out;
}

nlohmann::json comparison_json(const Comparison& c, const CompareOptions& o) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : c.rows) rows.push_back({{"metric", r.metric}, {"a", r.a}, {"b", r.b}, {"b_against_a", r.delta}});
  return {{"a", o.a.string()},
          {"b", o.b.string()},
          {"reference", o.reference.empty() ? o.a.string() : o.reference.string()},
          {"settings",
           {{"backend_a", o.backend_a}, {"backend_b", o.backend_b}, {"prompt_tokens", o.prompt_tokens}, {"gen_tokens", o.gen_tokens}, {"repetitions", o.repetitions},
            {"chunks", o.chunks}, {"questions", o.questions}, {"subset", o.subset}}},
          {"rows", rows},
          {"records", c.records}};
}

}  // namespace lp::decide
