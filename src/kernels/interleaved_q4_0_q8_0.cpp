#include "kernels/interleaved_q4_0_q8_0.h"

#include <cstring>
#include <type_traits>

#include "core/float_convert.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

template <class Grouped>
constexpr bool kQ4 = std::is_same_v<Grouped, BlockQ4_0x8>;

template <class Grouped>
uint64_t group_bytes(int64_t cols) {
  return static_cast<uint64_t>(cols / kQK) * sizeof(Grouped);
}

template <class Grouped, class Block>
void interleave(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  auto* out = reinterpret_cast<Grouped*>(group);
  constexpr int kPieces = sizeof(Grouped::qs) / sizeof(Grouped::qs[0]);
  for (int r = 0; r < kInterleavedRows; ++r) {
    const auto* row = reinterpret_cast<const Block*>(rows + static_cast<uint64_t>(r) * row_bytes);
    for (int64_t b = 0; b < cols / kQK; ++b) {
      out[b].d[r] = row[b].d;
      for (int k = 0; k < kPieces; ++k) std::memcpy(out[b].qs[k][r], row[b].qs + 4 * k, 4);
    }
  }
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
  const auto* x = reinterpret_cast<const Grouped*>(group);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_0*>(act + static_cast<uint64_t>(t) * act_stride);
    for (int r = 0; r < kInterleavedRows; ++r) {
      float sum = 0.0f;
      for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t dot = 0;
        for (int v = 0; v < kQK; ++v) dot += value(x[b], r, v) * a[b].qs[v];
        if constexpr (kQ4<Grouped>) sum += static_cast<float>(dot) * f16_to_f32(x[b].d[r]) * f16_to_f32(a[b].d);
        else sum += static_cast<float>(dot) * (f16_to_f32(x[b].d[r]) * f16_to_f32(a[b].d));
      }
      out[t * out_stride + r] = sum;
    }
  }
}

}  // namespace

const InterleavedFormat kInterleavedQ4_0{group_bytes<BlockQ4_0x8>, interleave<BlockQ4_0x8, BlockQ4_0>,
                                         dequantize_row<BlockQ4_0x8>, gemm_scalar<BlockQ4_0x8>};
const InterleavedFormat kInterleavedQ8_0{group_bytes<BlockQ8_0x8>, interleave<BlockQ8_0x8, BlockQ8_0>,
                                         dequantize_row<BlockQ8_0x8>, gemm_scalar<BlockQ8_0x8>};

}  // namespace lp
