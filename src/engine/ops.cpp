#include "engine/ops.h"

#include <algorithm>

#include "kernels/row_ops.h"

namespace lp {

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const auto scale = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  if (w) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale;
  }
}

void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void softmax_in_place(float* x, int64_t n) {
  const float max = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const auto inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void log_softmax(const float* logits, float* out, int64_t n) {
  const float max = *std::max_element(logits, logits + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double log_sum = std::log(sum) + max;
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(logits[i] - log_sum);
}

void softcap_in_place(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

// The row loops: built per instruction set (kernels/row_ops.h), chosen per call.
void exp_row(const float* x, float* out, int64_t n) { row_ops().exp_row(x, out, n); }
void silu_mul(const float* gate, const float* up, float* out, int64_t n) { row_ops().silu_mul(gate, up, out, n); }
void gelu_tanh_mul(const float* gate, const float* up, float* out, int64_t n) { row_ops().gelu_tanh_mul(gate, up, out, n); }
void swiglu_oai(const float* gate, const float* up, float* out, int64_t n, float alpha, float limit) {
  row_ops().swiglu_oai(gate, up, out, n, alpha, limit);
}
float dot_row(const float* a, const float* b, int64_t n) { return row_ops().dot_row(a, b, n); }
void axpy_row(float a, const float* x, float* y, int64_t n) { row_ops().axpy_row(a, x, y, n); }
void scale_row(float* x, float a, int64_t n) { row_ops().scale_row(x, a, n); }
float scale_max_row(float* x, float a, int64_t n) { return row_ops().scale_max_row(x, a, n); }
float exp_shifted_sum_row(float* x, float shift, int64_t n) { return row_ops().exp_shifted_sum_row(x, shift, n); }
void attention_scores_4x64(const float* kt, const float* const q[4], int64_t d, float* out) {
  row_ops().attention_scores_4x64(kt, q, d, out);
}
void attention_values_4(const float* p, int64_t p_stride, const float* v, int64_t v_stride, int64_t n, float* const out[4],
                        int64_t dv) {
  row_ops().attention_values_4(p, p_stride, v, v_stride, n, out, dv);
}
void attention_scores_4x64_f16(const uint16_t* kt, const float* const q[4], int64_t d, float* out) {
  row_ops().attention_scores_4x64_f16(kt, q, d, out);
}
void attention_values_4_f16(const float* p, int64_t p_stride, const uint16_t* v, int64_t v_stride, int64_t n,
                            float* const out[4], int64_t dv) {
  row_ops().attention_values_4_f16(p, p_stride, v, v_stride, n, out, dv);
}

}  // namespace lp
