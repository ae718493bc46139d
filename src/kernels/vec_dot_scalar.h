#pragma once
// Scalar reference dot products, one per weight type: each computes what ggml's scalar
// ggml_vec_dot_<weight>_<activation>_generic computes, with the same integer sums and the
// same float operations in the same order. They are the truth the SIMD kernels are tested
// against. `n` is the row length; `act` is the activation row in the paired type.
#include <cstdint>

namespace lp {

float vec_dot_f32_f32(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_f16_f32(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_bf16_f32(int64_t n, const uint8_t* weights, const uint8_t* act);

float vec_dot_q4_0_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q4_1_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q5_0_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q5_1_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q8_0_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_mxfp4_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act);

// MLX affine groups repacked at load as bytes (quant/mlx_affine.h; no ggml counterpart).
float vec_dot_mlx_u8_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act);

float vec_dot_q2_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q3_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q4_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q5_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act);
float vec_dot_q6_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act);

}  // namespace lp
