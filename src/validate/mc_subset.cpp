#include "validate/mc_subset.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "core/error.h"

namespace lp::validate {
namespace {

// splitmix64: fully specified in a few lines, so the Python reimplementation is exact.
struct SplitMix64 {
  uint64_t state;
  uint64_t operator()() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

}  // namespace

const McSubset& mc_subset(std::string_view name) {
  static constexpr std::array<McSubset, 3> kSubsets = {{
      {"full", 0, 0},
      {"tr125", kTr125MmluPerSubject, kTr125ArcQuestions},
      {"quick", 1, 25},
  }};
  for (const McSubset& s : kSubsets)
    if (s.name == name) return s;
  fail("--subset must be full, tr125 or quick, not \"{}\"", name);
}

uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::vector<size_t> tr125_pick(std::string_view name, size_t n, size_t k) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  if (k >= n) return idx;
  SplitMix64 rng{kTr125Seed ^ fnv1a64(name)};
  for (size_t i = 0; i < k; ++i) {
    const size_t j = i + static_cast<size_t>(rng() % (n - i));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace lp::validate
