#pragma once
// The parts of `validate`, one file each: text (perplexity, KL-divergence), multiple choice
// (MMLU, ARC), generation fidelity and code (HumanEval). validate_command.cpp checks the arguments, loads the
// models and data once, runs the parts asked for and writes one record of what they return.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/engine_options.h"
#include "engine/model_weights.h"
#include "tokenizer/tokenizer.h"
#include "validate/fidelity_prompts.h"
#include "validate/fidelity_runner.h"
#include "validate/humaneval_problems.h"
#include "validate/mc_runner.h"
#include "validate/python_sandbox.h"
#include "validate/reference_logits_file.h"

namespace lp::cli {

struct ValidateArgs {
  std::string model, reference, reference_logits, save_reference_logits, text, metrics, out;
  std::string subset, samples, data_dir, prompts;  // samples: one JSONL file for mmlu/arc and gen
  std::string reference_answers;                   // gen: the reference's answers from earlier samples
  std::string mc_scoring = "loglikelihood";
  // humaneval
  std::string problems, prompt_format = "completion", python;
  int64_t code_samples = 1, max_new_tokens = 512, problems_limit = 0;
  double temperature = 0.0, top_p = 0.95, timeout = 3.0;
  uint64_t seed = 0;
  bool allow_unisolated_code = false;
  int shots = 0;
  int64_t chunks = 0;
  std::string shard;  // "I/N": the I-th of N parts of the windows and of each task's questions
  bool json = false;
};

// The loaded model and reference (when given), shared by every part.
struct ValidateModels {
  const LoadedModel& model;
  const Tokenizer& tokenizer;
  const LoadedModel* reference = nullptr;
  const Tokenizer* reference_tokenizer = nullptr;
};

// What a part adds to the record: metrics by name, its settings, its text report.
struct SectionResult {
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json settings = nlohmann::json::object();
  std::string text;
  unsigned threads = 0;
  nlohmann::json shard = nlohmann::json::object();  // --shard: what merges this part with the others (shard_merge.h)
};

// Perplexity and/or KL-divergence over `text_path` (or the reference file's stored tokens when
// no text is given), in windows of n_ctx tokens.
SectionResult run_text_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                               validate::ReferenceLogitsReader* ref_file,
                               const std::optional<std::filesystem::path>& text_path, int64_t n_ctx, bool want_ppl,
                               bool want_kld);

// Receives one JSON object per question or prompt, for --samples.
using SampleSink = std::function<void(const nlohmann::json& sample)>;

// MMLU/ARC tasks scored as --mc-scoring says, the reference too when there is one.
SectionResult run_mc_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                             const std::vector<validate::McTask>& tasks, const std::filesystem::path& data_dir,
                             int64_t n_ctx, const SampleSink& sample);

// Generation fidelity of the model against the reference (which must be loaded) on `prompts`;
// the reference's answers come from `cached` when given (--reference-answers).
SectionResult run_gen_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                              const std::vector<validate::FidelityPrompt>& prompts,
                              const validate::ReferenceAnswers* cached, int64_t n_ctx, const SampleSink& sample);

// HumanEval: completions of `problems` by the model (and the reference), run in `sandbox`.
SectionResult run_code_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                               const std::vector<validate::HumanEvalProblem>& problems,
                               const std::filesystem::path& problems_path, const validate::PythonSandbox& sandbox,
                               int64_t n_ctx, const SampleSink& sample);

}  // namespace lp::cli
