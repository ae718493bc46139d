// TR125's answer-letter rescoring (src/validate/answer_extraction.h) on the answer shapes its
// report names and the ones small chat models produce; expected letters checked by hand.
#include <gtest/gtest.h>

#include "validate/answer_extraction.h"

namespace lp::validate {
namespace {

struct Case {
  const char* text;
  size_t n_options;
  std::optional<size_t> option;
  const char* rule;
};

TEST(AnswerExtraction, ReadsTheLetterFromEachShapeTr125Names) {
  const Case cases[] = {
      {"B", 4, 1, "letter"},
      {"  c\n", 4, 2, "letter"},
      {"B)", 4, 1, "letter"},
      {"(D)", 4, 3, "letter"},
      {"A.", 4, 0, "letter"},
      {"The answer is B", 4, 1, "answer_phrase"},
      {"The answer is B because plants need light.", 4, 1, "answer_phrase"},
      {"Answer: C", 4, 2, "answer_phrase"},
      {"answer: (A) the sun", 4, 0, "answer_phrase"},
      {"The correct answer is **D**.", 4, 3, "answer_phrase"},
      {"The answer is: B", 4, 1, "answer_phrase"},
      {"B) Paris", 4, 1, "leading_letter"},
      {"C. kilometer", 4, 2, "leading_letter"},
      {"(A) gray", 4, 0, "leading_letter"},
      {"I think it is C, since the others are wrong.", 4, 2, "first_standalone"},
      {"Option D fits best", 4, 3, "first_standalone"},
      // E exists only when the question has five options.
      {"E", 5, 4, "letter"},
      {"E", 4, std::nullopt, "none"},
      {"Paris is the capital.", 4, std::nullopt, "none"},
      {"", 4, std::nullopt, "none"},
      // "answers" is not "answer"; a letter inside a word does not stand alone.
      {"Both answers BAD", 4, std::nullopt, "none"},
      // An article "A" is TR125's known false positive of the fallback.
      {"A plant makes food from light.", 4, 0, "first_standalone"},
  };
  for (const Case& c : cases) {
    const ExtractedAnswer got = extract_answer_letter(c.text, c.n_options);
    EXPECT_EQ(got.option, c.option) << c.text;
    EXPECT_STREQ(got.rule, c.rule) << c.text;
  }
}

TEST(AnswerExtraction, TheAnswerPhraseWinsOverAnEarlierStandaloneLetter) {
  // "A" comes first, but the answer phrase names C.
  EXPECT_EQ(extract_answer_letter("A quick check: the answer is C.", 4).option, 2u);
}

TEST(AnswerExtraction, RawExactMatchIsTheWholeStrippedAnswerIgnoringCase) {
  EXPECT_TRUE(raw_exact_match("B", 1));
  EXPECT_TRUE(raw_exact_match(" b\n", 1));
  EXPECT_FALSE(raw_exact_match("B)", 1));
  EXPECT_FALSE(raw_exact_match("The answer is B", 1));
  EXPECT_FALSE(raw_exact_match("C", 1));
  EXPECT_FALSE(raw_exact_match("", 0));
}

}  // namespace
}  // namespace lp::validate
