#include "kernels/half_vectors.h"

#include <array>
#include <vector>

#include "core/float_convert.h"
#include "kernels/kernel_table.h"

namespace lp {
namespace half_vectors_scalar {
namespace {

// All 65536 halves as floats: a lookup is cheaper than the bit manipulation per value.
const float* half_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t i = 0; i < 65536; ++i) t[i] = f16_to_f32(static_cast<uint16_t>(i));
    return t;
  }();
  return table.data();
}

}  // namespace

float dot_f32_f16(const float* a, const uint16_t* b, int64_t n) {
  const float* table = half_table();
  std::array<float, 8> acc{};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * table[b[i + j]];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += a[i] * table[b[i]];
  for (float v : acc) sum += v;
  return sum;
}

void axpy_f16(float a, const uint16_t* x, float* y, int64_t n) {
  const float* table = half_table();
  for (int64_t i = 0; i < n; ++i) y[i] += a * table[x[i]];
}

void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_f16(x[i]);
}

void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f16_to_f32(x[i]);
}

}  // namespace half_vectors_scalar

namespace {

struct HalfVectorFns {
  float (*dot)(const float*, const uint16_t*, int64_t);
  void (*axpy)(float, const uint16_t*, float*, int64_t);
  void (*to_half)(const float*, uint16_t*, int64_t);
  void (*to_float)(const uint16_t*, float*, int64_t);
};

// Chosen per call from the active instruction set, so LP_KERNELS=scalar also forces these.
HalfVectorFns fns() {
#if defined(LP_X86_KERNELS)
  if (active_kernel_isa() >= KernelIsa::Avx2) {
    return {half_vectors_avx2::dot_f32_f16, half_vectors_avx2::axpy_f16, half_vectors_avx2::f32_to_f16_row,
            half_vectors_avx2::f16_to_f32_row};
  }
#endif
#if defined(LP_ARM_KERNELS)
  if (active_kernel_isa() != KernelIsa::Scalar) {
    return {half_vectors_neon::dot_f32_f16, half_vectors_neon::axpy_f16, half_vectors_neon::f32_to_f16_row,
            half_vectors_neon::f16_to_f32_row};
  }
#endif
  return {half_vectors_scalar::dot_f32_f16, half_vectors_scalar::axpy_f16, half_vectors_scalar::f32_to_f16_row,
          half_vectors_scalar::f16_to_f32_row};
}

}  // namespace

float dot_f32_f16(const float* a, const uint16_t* b, int64_t n) { return fns().dot(a, b, n); }
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n) { fns().axpy(a, x, y, n); }
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) { fns().to_half(x, y, n); }
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) { fns().to_float(x, y, n); }

}  // namespace lp
