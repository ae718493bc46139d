// `validate`'s code part: HumanEval completions from the model (and the reference), each run
// against its problem's tests in the sandbox, scored as pass@k (humaneval_runner.h).
#include <fmt/core.h>

#include <thread>

#include "cli/validate_sections.h"
#include "core/progress.h"
#include "validate/humaneval_runner.h"
#include "validate/validate_record.h"

namespace lp::cli {
namespace {

std::vector<validate::ProblemResult> complete_all(validate::CodeCompleter& completer,
                                                  const std::vector<validate::HumanEvalProblem>& problems,
                                                  int64_t samples, const std::string& who) {
  std::vector<validate::ProblemResult> results(problems.size());
  Progress progress("humaneval: " + who, problems.size(), 0);
  for (size_t i = 0; i < problems.size(); ++i) {
    results[i].problem = &problems[i];
    for (int64_t s = 0; s < samples; ++s) results[i].samples.push_back(completer.complete(problems[i], i, s));
    progress.advance(1, 0);
  }
  progress.finish();
  return results;
}

}  // namespace

SectionResult run_code_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                               const std::vector<validate::HumanEvalProblem>& problems,
                               const std::filesystem::path& problems_path, const validate::PythonSandbox& sandbox,
                               int64_t n_ctx, const SampleSink& sample) {
  SectionResult out;
  const SessionOptions options = session_options(flags, m.model, n_ctx);
  out.threads = options.threads;
  validate::CodeGenerationSettings settings;
  settings.prompt_format = a.prompt_format;
  settings.max_new_tokens = a.max_new_tokens;
  settings.samples = a.code_samples;
  settings.temperature = a.temperature;
  settings.top_p = a.top_p;
  settings.seed = a.seed;
  fmt::print(stderr, "validate: humaneval ({} problems x {} sample(s), {} prompts, {}){}, {} threads; sandbox: {}\n",
             problems.size(), settings.samples, settings.prompt_format,
             settings.temperature == 0 ? std::string("greedy") : fmt::format("temperature {}", settings.temperature),
             m.reference ? ", model and reference" : "", options.threads, sandbox.isolation());
  const unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<validate::ProblemResult> mine, theirs;
  {
    validate::CodeCompleter completer(m.model, m.tokenizer, a.model, options, settings);
    mine = complete_all(completer, problems, settings.samples, "model");
  }
  validate::execute_samples(mine, sandbox, workers);
  if (m.reference) {
    validate::CodeCompleter completer(*m.reference, *m.reference_tokenizer, a.reference,
                                      session_options(flags, *m.reference, n_ctx), settings);
    theirs = complete_all(completer, problems, settings.samples, "reference");
    validate::execute_samples(theirs, sandbox, workers);
  }
  nlohmann::json j = validate::humaneval_json(mine);
  j["data"] = validate::describe_file(problems_path);
  if (m.reference) {
    j["reference"] = validate::humaneval_json(theirs);
    j["comparison"] = validate::humaneval_comparison_json(mine, theirs);
  }
  for (size_t i = 0; i < mine.size(); ++i) sample(validate::humaneval_sample_json(mine[i], m.reference ? &theirs[i] : nullptr));
  out.text = validate::humaneval_text(j);
  out.metrics["humaneval"] = j;
  out.settings = {{"prompt_format", settings.prompt_format},
                  {"samples_per_problem", settings.samples},
                  {"decoding", settings.temperature == 0 ? "greedy" : "sampled"},
                  {"temperature", settings.temperature},
                  {"top_p", settings.top_p},
                  {"seed", settings.seed},
                  {"max_new_tokens", settings.max_new_tokens},
                  {"stop_sequences", settings.prompt_format == "completion" ? nlohmann::json(validate::humaneval_stop_sequences())
                                                                            : nlohmann::json::array()},
                  {"problems_limit", a.problems_limit > 0 ? nlohmann::json(a.problems_limit) : nlohmann::json(nullptr)},
                  {"sandbox", sandbox.describe()},
                  {"ctx_size", options.ctx_size}};
  return out;
}

}  // namespace lp::cli
