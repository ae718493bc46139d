#pragma once
// Main-memory read bandwidth as this process sees it: the ceiling decode speed is measured
// against, since decoding a token reads every weight once and little else.
#include <cstdint>

namespace lp {

class ThreadPool;

struct BandwidthOptions {
  uint64_t buffer_bytes = uint64_t{1} << 30;  // far larger than any cache, so reads come from memory
  int passes = 5;                             // the best pass is reported
};

// Bytes per second that pool.size() threads read from a buffer of options.buffer_bytes (each
// thread summing its contiguous share, as a matrix-vector product reads its rows). The buffer
// is allocated and freed here.
double measure_read_bandwidth(ThreadPool& pool, const BandwidthOptions& options = {});

}  // namespace lp
