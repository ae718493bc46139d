#pragma once
// Float32-with-float16 vector operations of attention over an F16 KV cache: the dot product
// of a query with a cached key, and the weighted sum of cached values. A scalar reference,
// an AVX2/F16C version chosen at run time, and a NEON one on 64-bit ARM (tested against it).
#include <cstdint>

namespace lp {

float dot_f32_f16(const float* a, const uint16_t* b, int64_t n);
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n);  // y += a * x
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);
// F16 to F32 (exact): reading F16 weights for quantization.
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);

namespace half_vectors_scalar {
float dot_f32_f16(const float* a, const uint16_t* b, int64_t n);
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n);
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);
}  // namespace half_vectors_scalar

namespace half_vectors_avx2 {
float dot_f32_f16(const float* a, const uint16_t* b, int64_t n);
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n);
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);
}  // namespace half_vectors_avx2

namespace half_vectors_neon {
float dot_f32_f16(const float* a, const uint16_t* b, int64_t n);
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n);
void f32_to_f16_row(const float* x, uint16_t* y, int64_t n);
void f16_to_f32_row(const uint16_t* x, float* y, int64_t n);
}  // namespace half_vectors_neon

}  // namespace lp
