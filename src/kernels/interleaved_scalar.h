#pragma once
// The loops every interleaved format's scalar code shares (interleaved_*.cpp): regrouping
// the rows block by block and the reference product token by token, row by row.
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

// Bytes of one group: cols / kValues blocks of the grouped type.
template <class Grouped, int kValues>
uint64_t grouped_bytes(int64_t cols) {
  return static_cast<uint64_t>(cols / kValues) * sizeof(Grouped);
}

// copy(grouped block b, row r's block b, r) for every row r of the group and block b.
template <class Grouped, class Block, int kValues, class Copy>
void interleave_blocks(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group, Copy copy) {
  auto* out = reinterpret_cast<Grouped*>(group);
  for (int r = 0; r < kInterleavedRows; ++r) {
    const auto* row = reinterpret_cast<const Block*>(rows + static_cast<uint64_t>(r) * row_bytes);
    for (int64_t b = 0; b < cols / kValues; ++b) copy(out[b], row[b], r);
  }
}

// out[t * out_stride + r] = the sum over blocks b, in order, of block_dot(group block b, r,
// activation block b of token t): the reference product (InterleavedGemmFn).
template <class Grouped, class ActBlock, int kValues, class BlockDot>
void reference_gemm(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride, int64_t n_tokens,
                    float* out, int64_t out_stride, BlockDot block_dot) {
  const auto* x = reinterpret_cast<const Grouped*>(group);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const ActBlock*>(act + static_cast<uint64_t>(t) * act_stride);
    for (int r = 0; r < kInterleavedRows; ++r) {
      float sum = 0.0f;
      for (int64_t b = 0; b < n / kValues; ++b) sum += block_dot(x[b], r, a[b]);
      out[t * out_stride + r] = sum;
    }
  }
}

}  // namespace lp
