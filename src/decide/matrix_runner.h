#pragma once
// `matrix`'s sweep: for each level, the model file (quantized once), its quality against the
// baseline (perplexity + KL-divergence through reference logits saved once, MMLU + ARC,
// generation fidelity against the baseline's greedy answers, and HumanEval where the suite or
// --code asks) and its speed and memory. Each
// step runs as a child process of our own binary (a fresh process, so each benchmark's peak
// resident memory is its own) and leaves one record (matrix_records.h); a step whose record
// exists is skipped, so a killed sweep resumes where it stopped. The steps are the sweep
// graph's (sweep_graph.h): run_matrix runs them all here in stage order; run_matrix_step runs
// one (what a Slurm job does) once the steps before it left their records. With --shards N a
// level's text and mc steps are N `validate --shard` children and a merge (matrix_shards.h).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "decide/sweep_graph.h"

namespace lp::decide {

struct StepEvent {
  size_t index = 0, total = 0;  // 1-based position in the sweep
  std::string step, level;
  bool started = false;         // true: about to run; false: finished (ran or reused)
  bool reused = false;          // the record was already there
  double seconds = 0;           // this step's time (0 when reused)
  double elapsed = 0;           // since the sweep began
  double eta_seconds = -1;      // the rest of the sweep, from the finished steps' rates; < 0: unknown
  std::string same_model_as;    // not run: this level's tensors are that level's (its result copied)
};

struct MatrixPlanSummary {
  std::string baseline, baseline_why;
  std::vector<std::string> levels;
  size_t steps = 0, ran = 0, reused = 0, copied = 0;  // copied: same file as another level
};

// InputError for a missing source, an unknown level or suite; a step that fails names its log.
MatrixPlanSummary run_matrix(const MatrixOptions& options, const std::function<void(const StepEvent&)>& progress);

// One step of the graph, as the local loop runs it (its record reused or copied from a level
// with the same tensors when it can be). InputError when a step it needs has no record yet.
// Its children's messages go to OUT/logs/STEP-LEVEL.log; its temporaries to OUT/tmp/STEP-LEVEL/.
void run_matrix_step(const MatrixOptions& options, const SweepStep& step,
                     const std::function<void(const StepEvent&)>& progress);

struct StepState {
  SweepStep step;
  std::string stage;
  bool done = false;
  std::filesystem::path record;  // empty while a step before it has no record (its key is not known yet)
};

// Every step of the graph and whether its record is there; runs and writes nothing.
std::vector<StepState> matrix_step_states(const MatrixOptions& options);

}  // namespace lp::decide
