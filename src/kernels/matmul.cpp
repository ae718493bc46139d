#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"

namespace lp {
namespace {

const WeightKernels& kernels_for(const WeightMatrix& w) {
  const WeightKernels* kernels = find_weight_kernels(w.type);
  const auto& traits = ggml_type_traits(w.type);
  if (kernels == nullptr) fail("cannot compute with {} weights: no matrix kernel for this type", traits.name);
  const auto expected = ggml_row_bytes(w.type, static_cast<uint64_t>(w.cols));
  if (!expected || *expected != w.row_bytes)
    fail("a {} weight of {} columns has rows of {} bytes, which is not a whole number of blocks", traits.name, w.cols,
         w.row_bytes);
  return *kernels;
}

// Quantized activations of one call. Kept per calling thread and grown as needed, so decode
// (hundreds of calls per token) does not allocate after the first token.
std::vector<uint8_t>& activation_scratch() {
  thread_local std::vector<uint8_t> scratch;
  return scratch;
}

// Rows per work item: about 64 KiB of weights, so a chunk stays in L2 while every token tile
// passes over it, but at least 8 chunks per thread so threads that other processes slow
// down (shared cores) are balanced by the atomic counter.
int64_t rows_per_chunk(const WeightMatrix& w, unsigned threads) {
  const int64_t by_cache = std::max<int64_t>(1, static_cast<int64_t>(65536 / std::max<uint64_t>(w.row_bytes, 1)));
  const int64_t by_balance = std::max<int64_t>(1, w.rows / (static_cast<int64_t>(threads) * 8));
  return std::min(by_cache, by_balance);
}

}  // namespace

void weight_row_to_float(const WeightMatrix& w, int64_t r, float* out) {
  const auto& traits = ggml_type_traits(w.type);
  if (!traits.dequantize) fail("cannot compute with {} weights", traits.name);
  traits.dequantize(w.row(r), out, w.cols);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const WeightKernels& kernels = kernels_for(w);
  if (w.rows == 0 || n_tokens <= 0) return;
  const KernelIsa isa = active_kernel_isa();
  const DotTileFn tile = dot_tile_for(kernels, isa);
  const QuantizeActivationsFn quantize = quantizer_for(kernels, isa);

  // Every activation row is quantized once here, not once per weight row.
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  uint64_t act_stride = static_cast<uint64_t>(w.cols) * sizeof(float);
  if (quantize != nullptr) {
    act_stride = activation_row_bytes(kernels, w.cols);
    auto& scratch = activation_scratch();
    if (scratch.size() < act_stride * static_cast<uint64_t>(n_tokens)) scratch.resize(act_stride * static_cast<uint64_t>(n_tokens));
    uint8_t* out = scratch.data();
    if (n_tokens == 1) {
      quantize(x, out, w.cols);
    } else {
      pool.parallel_for(n_tokens, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) quantize(x + t * w.cols, out + static_cast<uint64_t>(t) * act_stride, w.cols);
      });
    }
    act = out;
  }

  const int64_t chunk = rows_per_chunk(w, pool.size());
  const int64_t n_chunks = (w.rows + chunk - 1) / chunk;
  std::atomic<int64_t> next_chunk{0};
  pool.run([&](unsigned, unsigned) {
    for (int64_t c = next_chunk.fetch_add(1, std::memory_order_relaxed); c < n_chunks;
         c = next_chunk.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t row_begin = c * chunk, row_end = std::min(w.rows, row_begin + chunk);
      for (int64_t t = 0; t < n_tokens; t += kMaxTileTokens) {
        const int tokens = static_cast<int>(std::min<int64_t>(kMaxTileTokens, n_tokens - t));
        const uint8_t* act_tile = act + static_cast<uint64_t>(t) * act_stride;
        for (int64_t r = row_begin; r < row_end; ++r) tile(w.cols, w.row(r), act_tile, act_stride, tokens, y + t * w.rows + r, w.rows);
      }
    }
  });
}

}  // namespace lp
