#pragma once
// Multiple choice by generate-and-rescore (TR125 §5.3): the question and its lettered options
// go to the model as one chat message, the model answers greedily, and the answer letter is
// read out of its text (answer_extraction.h). Two accuracies come of it: raw exact match (the
// whole answer is the letter) and rescored accuracy (the extracted letter is right) —
// TR125's primary quality metric, which separates knowing the answer from formatting it.
//
// The message: "{question}\n\nA. {option}\nB. {option}\n...\n\nAnswer with the letter of the
// correct option." (ARC's 1-5 labels are lettered too.) Always zero-shot, as TR125 asks:
// --shots shapes only the log-likelihood prompts.
#include <cstdint>
#include <string>

#include "validate/answer_extraction.h"
#include "validate/greedy_chat.h"
#include "validate/mc_questions.h"

namespace lp::validate {

// Enough for "The answer is B." with a short reason; TR125's verbose models put the letter early.
inline constexpr int64_t kMcAnswerTokens = 32;

std::string mc_generation_prompt(const McQuestion& q);

struct McGenerated {
  std::string text;             // the model's answer
  int64_t tokens = 0;           // tokens generated
  ExtractedAnswer extracted;
  bool raw_correct = false;     // raw_exact_match(text, answer)
  bool rescored_correct = false;  // extracted option == answer
};

McGenerated generate_mc_answer(GreedyChat& chat, const McQuestion& q);

}  // namespace lp::validate
