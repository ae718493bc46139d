#pragma once
// Multiple-choice questions (MMLU, ARC) read from the data sets' own files and turned into
// the prompts lm-evaluation-harness scores: a context shared by every choice and one
// continuation per choice. The formats are lm-eval's task configs, so our accuracies are
// comparable with published lm-eval numbers:
//   MMLU:  "The following are multiple choice questions (with answers) about {subject with
//           spaces}.\n\n" + [k dev examples "{text} {letter}\n\n"] + "{question}\nA. ..\nB. ..
//           \nC. ..\nD. ..\nAnswer:", continuations " A" .. " D" (mmlu/default, first_n few-shot).
//   ARC:   "Question: {stem}\nAnswer:", continuations " {choice text}" (arc_easy/arc_challenge).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lp::validate {

struct McQuestion {
  std::string task;     // "mmlu", "arc_challenge", "arc_easy"
  std::string subject;  // MMLU subject (file stem); empty for ARC
  std::string id;       // "<subject>/<row>" for MMLU (0-based test row), the ARC "id"
  std::string context;  // the prompt every choice continues
  std::vector<std::string> continuations;  // what is scored, with lm-eval's " " target delimiter
  std::vector<std::string> choice_texts;   // lm-eval's doc_to_choice: acc_norm divides by their length
  size_t answer = 0;                       // index of the correct choice
  // For generate-and-rescore (mc_generation.h): the bare question and its options, which a
  // chat prompt letters A, B, C, ... in this order (ARC's 1-5 labels become letters too).
  std::string question;
  std::vector<std::string> options;
};

// The rows of an MMLU CSV (RFC 4180: quoted fields with commas, "" and line breaks; CRLF or
// LF row ends; no header): question, A, B, C, D, answer letter. InputError on anything else.
std::vector<std::vector<std::string>> read_mmlu_csv(const std::filesystem::path& path);

// The 57 subjects under mmlu_dir/test (file names <subject>_test.csv), sorted.
std::vector<std::string> mmlu_subjects(const std::filesystem::path& mmlu_dir);

// Every test question of one subject, `shots` (0..5) dev examples before each.
std::vector<McQuestion> load_mmlu_subject(const std::filesystem::path& mmlu_dir, const std::string& subject,
                                          int shots);

// Every question of an ARC JSONL file (AI2's format); task is "arc_challenge" or "arc_easy".
std::vector<McQuestion> load_arc(const std::filesystem::path& jsonl, const std::string& task);

}  // namespace lp::validate
