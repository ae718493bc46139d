#include "decide/sweep_graph.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>

#include "core/error.h"
#include "core/host_info.h"
#include "decide/matrix_suite.h"
#include "model/model_summary.h"
#include "validate/humaneval_problems.h"

namespace lp::decide {

std::vector<SweepStage> sweep_stages(const std::vector<std::string>& levels, const std::string& baseline, bool code,
                                     int shards) {
  std::vector<SweepStage> stages = {{"model", {}, false}, {"reference", {{"reference", baseline}}, false},
                                    {"quality", {}, false}, {"merge", {}, false}, {"bench", {}, true}};
  // A text or mc step: whole, or its shards now and their merge a stage later.
  const auto quality = [&](const std::string& step, const std::string& level) {
    if (shards <= 1) return stages[2].steps.push_back({step, level});
    for (int i = 1; i <= shards; ++i) stages[2].steps.push_back({shard_step(step, i, shards), level});
    stages[3].steps.push_back({step, level});
  };
  for (const auto& level : levels) {
    const bool base = level == baseline;
    stages[0].steps.push_back({"model", level});
    // The baseline has no text step (it is the reference) and no gen step (it is what gen compares with).
    if (!base) quality("text", level);
    quality("mc", level);
    if (!base) stages[2].steps.push_back({"gen", level});
    if (code) stages[2].steps.push_back({"code", level});
    stages[4].steps.push_back({"bench", level});
  }
  if (stages[3].steps.empty()) stages.erase(stages.begin() + 3);  // unsharded: the graph it always was
  return stages;
}

std::string shard_step(const std::string& step, int index, int count) { return fmt::format("{}#{}/{}", step, index, count); }

ShardOf split_shard_step(const std::string& step) {
  const auto hash = step.find('#'), slash = step.find('/');
  if (hash == std::string::npos || slash == std::string::npos || slash < hash) return {step, 0, 0};
  try {
    size_t used_i = 0, used_n = 0;
    const int i = std::stoi(step.substr(hash + 1, slash - hash - 1), &used_i), n = std::stoi(step.substr(slash + 1), &used_n);
    if (used_i == slash - hash - 1 && used_n == step.size() - slash - 1 && n >= 2 && n <= kMaxShards && i >= 1 && i <= n)
      return {step.substr(0, hash), i, n};
  } catch (const std::exception&) {
  }
  return {step, 0, 0};
}

namespace {

// The level the others are compared with: the one given, else the most precise, except that
// TR125 measured against Q8_0 where FP16 does not fit: F16 needs about 2 bytes a weight plus a
// quarter for the context and buffers.
void pick_sweep_baseline(const MatrixOptions& o, const ModelSummary& source, SweepPlan& p) {
  if (!o.baseline.empty()) {
    level_precision_rank(o.baseline);
    p.baseline = o.baseline;
    p.baseline_why = o.baseline_why.empty() ? "chosen with --baseline" : o.baseline_why;
    return;
  }
  const std::string best = p.levels.front();
  p.baseline = best;
  p.baseline_why = fmt::format("the highest-precision level of the sweep ({})", best);
  const double f16_need = static_cast<double>(source.parameter_count) * 2.0 * 1.25;
  const double available = static_cast<double>(host_info().available_bytes);
  if ((best == "F16" || best == "BF16" || best == "F32") && available > 0 && f16_need > available) {
    p.baseline = "Q8_0";
    p.baseline_why = fmt::format("Q8_0: {} needs about {:.1f} GB here and {:.1f} GB is available (TR125's rule)", best,
                                 f16_need / 1e9, available / 1e9);
  }
}

}  // namespace

size_t SweepPlan::step_count() const {
  size_t n = 0;
  for (const auto& s : stages) n += s.steps.size();
  return n;
}

SweepPlan plan_sweep(const MatrixOptions& o) {
  std::error_code ec;
  if (!std::filesystem::exists(o.source, ec)) fail("{} does not exist", o.source.string());
  if (o.shards < 1 || o.shards > kMaxShards) fail("--shards must be from 1 to {}, not {}", kMaxShards, o.shards);
  const MatrixSuite& suite = matrix_suite(o.suite);
  SweepPlan p;
  p.levels = o.levels.empty() ? default_matrix_levels() : o.levels;
  for (const auto& l : p.levels) level_precision_rank(l);  // an unknown name fails before anything runs
  const auto by_precision = [](const std::string& a, const std::string& b) {
    return level_precision_rank(a) < level_precision_rank(b);
  };
  std::stable_sort(p.levels.begin(), p.levels.end(), by_precision);
  pick_sweep_baseline(o, summarize_model(o.source), p);
  if (std::find(p.levels.begin(), p.levels.end(), p.baseline) == p.levels.end()) p.levels.push_back(p.baseline);
  std::stable_sort(p.levels.begin(), p.levels.end(), by_precision);
  p.levels.erase(std::unique(p.levels.begin(), p.levels.end()), p.levels.end());
  p.code = o.code.value_or(suite.code);
  // HumanEval's problems are found (or their absence reported) before the sweep starts.
  if (p.code) {
    try {
      p.problems = o.problems.empty() ? validate::default_humaneval_path() : o.problems;
    } catch (const InputError& e) {
      fail("{} (or pass --no-code to sweep without HumanEval)", e.what());
    }
    if (!std::filesystem::exists(p.problems)) fail("problems file {} does not exist", p.problems.string());
  }
  p.stages = sweep_stages(p.levels, p.baseline, p.code, o.shards);
  return p;
}

SweepStep parse_sweep_step(const std::string& id) {
  static constexpr std::array<const char*, 7> kSteps = {"model", "reference", "text", "mc", "gen", "code", "bench"};
  const auto colon = id.find(':');
  if (colon != std::string::npos && colon + 1 < id.size()) {
    const std::string step = id.substr(0, colon);
    const ShardOf shard = split_shard_step(step);
    for (const char* s : kSteps)
      if (shard.step == s && (shard.count == 0 || shard.step == "text" || shard.step == "mc")) return {step, id.substr(colon + 1)};
  }
  fail("\"{}\" is not a sweep step (STEP:LEVEL, STEP one of model, reference, text, mc, gen, code, bench, or a shard "
       "of text or mc: text#I/N)", id);
}

}  // namespace lp::decide
