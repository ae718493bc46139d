// NEON versions of half_vectors.h for 64-bit ARM (half <-> float conversions are part of the
// base aarch64 instruction set, so every aarch64 CPU runs these).
#include <arm_neon.h>

#include "core/float_convert.h"
#include "kernels/half_vectors.h"

namespace lp::half_vectors_neon {
namespace {

// Eight halves as two vectors of four floats (exact).
inline float32x4x2_t load8(const uint16_t* p) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
  return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};
}

}  // namespace

float dot_f32_f16(const float* a, const uint16_t* b, int64_t n) {
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4x2_t bv = load8(b + i);
    acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), bv.val[0]);
    acc1 = vfmaq_f32(acc1, vld1q_f32(a + i + 4), bv.val[1]);
  }
  float sum = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * f16_to_f32(b[i]);
  return sum;
}

void axpy_f16(float a, const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4x2_t xv = load8(x + i);
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), xv.val[0], a));
    vst1q_f32(y + i + 4, vfmaq_n_f32(vld1q_f32(y + i + 4), xv.val[1], a));
  }
  for (; i < n; ++i) y[i] += a * f16_to_f32(x[i]);
}

// Rounds to nearest, ties to even (the default FPCR mode), as f32_to_f16 does.
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x8_t h = vcombine_f16(vcvt_f16_f32(vld1q_f32(x + i)), vcvt_f16_f32(vld1q_f32(x + i + 4)));
    vst1q_u16(y + i, vreinterpretq_u16_f16(h));
  }
  for (; i < n; ++i) y[i] = f32_to_f16(x[i]);
}

void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4x2_t v = load8(x + i);
    vst1q_f32(y + i, v.val[0]);
    vst1q_f32(y + i + 4, v.val[1]);
  }
  for (; i < n; ++i) y[i] = f16_to_f32(x[i]);
}

}  // namespace lp::half_vectors_neon
