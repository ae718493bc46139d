#pragma once
// Scalar reference quantizers: one row of float32 values into blocks of a GGML type.
// `importance` (one value per column of the row, e.g. from an imatrix) weights the squared
// error the quantizer minimizes; nullptr means every value counts the same.
#include <cstdint>

namespace lp {

void quantize_row_f32(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_f16(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_bf16(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q4_0(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q4_1(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q5_0(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q5_1(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q8_0(const float* src, uint8_t* dst, int64_t n, const float* importance);
// MXFP4 follows ggml's quantize_row_mxfp4_ref byte for byte: it ignores importance.
void quantize_row_mxfp4(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q2_k(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q3_k(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q4_k(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q5_k(const float* src, uint8_t* dst, int64_t n, const float* importance);
void quantize_row_q6_k(const float* src, uint8_t* dst, int64_t n, const float* importance);
// Q8_K quantizes activations for dot products; it ignores importance.
void quantize_row_q8_k(const float* src, uint8_t* dst, int64_t n, const float* importance);

}  // namespace lp
