#pragma once
// Generation fidelity (TR125's generation tasks): each prompt is answered greedily by the
// model and by the reference model through their chat templates, and the model's answer is
// scored against the reference's with text_metrics.h. Reported per task family and overall,
// each metric's mean with a bootstrap 95% interval; repetition and answer length are also
// compared between the two models with a paired t-test (does quantization make the model
// repeat itself or ramble?).
//
// Record, under "metrics"."gen":
//   {"prompts": N, "families": {"qa": FAMILY, ...}, "overall": FAMILY,
//    "repetition_vs_reference": CONTINUOUS, "tokens_vs_reference": CONTINUOUS}
//   FAMILY = {"prompts": n, "rouge_l": MEAN, "bleu": MEAN, "exact_match": MEAN,
//             "length_ratio": MEAN, "repetition": MEAN, "reference_repetition": MEAN}
//   MEAN = {"mean", "bootstrap95": [low, high]}; CONTINUOUS is paired_comparison.h's.
// Sample line: {"task": "gen", "id", "family", "prompt_sha256", "generated", "reference_generated",
//   "generated_tokens", "reference_tokens", "stop_reason", "reference_stop_reason", "rouge_l",
//   "bleu", "exact_match", "length_ratio", "repetition", "reference_repetition"}
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "validate/fidelity_prompts.h"
#include "validate/greedy_chat.h"

namespace lp::validate {

// What scoring needs of one greedy answer.
struct FidelityAnswer {
  std::string text;
  int64_t tokens = 0;
  std::string stop_reason;
};

struct FidelitySample {
  const FidelityPrompt* prompt = nullptr;
  FidelityAnswer model, reference;
  double rouge_l = 0, bleu = 0, exact_match = 0, length_ratio = 0;
  double repetition = 0, reference_repetition = 0;
};

// The reference's answers by prompt id, read back from an earlier run's sample lines: greedy
// decoding is deterministic, so a sweep that scores several models against one reference
// generates its answers once (validate --reference-answers). Every prompt must be there with
// the same text (its prompt_sha256); an InputError names the first that is not. (Samples are
// written as JSON with U+FFFD for invalid UTF-8, so only an answer holding invalid UTF-8 would
// read back changed.)
using ReferenceAnswers = std::map<std::string, FidelityAnswer>;
ReferenceAnswers load_reference_answers(const std::filesystem::path& samples, std::span<const FidelityPrompt> prompts);

// Scores one prompt's two answers.
FidelitySample score_fidelity(const FidelityPrompt& prompt, FidelityAnswer model, FidelityAnswer reference);

// Generates and scores every prompt in order; the reference's answers come from `cached`
// when given, else from `reference`. `sample` receives each prompt's JSONL object.
std::vector<FidelitySample> run_fidelity(std::span<const FidelityPrompt> prompts, GreedyChat& model,
                                         GreedyChat& reference, const ReferenceAnswers* cached,
                                         const std::function<void(const nlohmann::json& sample)>& sample);

nlohmann::json fidelity_json(const std::vector<FidelitySample>& samples);
nlohmann::json fidelity_sample_json(const FidelitySample& s);
std::string fidelity_text(const nlohmann::json& metrics);

}  // namespace lp::validate
