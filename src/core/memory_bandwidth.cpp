#include "core/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "core/thread_pool.h"

namespace lp {
namespace {

// Sums [begin, end) with eight independent accumulators, so that the loads, not the adds'
// dependency chain, set the pace. The result is kept (returned) so no load can be dropped.
uint64_t sum_words(const uint64_t* begin, const uint64_t* end) {
  uint64_t acc[8] = {};
  const uint64_t* p = begin;
  for (; p + 8 <= end; p += 8) {
    for (int i = 0; i < 8; ++i) acc[i] += p[i];
  }
  for (; p < end; ++p) acc[0] += *p;
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

}  // namespace

double measure_read_bandwidth(ThreadPool& pool, const BandwidthOptions& options) {
  const uint64_t words = std::max<uint64_t>(options.buffer_bytes / sizeof(uint64_t), 8);
  const std::unique_ptr<uint64_t[]> buffer(new uint64_t[words]);
  const auto n = static_cast<int64_t>(words);
  // Each thread writes the share it will read, so its pages are touched (and, on a NUMA
  // machine, placed) by the thread that reads them.
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buffer[static_cast<size_t>(i)] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> sums(pool.size());
  double best = 0.0;
  for (int pass = 0; pass < std::max(1, options.passes); ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](unsigned ti, unsigned tn) {
      const int64_t b = n * ti / tn, e = n * (ti + 1) / tn;
      sums[ti] = sum_words(buffer.get() + b, buffer.get() + e);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / seconds);
  }
  // The sums go somewhere the compiler must keep, so no load can be optimized away.
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;
  return best;
}

}  // namespace lp
