// `validate`'s generation-fidelity part: the model and the reference answer the same prompts
// greedily and the model's answers are scored against the reference's (fidelity_runner.h).
#include <fmt/core.h>

#include "cli/validate_sections.h"
#include "validate/fidelity_runner.h"
#include "validate/validate_record.h"

namespace lp::cli {

SectionResult run_gen_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                              const std::vector<validate::FidelityPrompt>& prompts,
                              const validate::ReferenceAnswers* cached, int64_t n_ctx, const SampleSink& sample) {
  SectionResult out;
  const SessionOptions options = session_options(flags, m.model, n_ctx);
  out.threads = options.threads;
  validate::GreedyChat model(m.model, m.tokenizer, a.model, options);
  validate::GreedyChat reference(*m.reference, *m.reference_tokenizer, a.reference,
                                 session_options(flags, *m.reference, n_ctx));
  fmt::print(stderr, "validate: gen ({} prompts), greedy answers of the model and {}, {} threads\n", prompts.size(),
             cached ? "the reference's from " + a.reference_answers : std::string("the reference"), options.threads);
  const auto samples = validate::run_fidelity(prompts, model, reference, cached, sample);
  out.metrics["gen"] = validate::fidelity_json(samples);
  out.text = validate::fidelity_text(out.metrics["gen"]);
  nlohmann::json budgets = nlohmann::json::object();
  for (const auto& f : validate::prompt_families()) budgets[std::string(f.name)] = f.max_new_tokens;
  out.settings = {{"prompts", a.prompts.empty() ? nlohmann::json("built-in") : validate::describe_file(a.prompts)},
                  {"prompt_format", model.prompt_format()},
                  {"reference_prompt_format", reference.prompt_format()},
                  {"reference_answers", cached ? validate::describe_file(a.reference_answers) : nlohmann::json(nullptr)},
                  {"decoding", "greedy"},
                  {"max_new_tokens", budgets},
                  {"ctx_size", options.ctx_size}};
  return out;
}

}  // namespace lp::cli
