#pragma once
// The decision matrix, built from records alone (validate and bench records in one or more
// records/ folders, from one machine or several): per level its quality against the
// baseline and TR125's tier, speed, memory and cost; the accuracy cliff; the best level per
// memory tier; and a ranked recommendation with seed 000's weighted score. `matrix` writes it
// as report.json (this schema), report.md, report.csv and report.html.
//
// report.json, schema "llama-pajamas/matrix-report/1":
// {
//   "schema", "tool": {"name", "version"},
//   "model": {"source", "name", "architecture", "parameters"},
//   "suite": {"name": "quick"|"tr125"|"full", "ctx_size", "ppl_chunks", "mc_subset", "gen_prompts",
//             "bench": {"n_prompt", "n_gen", "repetitions"}, "deploy_ctx"},
//   "baseline": {"level", "why"},
//   "key_metric": {"name", "metrics": [...], "description"},       // the generation side of the tier rule
//   "tier_rule": {"thresholds": [{"tier", "min_benchmark_pp", "min_generation_pct"}], "description"},
//   "machines": [{"cpu_model", "logical_cores", "memory_bytes", "os"}],  // every machine a record came from
//   "cost": {"usd_per_hour", "source"},
//   "levels": [{                                                   // highest precision first
//     "level": "Q4_K_M", "is_baseline": false,
//     "file": {"path", "bytes", "sha256"}, "bits_per_weight",
//     "same_model_as": level | null,  // a more precise level with the same tensors (measured once)
//     "perplexity": {"value", "ci95": [lo, hi]} | null, "kld_mean": x | null, "same_top_p": x | null,
//     "accuracy": {"mmlu": ACC | null, "arc_challenge": ACC | null, "pooled": ACC | null},  // rescored (generate + TR125 letters)
//     "benchmark_delta_pp": {"value", "ci95": [lo, hi]} | null,     // pooled rescored accuracy vs baseline, paired
//     "generation": {"key_metric", "delta_pct": {"value", "ci95": [lo, hi]}} | null,
//     "code": {"pass_at_1", "wilson95": [lo, hi], "problems",     // HumanEval (suite full or --code); not in the tier
//              "delta_pp": {"value", "ci95", "paired_problems", "only_level", "only_baseline"} | null} | null,
//     "tier": {"name": "negligible"|"acceptable"|"concerning"|"unacceptable", "explanation",
//              "at_lower": name, "at_upper": name, "unsettled": bool} | null,
//     "speed": {"pp_tps", "tg_tps", "ttft_ms", "load_ms", "peak_rss_bytes"} | null,   // measured
//     "memory": {"predicted_peak_bytes"},                          // memory model, at suite.deploy_ctx
//     "cost": {"usd_per_million", "savings_pct"} | null,
//     "score": {"total", "components": {"quality"|"speed"|"memory"|"size": {"points", "weight", "working"}}} | null
//   }],
//   "accuracy_cliff": {"level", "last_safe": level | null, "size_pp": x | null} | null,
//   "memory_tiers": [{"name": "4 GB", "usable_gb", "best": level | null, "verdict": "PASS"|"MARGINAL"|null,
//                     "reason"}],
//   "recommendation": {"level": level | null, "reasons": [text], "ranking": [{"level", "score"}]},
//   "records": {"dirs": [...], "count"}
// }
// ACC = {"value": fraction, "correct", "questions"}.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lp::decide {

struct MatrixReportInputs {
  std::vector<std::filesystem::path> record_dirs;
  double usd_per_hour = 0.035;  // TR125's RTX 4080 rate, unless the user gives another
  std::string cost_source = "TR125's $0.035/hr (RTX 4080 tier)";
  int64_t deploy_ctx = 2048;    // the context the memory tiers are judged at
  nlohmann::json score_weights;  // seed 000's weights, overridden by these keys (may be null)
  // "tr125": the tier is the worse of the benchmark and the generation delta (TR125's rule);
  // "benchmark": the benchmark delta alone decides (the generation delta is still reported).
  std::string tier_rule = "tr125";
};

// InputError when the folders hold no matrix records, or records that disagree on the model.
nlohmann::json build_matrix_report(const MatrixReportInputs& in);

std::string matrix_report_markdown(const nlohmann::json& report);
std::string matrix_report_csv(const nlohmann::json& report);

}  // namespace lp::decide
