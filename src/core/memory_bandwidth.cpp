#include "core/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"

namespace lp {
namespace {

constexpr uint64_t kMinPassBytes = uint64_t{256} << 20;

// Sums [begin, end) as 64-bit words with eight independent accumulators, so that the loads,
// not the adds' dependency chain, set the pace (memcpy: the bytes need no alignment). The
// result is kept (returned) so no load can be dropped.
uint64_t sum_words(const uint8_t* begin, const uint8_t* end) {
  uint64_t acc[8] = {};
  const uint8_t* p = begin;
  for (; p + 64 <= end; p += 64) {
    for (int i = 0; i < 8; ++i) {
      uint64_t word;
      std::memcpy(&word, p + 8 * i, sizeof word);
      acc[i] += word;
    }
  }
  for (; p < end; ++p) acc[0] += *p;
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

}  // namespace

double measure_read_bandwidth(ThreadPool& pool, std::span<const std::span<const uint8_t>> regions, int passes) {
  uint64_t region_bytes = 0;
  for (const auto& r : regions) region_bytes += r.size();
  if (region_bytes == 0) return 0.0;
  const uint64_t rounds = (kMinPassBytes + region_bytes - 1) / region_bytes;
  std::vector<uint64_t> sums(pool.size());
  double best = 0.0;
  for (int pass = 0; pass < std::max(1, passes); ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](unsigned ti, unsigned tn) {
      uint64_t sum = 0;
      for (uint64_t round = 0; round < rounds; ++round)
        for (const auto& r : regions) sum += sum_words(r.data() + r.size() * ti / tn, r.data() + r.size() * (ti + 1) / tn);
      sums[ti] += sum;
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(region_bytes * rounds) / seconds);
  }
  // The sums go somewhere the compiler must keep, so no load can be optimized away.
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;
  return best;
}

}  // namespace lp
