#pragma once
// TR125's rescoring of a generated multiple-choice answer (seed 001, §A.8): the answer letter
// is read out of free text, so a model that knows the answer but words it verbosely ("The
// answer is B because ...") is not counted wrong. Rules, first match wins:
//   1. "letter":          the whole answer is a letter: "B", "b", "B)", "(B)", "B.", "B:".
//   2. "answer_phrase":   "answer" (any case), optionally "is", ":" or "is:", an optional "(" or
//                         "**", then a letter standing alone: "The answer is B", "Answer: (C)",
//                         "the correct answer is **D**".
//   3. "leading_letter":  the answer starts with a letter and ")", "." or ":": "B) Paris".
//   4. "first_standalone": the first capital letter among the options' letters with no letter
//                         or digit on either side (TR125's fallback; an article "A" can match
//                         it, as in TR125).
// Only letters of the question's options count (A-D for MMLU, A-E for some ARC questions).
// Raw exact match (TR125's exact_match) is stricter: the stripped answer equals the letter,
// case-insensitively.
#include <cstddef>
#include <optional>
#include <string_view>

namespace lp::validate {

struct ExtractedAnswer {
  std::optional<size_t> option;  // 0 for A, 1 for B, ...; none when no rule matched
  const char* rule = "none";     // which rule matched (names above)
};

ExtractedAnswer extract_answer_letter(std::string_view text, size_t n_options);

// TR125's raw exact_match: trim(text) equals the option's letter, ignoring case.
bool raw_exact_match(std::string_view text, size_t answer);

}  // namespace lp::validate
