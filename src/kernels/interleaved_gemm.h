#pragma once
// Row-interleaved weights: a weight type's rows regrouped once, at load, in groups of
// kInterleavedRows so that 32-bit lane r of a vector holds four levels of row r. Decode reads
// every weight once per token, so the instructions spent per weight decide its speed; with
// rows in lanes one vpdpbusd takes four products of each of eight rows, a sub-block's scale
// meets eight rows' integer sums in one multiply, and no shuffles spread scales over values.
// Measured on one core (Zen 4, 1536 columns, from L2): about twice the weight bytes per
// second of the row-at-a-time kernels (bench/RESULTS.md, per type). The regrouped copy takes
// exactly the file's bytes and replaces them (the mapping's pages are released), so memory
// does not grow.
#include <cstdint>

#include "core/ggml_types.h"

namespace lp {

constexpr int kInterleavedRows = 8;

// out[t * out_stride + r] = dot(row r of the group, activation row t) for r < 8 and
// t < n_tokens; activations as for DotTileFn, and for batches of kPanelMinTokens or more as
// the product's batch quantizer writes them (interleaved_quantizer_for; see panel_gemm.h).
using InterleavedGemmFn = void (*)(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride,
                                   int64_t n_tokens, float* out, int64_t out_stride);

// One weight type's interleaved format: its size, the regrouping, and reading one row back.
struct InterleavedFormat {
  uint64_t (*group_bytes)(int64_t cols);
  // kInterleavedRows rows of `cols` values (row r at rows + r * row_bytes) to one group.
  void (*interleave)(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group);
  // Row r (0..7) of a group as floats, equal to the weight type's own dequantization.
  void (*dequantize_row)(const uint8_t* group, int r, float* out, int64_t cols);
  InterleavedGemmFn scalar;  // the reference product, integer sums as the scalar vec_dot
};

// Q2_K..Q6_K, Q4_0 and Q8_0 (interleaved_q2_q3_k.h, interleaved_q4_q5_k.h, interleaved_q6_k.h,
// interleaved_q4_0_q8_0.h); nullptr for a type without one.
const InterleavedFormat* interleaved_format(GgmlType weight);

}  // namespace lp
