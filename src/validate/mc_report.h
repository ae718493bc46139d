#pragma once
// What a multiple-choice run reports, per task, for each way it was scored: log-likelihood
// (acc, acc_norm, as lm-evaluation-harness) and generate-and-rescore (TR125's raw exact match
// and rescored accuracy), each with a Wilson 95% interval, per subject for MMLU; with a
// reference model the same for the reference and a paired comparison (McNemar, paired t);
// and one JSONL line per question.
//
// Record, under "metrics"."mmlu" / "arc_challenge" / "arc_easy":
//   {"questions": 285, "shots": 0, "subset": "tr125" | "full", "data": {...},
//    loglikelihood scoring: "acc": ACC, "acc_norm": ACC, "truncated_questions": 0,
//    generate-and-rescore:  "generation": {"max_new_tokens": 32, "raw_exact_match": ACC,
//                             "rescored_acc": ACC, "unextracted": k, "rules": {"letter": n, ...},
//                             "mean_tokens": x},
//    "subjects": {"abstract_algebra": {"questions": 5, "acc", "acc_norm", "rescored_acc"}, ...} (MMLU),
//    with --reference: "reference": {the same keys for the reference model},
//                      "comparison": {"acc": BINARY, "acc_norm": BINARY, "answer_logprob": CONTINUOUS,
//                                     "raw_exact_match": BINARY, "rescored_acc": BINARY}}
//   ACC = {"value": fraction, "correct": k, "wilson95": [low, high]}; BINARY and CONTINUOUS
//   are paired_comparison.h's. MMLU's acc is over all its questions (lm-eval's size-weighted
//   group average). answer_logprob is each question's log-probability of the right choice.
//
// Sample line: {"task", "id", "subject", "prompt_sha256" (of the log-likelihood context, UTF-8),
//   "answer" (index), loglikelihood: "context_tokens", "truncated_tokens", "choices":
//   [{"continuation", "logprob", "tokens", "norm" (logprob / characters), "greedy"}], "chosen",
//   "chosen_norm", "correct", "correct_norm"; generation: "generation_prompt_sha256",
//   "generated", "generated_tokens", "extracted" (index or null), "extraction_rule",
//   "raw_correct", "rescored_correct"; with a reference: "reference": {the scoring keys}}
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "validate/mc_generation.h"
#include "validate/mc_questions.h"
#include "validate/mc_scoring.h"

namespace lp::validate {

// Each question's results, in the task's order, for the scorings that ran (others empty).
struct McOutcomes {
  std::vector<McResult> loglikelihood;
  std::vector<McGenerated> generation;
};

nlohmann::json accuracy_json(uint64_t correct, uint64_t n);

// The metrics of one task scored one or both ways.
nlohmann::json mc_task_json(const std::vector<McQuestion>& questions, const McOutcomes& outcomes);

// The model against the reference, scoring by scoring (both ran the same scorings).
nlohmann::json mc_comparison_json(const std::vector<McQuestion>& questions, const McOutcomes& model,
                                  const McOutcomes& reference);

// Question i's sample line (reference: its outcomes too, or null).
nlohmann::json mc_sample_json(const McQuestion& q, size_t i, const McOutcomes& model, const McOutcomes* reference);

// Human-readable summary of a task's metrics (from mc_task_json's output, with "reference"
// and "comparison" when present).
std::string mc_task_text(const std::string& task, const nlohmann::json& metrics);

}  // namespace lp::validate
