#pragma once
// Main-memory read bandwidth as this process sees it: the ceiling decode speed is measured
// against, since decoding a token reads every weight once and little else.
#include <cstdint>
#include <span>

namespace lp {

class ThreadPool;

// Bytes per second that pool.size() threads read from `regions`, the best of `passes` passes:
// each thread sums its contiguous share of every region (as a matrix-vector product reads its
// rows), in one job per pass, and a pass goes over the regions as many times as it takes to
// read at least 256 MiB (so that small regions still give a pass long enough to time). Given
// a model's weights, this is how fast decode could read them: data that fits a cache is
// timed at the cache's speed, as decode would read it.
double measure_read_bandwidth(ThreadPool& pool, std::span<const std::span<const uint8_t>> regions, int passes = 5);

}  // namespace lp
