#include "kernels/interleaved_q8_0.h"

#include <cstring>

#include "core/float_convert.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

uint64_t group_bytes_q8_0(int64_t cols) { return static_cast<uint64_t>(cols / kQK) * sizeof(BlockQ8_0x8); }

void interleave_q8_0(const uint8_t* rows, uint64_t row_bytes, int64_t cols, uint8_t* group) {
  auto* out = reinterpret_cast<BlockQ8_0x8*>(group);
  for (int r = 0; r < kInterleavedRows; ++r) {
    const auto* row = reinterpret_cast<const BlockQ8_0*>(rows + static_cast<uint64_t>(r) * row_bytes);
    for (int64_t b = 0; b < cols / kQK; ++b) {
      out[b].d[r] = row[b].d;
      for (int k = 0; k < 8; ++k) std::memcpy(out[b].qs[k][r], row[b].qs + 4 * k, 4);
    }
  }
}

void dequantize_row_q8_0(const uint8_t* group, int r, float* out, int64_t cols) {
  const auto* x = reinterpret_cast<const BlockQ8_0x8*>(group);
  for (int64_t b = 0; b < cols / kQK; ++b) {
    const float d = f16_to_f32(x[b].d[r]);
    for (int v = 0; v < kQK; ++v) out[b * kQK + v] = d * static_cast<float>(x[b].qs[v / 4][r][v % 4]);
  }
}

// Per row and block the exact integer sum of w * a, then d_w * d_a, as vec_dot_q8_0_q8_0.
void gemm_q8_0_scalar(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t act_stride, int64_t n_tokens,
                      float* out, int64_t out_stride) {
  const auto* x = reinterpret_cast<const BlockQ8_0x8*>(group);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* a = reinterpret_cast<const BlockQ8_0*>(act + static_cast<uint64_t>(t) * act_stride);
    for (int r = 0; r < kInterleavedRows; ++r) {
      float sum = 0.0f;
      for (int64_t b = 0; b < n / kQK; ++b) {
        int32_t dot = 0;
        for (int v = 0; v < kQK; ++v) dot += x[b].qs[v / 4][r][v % 4] * a[b].qs[v];
        sum += static_cast<float>(dot) * (f16_to_f32(x[b].d[r]) * f16_to_f32(a[b].d));
      }
      out[t * out_stride + r] = sum;
    }
  }
}

}  // namespace

const InterleavedFormat kInterleavedQ8_0{group_bytes_q8_0, interleave_q8_0, dequantize_row_q8_0, gemm_q8_0_scalar};

}  // namespace lp
