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
#include <cstdint>
#include <string_view>
#include <vector>

namespace lp::validate {

inline constexpr uint64_t kTr125Seed = 42;
inline constexpr size_t kTr125MmluPerSubject = 5;
inline constexpr size_t kTr125ArcQuestions = 200;

uint64_t fnv1a64(std::string_view s);

// k of the indices 0..n-1 (all of them when k >= n), by the rule above, ascending.
std::vector<size_t> tr125_pick(std::string_view name, size_t n, size_t k);

}  // namespace lp::validate
