#include "kernels/interleaved_q6_k.h"

#include <cstring>

#include "core/float_convert.h"
#include "kernels/interleaved_scalar.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

void interleave_q6_k(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  interleave_blocks<BlockQ6_Kx8, BlockQ6_K, kQK_K>(rows, row_bytes, cols, group, [](BlockQ6_Kx8& x, const BlockQ6_K& row, int r) {
    for (int h = 0; h < 2; ++h)
      for (int k = 0; k < 8; ++k) {
        std::memcpy(x.pieces[h][k].ql[0][r], row.ql + 64 * h + 4 * k, 4);
        std::memcpy(x.pieces[h][k].ql[1][r], row.ql + 64 * h + 32 + 4 * k, 4);
        std::memcpy(x.pieces[h][k].qh[r], row.qh + 32 * h + 4 * k, 4);
      }
    for (int s = 0; s < 16; ++s) x.scales[s][r] = row.scales[s];
    x.d[r] = row.d;
  });
}

// Level (0..63, the stored value + 32) of value v of row r in one interleaved super-block.
int level(const BlockQ6_Kx8& x, int r, int v) {
  const int h = v / 128, run = (v % 128) / 32, l = v % 32, k = l / 4, i = l % 4;
  const BlockQ6_Kx8::Piece& piece = x.pieces[h][k];
  const uint8_t low = piece.ql[run % 2][r][i];
  const int nibble = run < 2 ? low & 0x0F : low >> 4;
  return nibble | (((piece.qh[r][i] >> (2 * run)) & 3) << 4);
}

void dequantize_row_q6_k(const uint8_t* group, int r, float* out, int64_t cols) {
  const auto* x = reinterpret_cast<const BlockQ6_Kx8*>(group);
  for (int64_t b = 0; b < cols / kQK_K; ++b) {
    const float d = f16_to_f32(x[b].d[r]);
    // The same product order as the Q6_K dequantizer, so values are equal.
    for (int v = 0; v < kQK_K; ++v)
      out[b * kQK_K + v] = d * static_cast<float>(x[b].scales[v / 16][r]) * static_cast<float>(level(x[b], r, v) - 32);
  }
}

// Per row and super-block the exact integer sum of scale * (level - 32) * a, then d * a.d.
void gemm_q6_k_scalar(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride, int64_t n_tokens,
                      float* out, int64_t out_stride) {
  reference_gemm<BlockQ6_Kx8, BlockQ8_K, kQK_K>(
      n, group, act, act_stride, n_tokens, out, out_stride, [](const BlockQ6_Kx8& x, int r, const BlockQ8_K& a) {
        int32_t total = 0;
        for (int v = 0; v < kQK_K; ++v) total += x.scales[v / 16][r] * (level(x, r, v) - 32) * a.qs[v];
        return a.d * f16_to_f32(x.d[r]) * static_cast<float>(total);
      });
}

}  // namespace

const InterleavedFormat kInterleavedQ6_K{grouped_bytes<BlockQ6_Kx8, kQK_K>, interleave_q6_k, dequantize_row_q6_k, gemm_q6_k_scalar};

}  // namespace lp
