#pragma once
// The engine's per-row loops (engine/ops.h): activations, the online softmax's steps and the
// two register-blocked products of attention. They are plain loops written for the compiler
// to vectorize (row_ops_body.h), built once per instruction set with that set's flags
// (row_ops_{baseline,avx2,avx512}.cpp) and chosen per call like the matrix kernels, so
// LP_KERNELS=avx2 runs the whole engine as an AVX2 machine would.
#include <cstdint>

#include "kernels/kernel_table.h"

namespace lp {

struct RowOps {
  void (*exp_row)(const float* x, float* out, int64_t n);
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n);
  void (*gelu_tanh_mul)(const float* gate, const float* up, float* out, int64_t n);
  void (*swiglu_oai)(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit);
  float (*dot_row)(const float* a, const float* b, int64_t n);
  void (*axpy_row)(float a, const float* x, float* y, int64_t n);
  void (*scale_row)(float* x, float a, int64_t n);
  float (*scale_max_row)(float* x, float a, int64_t n);
  float (*exp_shifted_sum_row)(float* x, float shift, int64_t n);
  void (*attention_scores_4x64)(const float* kt, const float* const q[4], int64_t d, float* out);
  void (*attention_values_4)(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n,
                             float* const out[4], int64_t dv);
  void (*attention_scores_4x64_f16)(const uint16_t* kt, const float* const q[4], int64_t d, float* out);
  void (*attention_values_4_f16)(const float* p, int64_t p_stride, const uint16_t* v, int64_t v_stride, int64_t n,
                                 float* const out[4], int64_t dv);
};

// The loops for `isa`: its own build where there is one (AVX2 + FMA + F16C, AVX-512), the
// baseline build (x86-64's SSE2, or 64-bit ARM's Advanced SIMD) otherwise.
const RowOps& row_ops_for(KernelIsa isa);
// For the active instruction set (active_kernel_isa()).
inline const RowOps& row_ops() { return row_ops_for(active_kernel_isa()); }

const RowOps& row_ops_baseline();
const RowOps& row_ops_avx2();
const RowOps& row_ops_avx512();

}  // namespace lp
