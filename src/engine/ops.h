#pragma once
// The small per-token operations of the forward pass; the matrix products are in kernels/.
// The loops over whole rows are written so the compiler vectorizes them, and are built for
// AVX-512, AVX2 + FMA and the baseline (kernels/row_ops.h), chosen per call like the kernels.
#include <cmath>
#include <cstdint>

namespace lp {

// out = x / rms(x) * w (w == nullptr: no weight). Sums in double: models are tested at 1e-4.
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);
void add_in_place(float* x, const float* y, int64_t n);
void softmax_in_place(float* x, int64_t n);
// log_softmax of n logits, in double so that tiny probabilities keep their digits.
void log_softmax(const float* logits, float* out, int64_t n);
void softcap_in_place(float* x, int64_t n, float cap);  // cap * tanh(x / cap)

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
// GELU with the tanh approximation (Gemma's gelu_pytorch_tanh).
inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

// exp(x) for a whole row with a polynomial the compiler can vectorize (within 2 ulp of
// std::exp from -87.3 to 88.3; 0 below, exp(88.3) above).
void exp_row(const float* x, float* out, int64_t n);
// The gated feed-forward's activation: out[i] = act(gate[i]) * up[i], act = silu or
// gelu_tanh; out may be up. Same values as the scalar silu/gelu_tanh within a few ulp.
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n);
// gpt-oss's clamped SwiGLU: g = min(gate, limit), u = clamp(up, -limit, limit),
// out = g * sigmoid(alpha * g) * (u + 1); out may be up.
void swiglu_oai(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit);

// Row helpers of attention, vectorized: a · b; y += a * x; x *= a.
float dot_row(const float* a, const float* b, int64_t n);
void axpy_row(float a, const float* x, float* y, int64_t n);
void scale_row(float* x, float a, int64_t n);
// The online softmax's steps over a row of scores, vectorized: x *= a, returning the largest
// (n > 0); and x = e^(x - shift), returning the sum.
float scale_max_row(float* x, float a, int64_t n);
float exp_shifted_sum_row(float* x, float shift, int64_t n);

// The two products of attention over a tile of 64 cached positions, four query rows at a
// time, register-blocked (sixteen 16-float accumulators) so they run at multiply-add speed.
// Scores: out[r * 64 + j] = q[r] . key j, with the tile's keys stored transposed
// (kt[i * 64 + j] is key j's value i, i < d).
void attention_scores_4x64(const float* kt, const float* const q[4], int64_t d, float* out);
// Values: out[r][c] += sum_j p[r * p_stride + j] * v[j * v_stride + c] for r < 4, j < n, c < dv.
void attention_values_4(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n, float* const out[4],
                        int64_t dv);
// The same over a float16 cache, converted in registers as it is read (no float copy): keys in
// the cache's transposed tiles (kt[i * 64 + j] as float16 bits), values as rows (v_stride in
// values).
void attention_scores_4x64_f16(const uint16_t* kt, const float* const q[4], int64_t d, float* out);
void attention_values_4_f16(const float* p, int64_t p_stride, const uint16_t* v, int64_t v_stride, int64_t n,
                            float* const out[4], int64_t dv);

}  // namespace lp
