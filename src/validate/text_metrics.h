#pragma once
// Generation-fidelity metrics: how close a model's greedy output (the candidate) is to the
// reference model's output for the same prompt. These are TR125's Appendix A definitions,
// pinned to the exact library behaviour TR125 names, so our numbers can be compared with
// the Python tools (tests/python/test_text_metrics.py checks equality to 1e-9).
//
// All functions take UTF-8 text. Invalid bytes are first replaced by U+FFFD, one per maximal
// invalid subpart, as Python's bytes.decode("utf-8", "replace") does, because the Python
// references only ever see such decoded strings. "Whitespace" below is Python's str.isspace()
// set (ASCII \t\n\v\f\r and space, U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A,
// U+2028, U+2029, U+202F, U+205F, U+3000), which str.split() and str.strip() use.
// "Lowercase" is Unicode full lowercase mapping with Final_Sigma (Python's str.lower(); ICU's
// root-locale toLower).
#include <string_view>

namespace lp::validate {

// ROUGE-L F1 (TR125 A.1), equal to
//   rouge_score.rouge_scorer.RougeScorer(['rougeL']).score(reference, candidate)['rougeL'].fmeasure
// of rouge-score 0.1.2 without a stemmer. Tokens are the maximal runs of [a-z0-9] in the
// lowercased text (rouge-score replaces everything else by spaces). With L the length of the
// longest common token subsequence, P = L / |candidate tokens|, R = L / |reference tokens|,
// F1 = 2PR / (P + R); 0 when either side has no tokens or P + R = 0. O(|c|·|r|) time.
double rouge_l_f1(std::string_view candidate, std::string_view reference);

// Sentence BLEU in [0, 1] (TR125 A.3), equal to
//   sacrebleu.sentence_bleu(candidate, [reference]).score / 100
// of sacrebleu 2.6.0: mteval-v13a tokenization ("13a"), case kept, n-grams of order 1..4 with
// counts clipped by the reference, effective order (orders with no candidate n-gram are left
// out of the geometric mean), 'exp' smoothing (the k-th order with zero matches gets precision
// 1 / (2^k · total)), brevity penalty exp(1 - r/c) when c < r (0 when c = 0). 0 when no
// unigram matches at all.
double sentence_bleu(std::string_view candidate, std::string_view reference);

// Exact match (TR125 A.5): 1.0 when candidate.strip().lower() == reference.strip().lower()
// (Python string semantics), else 0.0.
double exact_match(std::string_view candidate, std::string_view reference);

// Output length ratio (TR125 A.6): min(len(c), len(r)) / max(len(c), len(r)) where len counts
// Unicode code points, as Python's len on a str. 1.0 when both are empty (nothing was
// truncated or over-generated); 0.0 when exactly one is.
double length_ratio(std::string_view candidate, std::string_view reference);

// Repetition (TR125 A.7) of one text: distinct 4-grams / total 4-grams over the words of
// text.lower().split(). 1.0 means no 4-gram repeats; text with fewer than 4 words has no
// 4-gram, so nothing repeats and the ratio is 1.0.
double distinct_4gram_ratio(std::string_view text);

}  // namespace lp::validate
