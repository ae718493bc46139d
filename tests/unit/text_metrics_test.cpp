// Generation-fidelity metrics on pairs small enough to score by hand (the working is in the
// comments). tests/python/test_text_metrics.py compares the same functions with rouge-score
// and sacrebleu on hundreds of pairs.
#include <gtest/gtest.h>

#include <cmath>

#include "validate/text_metrics.h"

namespace lp::validate {
namespace {

TEST(TextMetrics, RougeLIsTheF1OfTheLongestCommonSubsequence) {
  // the cat sat on the mat / the cat is on the mat: LCS "the cat on the mat" = 5 of 6 and 6.
  EXPECT_DOUBLE_EQ(rouge_l_f1("The cat sat on the mat.", "The cat is on the mat."), 5.0 / 6.0);
  // LCS 2: P = 2/3, R = 2/2, F = 2·(2/3)·1 / (5/3) = 4/5.
  EXPECT_DOUBLE_EQ(rouge_l_f1("a b c", "a b"), 0.8);
  // Only [a-z0-9] runs are tokens: "café" -> "caf", so LCS is "au lait", 2 of 3 each side.
  EXPECT_DOUBLE_EQ(rouge_l_f1("café au lait", "cafe au lait"), 2.0 / 3.0);
  // Lowercasing happens first: U+0130 -> "i" + U+0307 and the Kelvin sign -> "k" are ASCII then.
  EXPECT_DOUBLE_EQ(rouge_l_f1("\u0130zmir \u212A", "i zmir k"), 1.0);
  EXPECT_EQ(rouge_l_f1("!!!", "!!!"), 0.0);  // no tokens on either side
  EXPECT_EQ(rouge_l_f1("", "words"), 0.0);
}

TEST(TextMetrics, SentenceBleuAsSacrebleu) {
  // 13a tokens: The cat sat on the mat . / The cat is on the mat . (7 each, brevity 1).
  // Matches: 1-grams 6/7, 2-grams 4/6, 3-grams 2/5 ("on the mat", "the mat ."), 4-grams 1/4.
  // (6/7 · 4/6 · 2/5 · 1/4)^(1/4) = (2/35)^(1/4).
  EXPECT_NEAR(sentence_bleu("The cat sat on the mat.", "The cat is on the mat."), std::pow(2.0 / 35.0, 0.25), 1e-15);
  // a b c d / a b x d: 1-grams 3/4, 2-grams 1/3, 3-grams 0/2 -> 'exp' smoothing 1/(2·2),
  // 4-grams 0/1 -> 1/(4·1); (3/4 · 1/3 · 1/4 · 1/4)^(1/4) = (1/64)^(1/4) = 1/(2√2).
  EXPECT_NEAR(sentence_bleu("a b c d", "a b x d"), 1.0 / (2.0 * std::sqrt(2.0)), 1e-15);
  // a b / a b c d: the candidate has no 3-grams, so the effective order is 2 with precisions
  // 1 and 1; brevity penalty exp(1 - 4/2).
  EXPECT_NEAR(sentence_bleu("a b", "a b c d"), std::exp(-1.0), 1e-15);
  EXPECT_EQ(sentence_bleu("x y z", "a b c"), 0.0);  // no unigram matches
  EXPECT_EQ(sentence_bleu("", "a b c"), 0.0);
  EXPECT_EQ(sentence_bleu("Same", "same"), 0.0);  // case is kept
}

TEST(TextMetrics, BleuTokenizesAsMteval13a) {
  // A period or comma between digits stays inside the number, elsewhere it is a token.
  EXPECT_EQ(sentence_bleu("3.14", "3 . 14"), 0.0);
  EXPECT_EQ(sentence_bleu("1,000", "1 , 000"), 0.0);
  EXPECT_DOUBLE_EQ(sentence_bleu("end.", "end ."), 1.0);
  EXPECT_DOUBLE_EQ(sentence_bleu("2-3", "2 - 3"), 1.0);  // a dash after a digit is split off
  EXPECT_DOUBLE_EQ(sentence_bleu("f(x)", "f ( x )"), 1.0);  // brackets are symbols
  EXPECT_DOUBLE_EQ(sentence_bleu("A &amp; B", "A & B"), 1.0);  // the escapes are undone first
  EXPECT_DOUBLE_EQ(sentence_bleu("broken-\nword", "brokenword"), 1.0);
  EXPECT_EQ(sentence_bleu("it's", "it ' s"), 0.0);  // the apostrophe is not a symbol
}

TEST(TextMetrics, ExactMatchIgnoresCaseAndSurroundingWhitespace) {
  EXPECT_EQ(exact_match("  Positive\n", "positive"), 1.0);
  EXPECT_EQ(exact_match("\u00a0B\u3000", "b"), 1.0);  // Python strips Unicode spaces too
  EXPECT_EQ(exact_match("Positive.", "positive"), 0.0);
  // Full lowercase with the final-sigma rule: ΟΔΥΣΣΕΥΣ -> οδυσσευς.
  EXPECT_EQ(exact_match("ΟΔΥΣΣΕΥΣ", "οδυσσευς"), 1.0);
  EXPECT_EQ(exact_match("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"), 0.0);
  EXPECT_EQ(exact_match("STRASSE", "Straße"), 0.0);  // lower(), not casefold()
  EXPECT_EQ(exact_match("", " \n"), 1.0);
}

TEST(TextMetrics, LengthRatioCountsCodePoints) {
  EXPECT_DOUBLE_EQ(length_ratio("héllo", "hello world"), 5.0 / 11.0);  // é is one code point
  EXPECT_DOUBLE_EQ(length_ratio("hello world", "héllo"), 5.0 / 11.0);
  EXPECT_EQ(length_ratio("", ""), 1.0);
  EXPECT_EQ(length_ratio("", "x"), 0.0);
  // A truncated 3-byte sequence is one U+FFFD, as Python's "replace" decoding makes it.
  EXPECT_EQ(length_ratio("a\xE2\x82", "ab"), 1.0);
  EXPECT_EQ(length_ratio("\xFF\xFE", "ab"), 1.0);
}

TEST(TextMetrics, DistinctFourGramRatio) {
  // 8 words, 5 4-grams: abcd bcda cdab dabc abcd -> 4 distinct.
  EXPECT_DOUBLE_EQ(distinct_4gram_ratio("a b c d a b c d"), 0.8);
  EXPECT_DOUBLE_EQ(distinct_4gram_ratio("A b C d\na B\tc D"), 0.8);  // lowercased, any whitespace
  // "the" x 6: 3 4-grams, all the same.
  EXPECT_DOUBLE_EQ(distinct_4gram_ratio("the the the the the the"), 1.0 / 3.0);
  EXPECT_EQ(distinct_4gram_ratio("one two three four five"), 1.0);
  EXPECT_EQ(distinct_4gram_ratio("one two three"), 1.0);  // no 4-gram, nothing repeats
  EXPECT_EQ(distinct_4gram_ratio(""), 1.0);
}

}  // namespace
}  // namespace lp::validate
