#include "kernels/interleaved_q4_0_q8_0.h"

#include <cstring>
#include <type_traits>

#include "core/float_convert.h"
#include "kernels/interleaved_scalar.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

template <class Grouped>
constexpr bool kQ4 = std::is_same_v<Grouped, BlockQ4_0x8>;

template <class Grouped, class Block>
void interleave(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  interleave_blocks<Grouped, Block, kQK>(rows, row_bytes, cols, group, [](Grouped& x, const Block& row, int r) {
    constexpr int kPieces = sizeof(Grouped::qs) / sizeof(Grouped::qs[0]);
    x.d[r] = row.d;
    for (int k = 0; k < kPieces; ++k) std::memcpy(x.qs[k][r], row.qs + 4 * k, 4);
  });
}

// Value v (0..31) of row r as the signed integer the block scales.
template <class Grouped>
int value(const Grouped& x, int r, int v) {
  if constexpr (kQ4<Grouped>) {
    const uint8_t byte = x.qs[(v % 16) / 4][r][v % 4];
    return (v < 16 ? byte & 0x0F : byte >> 4) - 8;
  } else {
    return x.qs[v / 4][r][v % 4];
  }
}

template <class Grouped>
void dequantize_row(const uint8_t* group, int r, float* out, int64_t cols) {
  const auto* x = reinterpret_cast<const Grouped*>(group);
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const float d = f16_to_f32(x[b].d[r]);
    for (int v = 0; v < kQK; ++v) out[b * kQK + v] = static_cast<float>(value(x[b], r, v)) * d;
  }
}

// Per row and block the exact integer sum of w * a, then the float scales as vec_dot does.
template <class Grouped>
void gemm_scalar(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride, int64_t n_tokens, float* out,
                 int64_t out_stride) {
  reference_gemm<Grouped, BlockQ8_0, kQK>(n, group, act, act_stride, n_tokens, out, out_stride,
                                          [](const Grouped& x, int r, const BlockQ8_0& a) {
                                            int32_t dot = 0;
                                            for (int v = 0; v < kQK; ++v) dot += value(x, r, v) * a.qs[v];
                                            const float dw = f16_to_f32(x.d[r]), da = f16_to_f32(a.d);
                                            if constexpr (kQ4<Grouped>) return static_cast<float>(dot) * dw * da;
                                            else return static_cast<float>(dot) * (dw * da);
                                          });
}

}  // namespace

const InterleavedFormat kInterleavedQ4_0{grouped_bytes<BlockQ4_0x8, kQK>, interleave<BlockQ4_0x8, BlockQ4_0>,
                                         dequantize_row<BlockQ4_0x8>, gemm_scalar<BlockQ4_0x8>};
const InterleavedFormat kInterleavedQ8_0{grouped_bytes<BlockQ8_0x8, kQK>, interleave<BlockQ8_0x8, BlockQ8_0>,
                                         dequantize_row<BlockQ8_0x8>, gemm_scalar<BlockQ8_0x8>};

}  // namespace lp
