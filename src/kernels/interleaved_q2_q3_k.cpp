#include "kernels/interleaved_q2_q3_k.h"

#include <cstring>
#include <type_traits>

#include "core/float_convert.h"
#include "quant/block_layouts.h"

namespace lp {

void q3_kx8_scales(const uint8_t (&packed)[12][kInterleavedRows], int r, int8_t scales[16]) {
  uint8_t row[12];
  for (int k = 0; k < 12; ++k) row[k] = packed[k][r];
  unpack_scales_q3_k(row, scales);
}

namespace {

template <class Grouped>
constexpr bool kQ3 = std::is_same_v<Grouped, BlockQ3_Kx8>;

template <class Grouped>
uint64_t group_bytes(int64_t cols) {
  return static_cast<uint64_t>(cols / kQK_K) * sizeof(Grouped);
}

template <class Grouped, class Block>
void interleave(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  auto* out = reinterpret_cast<Grouped*>(group);
  for (int r = 0; r < kInterleavedRows; ++r) {
    const auto* row = reinterpret_cast<const Block*>(rows + static_cast<uint64_t>(r) * row_bytes);
    for (int64_t b = 0; b < cols / kQK_K; ++b) {
      Grouped& x = out[b];
      for (int h = 0; h < 2; ++h)
        for (int k = 0; k < 8; ++k) std::memcpy(x.pieces[k].qs[h][r], row[b].qs + 32 * h + 4 * k, 4);
      x.d[r] = row[b].d;
      if constexpr (kQ3<Grouped>) {
        for (int k = 0; k < 8; ++k) std::memcpy(x.pieces[k].hmask[r], row[b].hmask + 4 * k, 4);
        for (int k = 0; k < 12; ++k) x.scales[k][r] = row[b].scales[k];
      } else {
        for (int s = 0; s < 16; ++s) x.scales[s][r] = row[b].scales[s];
        x.dmin[r] = row[b].dmin;
      }
    }
  }
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
  const auto* x = reinterpret_cast<const Grouped*>(group);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_K*>(act + static_cast<uint64_t>(t) * act_stride);
    for (int r = 0; r < kInterleavedRows; ++r) {
      float sum = 0.0f;
      for (int64_t b = 0; b < n / kQK_K; ++b) {
        const float d = a[b].d * f16_to_f32(x[b].d[r]);
        if constexpr (kQ3<Grouped>) {
          int8_t scales[16];
          q3_kx8_scales(x[b].scales, r, scales);
          int32_t total = 0;
          for (int v = 0; v < kQK_K; ++v) total += scales[v / 16] * (level(x[b], r, v) - 4) * a[b].qs[v];
          sum += d * static_cast<float>(total);
        } else {
          int32_t scaled = 0, min_sum = 0;
          for (int v = 0; v < kQK_K; ++v) scaled += (x[b].scales[v / 16][r] & 0xF) * level(x[b], r, v) * a[b].qs[v];
          for (int s = 0; s < 16; ++s) min_sum += (x[b].scales[s][r] >> 4) * a[b].bsums[s];
          sum += d * static_cast<float>(scaled) - a[b].d * f16_to_f32(x[b].dmin[r]) * static_cast<float>(min_sum);
        }
      }
      out[t * out_stride + r] = sum;
    }
  }
}

}  // namespace

const InterleavedFormat kInterleavedQ2_K{group_bytes<BlockQ2_Kx8>, interleave<BlockQ2_Kx8, BlockQ2_K>,
                                         dequantize_row<BlockQ2_Kx8>, gemm_scalar<BlockQ2_Kx8>};
const InterleavedFormat kInterleavedQ3_K{group_bytes<BlockQ3_Kx8>, interleave<BlockQ3_Kx8, BlockQ3_K>,
                                         dequantize_row<BlockQ3_Kx8>, gemm_scalar<BlockQ3_Kx8>};

}  // namespace lp
