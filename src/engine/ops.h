#pragma once
// The small per-token operations of the forward pass, written plainly so the compiler can
// vectorize them; the matrix products are in kernels/.
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

}  // namespace lp
