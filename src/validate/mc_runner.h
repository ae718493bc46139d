#pragma once
// The multiple-choice part of `validate`: which questions (the whole test sets, or
// `--subset tr125`), read from the data folder's MMLU CSVs and ARC JSONL files, scored by
// log-likelihood (mc_scoring.h) and/or by generate-and-rescore (mc_generation.h), for the
// model and optionally a reference model on the same questions, reported per task
// (mc_report.h).
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "validate/greedy_chat.h"
#include "validate/mc_questions.h"
#include "validate/mc_report.h"
#include "validate/mc_scoring.h"
#include "validate/mc_subset.h"

namespace lp::validate {

struct McTask {
  std::string name;
  std::vector<McQuestion> questions;
  nlohmann::json data;  // {"path", "files", "sha256"}: what was read (sha256 of "<sha256>  <relative path>\n" lines)
};

// `name` is "mmlu", "arc_challenge" or "arc_easy"; data_dir holds mmlu/{test,dev}/ and
// arc/ARC-{Challenge,Easy}/ARC-*-Test.jsonl.
McTask load_mc_task(const std::string& name, const std::filesystem::path& data_dir, const McSubset& subset, int shots);

// One model's scorers (either may be null: that scoring is skipped) and what they found.
struct McSide {
  McScorer* loglikelihood = nullptr;
  GreedyChat* generation = nullptr;
  McOutcomes outcomes;
};

// Scores every question in order with the model and, if given, the reference (same scorings);
// `sample` receives each question's JSONL object as it is done.
void run_mc_task(const McTask& task, McSide& model, McSide* reference,
                 const std::function<void(const nlohmann::json& sample)>& sample);

}  // namespace lp::validate
