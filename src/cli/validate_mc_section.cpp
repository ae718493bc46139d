// `validate`'s multiple-choice part: MMLU and ARC scored by log-likelihood (lm-evaluation-
// harness), by generate-and-rescore (TR125), or both; with a reference model, the reference
// is scored on the same questions and the two compared question by question.
#include <fmt/core.h>

#include <memory>
#include <optional>

#include "cli/validate_sections.h"
#include "validate/mc_subset.h"

namespace lp::cli {
namespace {

// One model's scorers as --mc-scoring asks.
struct Scorers {
  std::unique_ptr<validate::McScorer> loglikelihood;
  std::unique_ptr<validate::GreedyChat> generation;

  Scorers(const LoadedModel& model, const Tokenizer& tok, const std::string& path, const SessionOptions& options,
          const std::string& scoring) {
    if (scoring != "generate") loglikelihood = std::make_unique<validate::McScorer>(model, tok, options);
    if (scoring != "loglikelihood") generation = std::make_unique<validate::GreedyChat>(model, tok, path, options);
  }
  validate::McSide side() const { return {loglikelihood.get(), generation.get(), {}}; }
};

}  // namespace

SectionResult run_mc_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                             const std::vector<validate::McTask>& tasks, const std::filesystem::path& data_dir,
                             int64_t n_ctx, const SampleSink& sample) {
  SectionResult out;
  const validate::McSubset& subset = validate::mc_subset(a.subset.empty() ? "full" : a.subset);
  const SessionOptions options = session_options(flags, m.model, n_ctx);
  out.threads = options.threads;
  const Scorers model(m.model, m.tokenizer, a.model, options, a.mc_scoring);
  std::optional<Scorers> reference;
  if (m.reference) {
    reference.emplace(*m.reference, *m.reference_tokenizer, a.reference, session_options(flags, *m.reference, n_ctx),
                      a.mc_scoring);
  }
  nlohmann::json task_names = nlohmann::json::array();
  for (const auto& t : tasks) {
    fmt::print(stderr, "validate: {} ({} questions, {}-shot), {}{}, {} threads\n", t.name, t.questions.size(),
               t.name == "mmlu" ? a.shots : 0, a.mc_scoring == "both" ? "log-likelihood and generation" : a.mc_scoring,
               reference ? ", model and reference" : "", options.threads);
    validate::McSide mine = model.side();
    std::optional<validate::McSide> theirs;
    if (reference) theirs = reference->side();
    validate::run_mc_task(t, mine, theirs ? &*theirs : nullptr, sample);
    nlohmann::json j = validate::mc_task_json(t.questions, mine.outcomes);
    if (theirs) {
      j["reference"] = validate::mc_task_json(t.questions, theirs->outcomes);
      j["comparison"] = validate::mc_comparison_json(t.questions, mine.outcomes, theirs->outcomes);
    }
    if (!a.shard.empty()) {
      // mc_task_json keeps only the mean; the merge needs the total.
      uint64_t generated = 0;
      for (const auto& g : mine.outcomes.generation) generated += static_cast<uint64_t>(g.tokens);
      out.shard["mc"][t.name] = {{"generated_tokens", generated}};
    }
    j["shots"] = t.name == "mmlu" ? a.shots : 0;
    j["subset"] = subset.name;
    j["data"] = t.data;
    out.text += (out.text.empty() ? "" : "\n") + validate::mc_task_text(t.name, j);
    out.metrics[t.name] = j;
    task_names.push_back(t.name);
  }
  out.settings = {
      {"tasks", task_names},
      {"shots", a.shots},
      {"subset", subset.name},
      {"subset_seed", subset.drawn() ? nlohmann::json(validate::kTr125Seed) : nlohmann::json(nullptr)},
      {"scoring", a.mc_scoring},
      {"loglikelihood",
       "lm-evaluation-harness: acc = argmax sum log p, acc_norm = argmax sum log p / len(choice)"},
      {"generation",
       model.generation
           ? nlohmann::json{{"prompt_format", model.generation->prompt_format()},
                            {"max_new_tokens", validate::kMcAnswerTokens},
                            {"decoding", "greedy"},
                            {"rescoring", "TR125 letter extraction (src/validate/answer_extraction.h)"}}
           : nlohmann::json(nullptr)},
      {"ctx_size", options.ctx_size},
      {"batch_size", options.batch_size},
      {"data_dir", data_dir.string()},
      {"samples", a.samples.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.samples)}};
  return out;
}

}  // namespace lp::cli
