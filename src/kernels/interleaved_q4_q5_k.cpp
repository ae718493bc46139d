#include "kernels/interleaved_q4_q5_k.h"

#include <cstring>
#include <type_traits>

#include "core/float_convert.h"
#include "kernels/interleaved_scalar.h"
#include "kernels/kquant_scales.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

// Row r's eight scales and eight mins (0..63) from [byte][row] packed scales.
void kx8_scales_mins(const uint8_t (&packed)[12][kInterleavedRows], int r, uint8_t scales[8], uint8_t mins[8]) {
  uint8_t row[12];
  for (int k = 0; k < 12; ++k) row[k] = packed[k][r];
  const ScaleMinWords words = unpack_scales_mins_k4_words(row);
  std::memcpy(scales, &words.scales_low, 4);
  std::memcpy(scales + 4, &words.scales_high, 4);
  std::memcpy(mins, &words.mins_low, 4);
  std::memcpy(mins + 4, &words.mins_high, 4);
}

// Q5_K has fifth bits; Q4_K does not.
template <class Grouped>
constexpr bool kFifthBit = std::is_same_v<Grouped, BlockQ5_Kx8>;

template <class Grouped, class Block>
void interleave(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  interleave_blocks<Grouped, Block, kQK_K>(rows, row_bytes, cols, group, [](Grouped& x, const Block& row, int r) {
    x.d[r] = row.d;
    x.dmin[r] = row.dmin;
    for (int k = 0; k < 12; ++k) x.scales[k][r] = row.scales[k];
    for (int k = 0; k < 8; ++k) {
      if constexpr (kFifthBit<Grouped>) std::memcpy(x.pieces[k].qh[r], row.qh + 4 * k, 4);
      for (int c = 0; c < 4; ++c) std::memcpy(x.pieces[k].qs[c][r], row.qs + 32 * c + 4 * k, 4);
    }
  });
}

// Level of value v (0..255) of row r in one interleaved super-block.
template <class Grouped>
int level(const Grouped& x, int r, int v) {
  const int c = v / 64, high = (v % 64) / 32, k = (v % 32) / 4;
  const uint8_t byte = x.pieces[k].qs[c][r][v % 4];
  int value = high ? byte >> 4 : byte & 0x0F;
  if constexpr (kFifthBit<Grouped>) value |= ((x.pieces[k].qh[r][v % 4] >> (v / 32)) & 1) << 4;
  return value;
}

template <class Grouped>
void dequantize_row(const uint8_t* group, int r, float* out, int64_t cols) {
  const auto* x = reinterpret_cast<const Grouped*>(group);
  for (int64_t b = 0; b < cols / kQK_K; ++b) {
    const float d = f16_to_f32(x[b].d[r]), dmin = f16_to_f32(x[b].dmin[r]);
    uint8_t scales[8], mins[8];
    kx8_scales_mins(x[b].scales, r, scales, mins);
    for (int v = 0; v < kQK_K; ++v) {
      const int j = v / 32;
      // The same two products and difference as the type's dequantizer, so values are equal.
      const float scale = d * static_cast<float>(scales[j]), min = dmin * static_cast<float>(mins[j]);
      out[b * kQK_K + v] = scale * static_cast<float>(level(x[b], r, v)) - min;
    }
  }
}

// Per row and super-block: the exact integer sums sum_j scale_j * (levels . a) and
// sum_j min_j * (a's sum over sub-block j), then d * a.d and dmin * a.d as vec_dot does.
template <class Grouped>
void gemm_scalar(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride, int64_t n_tokens, float* out,
                 int64_t out_stride) {
  reference_gemm<Grouped, BlockQ8_K, kQK_K>(
      n, group, act, act_stride, n_tokens, out, out_stride, [](const Grouped& x, int r, const BlockQ8_K& a) {
        uint8_t scales[8], mins[8];
        kx8_scales_mins(x.scales, r, scales, mins);
        int32_t scaled = 0, min_sum = 0;
        for (int j = 0; j < 8; ++j) {
          int32_t dot = 0;
          for (int v = 32 * j; v < 32 * j + 32; ++v) dot += level(x, r, v) * a.qs[v];
          scaled += scales[j] * dot;
          min_sum += mins[j] * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
        }
        return a.d * f16_to_f32(x.d[r]) * static_cast<float>(scaled) -
               a.d * f16_to_f32(x.dmin[r]) * static_cast<float>(min_sum);
      });
}

}  // namespace

const InterleavedFormat kInterleavedQ4_K{grouped_bytes<BlockQ4_Kx8, kQK_K>, interleave<BlockQ4_Kx8, BlockQ4_K>,
                                         dequantize_row<BlockQ4_Kx8>, gemm_scalar<BlockQ4_Kx8>};
const InterleavedFormat kInterleavedQ5_K{grouped_bytes<BlockQ5_Kx8, kQK_K>, interleave<BlockQ5_Kx8, BlockQ5_K>,
                                         dequantize_row<BlockQ5_Kx8>, gemm_scalar<BlockQ5_Kx8>};

}  // namespace lp
