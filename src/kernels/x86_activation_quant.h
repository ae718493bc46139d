#pragma once
// Activation quantizers with 256-bit vectors, byte-identical to the scalar ones in
// activation_quant.cpp (tested): same amax, the same float division for d and 1/d, the same
// products, and the same rounding (C's roundf for Q8_0/Q8_1, half to even for Q8_K).
// Included by the x86 SIMD units; see x86_simd_helpers.h for why everything is internal.
#include <cmath>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/simd_kernels.h"
#include "kernels/x86_simd_helpers.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// C's roundf: truncate, then step away from zero when the dropped fraction is at least a
// half. r - trunc(r) is exact in float, so the comparison decides ties as roundf does.
inline __m256i round_half_away(__m256 r) {
  const __m256 truncated = _mm256_round_ps(r, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 fraction = abs_ps(_mm256_sub_ps(r, truncated));
  const __m256 one_signed = _mm256_or_ps(_mm256_and_ps(r, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
  const __m256 step = _mm256_and_ps(_mm256_cmp_ps(fraction, _mm256_set1_ps(0.5f), _CMP_GE_OQ), one_signed);
  return _mm256_cvttps_epi32(_mm256_add_ps(truncated, step));
}

// Four vectors of eight int32 (each within int8) to 32 int8 in order.
inline __m256i pack_32_int8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  const __m256i bytes = _mm256_packs_epi16(ab, cd);
  // The packs interleave 128-bit lanes: dwords come out as a0 b0 c0 d0 a1 b1 c1 d1.
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// One block of 32 as in the scalar quantize_block_32; returns d before fp16 rounding and
// the sum of the quantized values (for Q8_1).
inline float quantize_block_32_simd(const float* x, uint16_t& d_bits, int8_t* qs, int& sum) {
  __m256 v[4];
  for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(x + 8 * k);
  const __m256 m = _mm256_max_ps(_mm256_max_ps(abs_ps(v[0]), abs_ps(v[1])), _mm256_max_ps(abs_ps(v[2]), abs_ps(v[3])));
  const float amax = horizontal_max(m);
  const float d = amax / 127.0f;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  d_bits = f32_to_f16(d);
  const __m256 scale = _mm256_set1_ps(inverse);
  __m256i q[4];
  for (int k = 0; k < 4; ++k) q[k] = round_half_away(_mm256_mul_ps(v[k], scale));
  const __m256i packed = pack_32_int8(q[0], q[1], q[2], q[3]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), packed);
  const __m256i sums = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  sum = static_cast<int>(horizontal_sum(_mm256_cvtepi32_ps(sums)));  // |sum| <= 32 * 127: exact in float
  return d;
}

void quantize_activations_q8_0_x86(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_0*>(dst);
  int sum;
  for (int64_t i = 0; i < n / kQK; ++i) quantize_block_32_simd(src + i * kQK, blocks[i].d, blocks[i].qs, sum);
}

void quantize_activations_q8_1_x86(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int sum;
    const float d = quantize_block_32_simd(src + i * kQK, blocks[i].d, blocks[i].qs, sum);
    blocks[i].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

void quantize_activations_q8_k_x86(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ8_K& b = blocks[i];
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < kQK_K; k += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + k)));
    const float max_abs = horizontal_max(m);
    if (max_abs == 0.0f) {
      std::memset(&b, 0, sizeof b);
      continue;
    }
    // The first value of that magnitude keeps its sign in the scale, as in the scalar loop.
    float max_value = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) == max_abs) {
        max_value = x[j];
        break;
      }
    }
    const float inverse_scale = -127.0f / max_value;
    const __m256 scale = _mm256_set1_ps(inverse_scale);
    const __m256i limit = _mm256_set1_epi32(127);
    for (int k = 0; k < kQK_K; k += 32) {
      __m256i q[4];
      // cvtps rounds half to even (the default rounding mode), as ggml's nearest_int does.
      for (int j = 0; j < 4; ++j) q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * j), scale)), limit);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.qs + k), pack_32_int8(q[0], q[1], q[2], q[3]));
      // bsums of values k..k+15 and k+16..k+31.
      const __m256i first = _mm256_add_epi32(q[0], q[1]), second = _mm256_add_epi32(q[2], q[3]);
      b.bsums[k / 16] = static_cast<int16_t>(horizontal_sum(_mm256_cvtepi32_ps(first)));
      b.bsums[k / 16 + 1] = static_cast<int16_t>(horizontal_sum(_mm256_cvtepi32_ps(second)));
    }
    b.d = 1.0f / inverse_scale;
  }
}

constexpr SimdQuantizer kX86Quantizers[] = {
    {GgmlType::Q8_0, quantize_activations_q8_0_x86},
    {GgmlType::Q8_1, quantize_activations_q8_1_x86},
    {GgmlType::Q8_K, quantize_activations_q8_k_x86},
};

}  // namespace
}  // namespace lp
