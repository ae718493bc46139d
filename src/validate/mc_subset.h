#pragma once
// `--subset tr125`: the sample size TR125 used (5 questions per MMLU subject = 285, and 200
// ARC-Challenge; we draw 200 ARC-Easy the same way). TR125 drew its questions with seed 42
// from Hugging Face's datasets but did not publish which rows; we cannot reproduce their rows,
// so we fix our own rule, with the same seed, and document it so anyone can recompute it:
//
//   rng   = splitmix64 seeded with 42 XOR fnv1a64(name)   (name: the MMLU subject, or
//           "arc_challenge" / "arc_easy"; one stream per set, so sets do not shift each other)
//   draw  = a partial Fisher-Yates shuffle of the indices 0..n-1: for i in 0..k-1,
//           j = i + (rng() mod (n - i)), swap(idx[i], idx[j])
//   pick  = idx[0..k-1], sorted ascending (the questions keep their file order)
//
// tests/fixtures/mmlu_reference/make_reference.py reimplements the rule in Python.
// `--subset quick` draws 1 question per MMLU subject (57) and 25 per ARC set by the same rule,
// for a study that takes minutes (matrix --suite quick).
#include <cstdint>
#include <string_view>
#include <vector>

namespace lp::validate {

inline constexpr uint64_t kTr125Seed = 42;
inline constexpr size_t kTr125MmluPerSubject = 5;
inline constexpr size_t kTr125ArcQuestions = 200;

// The subsets, one row each: how many questions of each MMLU subject and of each ARC set
// (0: every question).
struct McSubset {
  std::string_view name;
  size_t mmlu_per_subject = 0;
  size_t arc_questions = 0;
  bool drawn() const { return mmlu_per_subject > 0 || arc_questions > 0; }
};
// "full", "tr125" or "quick"; InputError naming them for anything else.
const McSubset& mc_subset(std::string_view name);

uint64_t fnv1a64(std::string_view s);

// k of the indices 0..n-1 (all of them when k >= n), by the rule above, ascending.
std::vector<size_t> tr125_pick(std::string_view name, size_t n, size_t k);

}  // namespace lp::validate
