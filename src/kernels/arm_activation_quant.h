#pragma once
// Activation quantizers with NEON, byte-identical to the scalar ones in activation_quant.cpp
// (tested): the same amax, the same float division for d and 1/d, the same products, and the
// same rounding (C's roundf, ties away from zero, for Q8_0/Q8_1: vcvtaq; half to even for
// Q8_K: vcvtnq). Included by kernels_neon.cpp; the dot-product set falls back to these.
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/simd_kernels.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

// 16 floats times `scale`, rounded by `round` to int32, narrowed to bytes (|values| <= 127).
template <int32x4_t (*round)(float32x4_t)>
inline int8x16_t scaled_bytes(const float* x, float scale) {
  int32x4_t q[4];
  for (int k = 0; k < 4; ++k) q[k] = round(vmulq_n_f32(vld1q_f32(x + 4 * k), scale));
  const int16x8_t low = vcombine_s16(vqmovn_s32(q[0]), vqmovn_s32(q[1]));
  const int16x8_t high = vcombine_s16(vqmovn_s32(q[2]), vqmovn_s32(q[3]));
  return vcombine_s8(vqmovn_s16(low), vqmovn_s16(high));
}
inline int32x4_t round_away(float32x4_t v) { return vcvtaq_s32_f32(v); }
inline int32x4_t round_even(float32x4_t v) { return vcvtnq_s32_f32(v); }

// The largest |x|, NaNs ignored as the scalar loops' comparisons ignore them (maxNum).
inline float abs_max(const float* x, int n) {
  float32x4_t m = vdupq_n_f32(0.0f);
  for (int j = 0; j < n; j += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + j)));
  return vmaxnmvq_f32(m);
}

// One block of 32 as quantize_block_32 does it; returns d before its fp16 rounding.
inline float quantize_block_32_neon(const float* x, uint16_t& d_bits, int8_t* qs) {
  const float d = abs_max(x, kQK) / 127.0f;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  d_bits = f32_to_f16(d);
  vst1q_s8(qs, scaled_bytes<round_away>(x, inverse));
  vst1q_s8(qs + 16, scaled_bytes<round_away>(x + 16, inverse));
  return d;
}

void quantize_activations_q8_0_neon(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) quantize_block_32_neon(src + i * kQK, blocks[i].d, blocks[i].qs);
}

void quantize_activations_q8_1_neon(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = quantize_block_32_neon(src + i * kQK, blocks[i].d, blocks[i].qs);
    const int sum = vaddlvq_s8(vld1q_s8(blocks[i].qs)) + vaddlvq_s8(vld1q_s8(blocks[i].qs + 16));
    blocks[i].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

void quantize_activations_q8_k_neon(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ8_K& b = blocks[i];
    const float max_abs = abs_max(x, kQK_K);
    if (!(max_abs > 0.0f)) {  // all zero (or NaN): the scalar code's max_abs stays 0 too
      std::memset(&b, 0, sizeof b);
      continue;
    }
    // The first value of largest magnitude maps to -127 exactly (its sign kept in the scale).
    const float max_value = *std::find_if(x, x + kQK_K, [&](float v) { return std::fabs(v) == max_abs; });
    const float inverse_scale = -127.0f / max_value;
    const int8x16_t limit = vdupq_n_s8(127);
    for (int g = 0; g < kQK_K / 16; ++g) {
      const int8x16_t q = vminq_s8(scaled_bytes<round_even>(x + 16 * g, inverse_scale), limit);
      vst1q_s8(b.qs + 16 * g, q);
      b.bsums[g] = static_cast<int16_t>(vaddlvq_s8(q));
    }
    b.d = 1.0f / inverse_scale;
  }
}

constexpr SimdQuantizer kArmQuantizers[] = {
    {GgmlType::Q8_0, quantize_activations_q8_0_neon},
    {GgmlType::Q8_1, quantize_activations_q8_1_neon},
    {GgmlType::Q8_K, quantize_activations_q8_k_neon},
};

}  // namespace
}  // namespace lp
