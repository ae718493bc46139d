#pragma once
// What a multiple-choice run reports: accuracy (acc) and length-normalized accuracy
// (acc_norm) per task with Wilson 95% intervals, per subject for MMLU, and one JSONL line per
// question so two runs can be compared question by question (McNemar).
//
// Record, under "metrics"."mmlu" / "arc_challenge" / "arc_easy":
//   {"questions": 285, "shots": 0, "subset": "tr125" | "full",
//    "acc": ACC, "acc_norm": ACC, "truncated_questions": 0,
//    "data": [FILE...] (MMLU: the test and dev CSVs read; ARC: the JSONL),
//    "subjects": {"abstract_algebra": {"questions": 5, "acc": ACC, "acc_norm": ACC}, ...}  (MMLU only)}
//   ACC = {"value": fraction, "correct": k, "wilson95": [low, high]}
// MMLU's acc is over all its questions (lm-eval's size-weighted group average).
//
// Sample line: {"task", "id", "subject", "prompt_sha256" (of the context text, UTF-8),
//   "context_tokens", "truncated_tokens", "answer" (index), "choices": [{"continuation",
//   "logprob", "tokens", "norm" (logprob / characters), "greedy"}], "chosen", "chosen_norm",
//   "correct", "correct_norm"}
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "validate/mc_questions.h"
#include "validate/mc_scoring.h"

namespace lp::validate {

nlohmann::json accuracy_json(uint64_t correct, uint64_t n);

// The metrics of one task (every question of it, in order, with its result).
nlohmann::json mc_task_json(const std::vector<McQuestion>& questions, const std::vector<McResult>& results);

nlohmann::json mc_sample_json(const McQuestion& q, const McResult& r);

// Human-readable summary of a task's metrics (from mc_task_json's output).
std::string mc_task_text(const std::string& task, const nlohmann::json& metrics);

}  // namespace lp::validate
