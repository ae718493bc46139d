#include "kernels/interleaved_q2_q3_k.h"

#include <cstring>
#include <type_traits>

#include "core/float_convert.h"
#include "kernels/interleaved_scalar.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

// Row r's sixteen Q3_K scales (-32..31) from [byte][row] packed scales.
void q3_kx8_scales(const uint8_t (&packed)[12][kInterleavedRows], int r, int8_t scales[16]) {
  uint8_t row[12];
  for (int k = 0; k < 12; ++k) row[k] = packed[k][r];
  unpack_scales_q3_k(row, scales);
}

template <class Grouped>
constexpr bool kQ3 = std::is_same_v<Grouped, BlockQ3_Kx8>;

template <class Grouped, class Block>
void interleave(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  interleave_blocks<Grouped, Block, kQK_K>(rows, row_bytes, cols, group, [](Grouped& x, const Block& row, int r) {
    for (int h = 0; h < 2; ++h)
      for (int k = 0; k < 8; ++k) std::memcpy(x.pieces[k].qs[h][r], row.qs + 32 * h + 4 * k, 4);
    x.d[r] = row.d;
    if constexpr (kQ3<Grouped>) {
      for (int k = 0; k < 8; ++k) std::memcpy(x.pieces[k].hmask[r], row.hmask + 4 * k, 4);
      for (int k = 0; k < 12; ++k) x.scales[k][r] = row.scales[k];
    } else {
      for (int s = 0; s < 16; ++s) x.scales[s][r] = row.scales[s];
      x.dmin[r] = row.dmin;
    }
  });
}

// Level of value v (0..255) of row r: Q2_K 0..3; Q3_K 0..7, the stored value + 4.
template <class Grouped>
int level(const Grouped& x, int r, int v) {
  const int h = v / 128, plane = (v % 128) / 32, l = v % 32;
  int value = (x.pieces[l / 4].qs[h][r][l % 4] >> (2 * plane)) & 3;
  if constexpr (kQ3<Grouped>) value |= ((x.pieces[l / 4].hmask[r][l % 4] >> (4 * h + plane)) & 1) << 2;
  return value;
}

template <class Grouped>
void dequantize_row(const uint8_t* group, int r, float* out, int64_t cols) {
  const auto* x = reinterpret_cast<const Grouped*>(group);
  for (int64_t b = 0; b < cols / kQK_K; ++b) {
    const float d = f16_to_f32(x[b].d[r]);
    // The same products (and difference) as the type's dequantizer, so values are equal.
    if constexpr (kQ3<Grouped>) {
      int8_t scales[16];
      q3_kx8_scales(x[b].scales, r, scales);
      for (int v = 0; v < kQK_K; ++v)
        out[b * kQK_K + v] = d * static_cast<float>(scales[v / 16]) * static_cast<float>(level(x[b], r, v) - 4);
    } else {
      const float dmin = f16_to_f32(x[b].dmin[r]);
      for (int v = 0; v < kQK_K; ++v) {
        const uint8_t sc = x[b].scales[v / 16][r];
        const float scale = d * static_cast<float>(sc & 0xF), min = dmin * static_cast<float>(sc >> 4);
        out[b * kQK_K + v] = scale * static_cast<float>(level(x[b], r, v)) - min;
      }
    }
  }
}

// Per row and super-block the exact integer sums, then the float scales as vec_dot does.
template <class Grouped>
void gemm_scalar(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride, int64_t n_tokens, float* out,
                 int64_t out_stride) {
  reference_gemm<Grouped, BlockQ8_K, kQK_K>(
      n, group, act, act_stride, n_tokens, out, out_stride, [](const Grouped& x, int r, const BlockQ8_K& a) {
        const float d = a.d * f16_to_f32(x.d[r]);
        if constexpr (kQ3<Grouped>) {
          int8_t scales[16];
          q3_kx8_scales(x.scales, r, scales);
          int32_t total = 0;
          for (int v = 0; v < kQK_K; ++v) total += scales[v / 16] * (level(x, r, v) - 4) * a.qs[v];
          return d * static_cast<float>(total);
        } else {
          int32_t scaled = 0, min_sum = 0;
          for (int v = 0; v < kQK_K; ++v) scaled += (x.scales[v / 16][r] & 0xF) * level(x, r, v) * a.qs[v];
          for (int s = 0; s < 16; ++s) min_sum += (x.scales[s][r] >> 4) * a.bsums[s];
          return d * static_cast<float>(scaled) - a.d * f16_to_f32(x.dmin[r]) * static_cast<float>(min_sum);
        }
      });
}

}  // namespace

const InterleavedFormat kInterleavedQ2_K{grouped_bytes<BlockQ2_Kx8, kQK_K>, interleave<BlockQ2_Kx8, BlockQ2_K>,
                                         dequantize_row<BlockQ2_Kx8>, gemm_scalar<BlockQ2_Kx8>};
const InterleavedFormat kInterleavedQ3_K{grouped_bytes<BlockQ3_Kx8, kQK_K>, interleave<BlockQ3_Kx8, BlockQ3_K>,
                                         dequantize_row<BlockQ3_Kx8>, gemm_scalar<BlockQ3_Kx8>};

}  // namespace lp
