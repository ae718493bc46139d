#include "kernels/activation_quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/float_convert.h"

namespace lp {
namespace {

// ggml's nearest_int: round half to even through the float's mantissa (valid for |x| < 2^22).
int round_half_even(float x) {
  const float shifted = x + 12582912.0f;  // 1.5 * 2^23
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007fffff) - 0x00400000;
}

// One block of 32: d = amax / 127, q = roundf(x * (1 / d)) (half away from zero, like C's
// roundf). Returns d before its fp16 rounding, which Q8_1's s is computed from (as in ggml).
float quantize_block_32(const float* x, uint16_t& d_bits, int8_t* qs) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  d_bits = f32_to_f16(d);
  for (int j = 0; j < kQK; ++j) qs[j] = static_cast<int8_t>(std::roundf(x[j] * inverse));
  return d;
}

}  // namespace

void quantize_activations_q8_0(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) quantize_block_32(src + i * kQK, blocks[i].d, blocks[i].qs);
}

void quantize_activations_q8_1(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = quantize_block_32(src + i * kQK, blocks[i].d, blocks[i].qs);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) sum += blocks[i].qs[j];
    blocks[i].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

void quantize_activations_q8_k(const float* src, uint8_t* dst, int64_t n) {
  auto* blocks = reinterpret_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float* x = src + i * kQK_K;
    BlockQ8_K& b = blocks[i];
    // The value of largest magnitude maps to -127 exactly (its sign kept in the scale).
    float max_value = 0.0f, max_abs = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float a = std::fabs(x[j]);
      if (a > max_abs) {
        max_abs = a;
        max_value = x[j];
      }
    }
    if (max_abs == 0.0f) {
      std::memset(&b, 0, sizeof b);
      continue;
    }
    const float inverse_scale = -127.0f / max_value;
    for (int j = 0; j < kQK_K; ++j) b.qs[j] = static_cast<int8_t>(std::min(127, round_half_even(inverse_scale * x[j])));
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b.qs[16 * g + j];
      b.bsums[g] = static_cast<int16_t>(sum);
    }
    b.d = 1.0f / inverse_scale;
  }
}

void dequantize_activations_q8_1(const uint8_t* src, float* dst, int64_t n) {
  const auto* blocks = reinterpret_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(blocks[i].d);
    for (int j = 0; j < kQK; ++j) dst[i * kQK + j] = d * static_cast<float>(blocks[i].qs[j]);
  }
}

}  // namespace lp
