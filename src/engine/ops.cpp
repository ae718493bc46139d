#include "engine/ops.h"

#include <algorithm>
#include <array>
#include <vector>

#include "core/float_convert.h"

namespace lp {
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

}  // namespace lp
