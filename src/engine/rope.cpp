#include "engine/rope.h"

#include <cmath>

namespace lp {

// Frequencies and angles are rounded to float32 where transformers computes in float32, so
// our positions rotate like the reference's, not just close to it.
Rope::Rope(const RopeSettings& settings) : s_(settings) {
  const int64_t n = s_.dims / 2;
  inv_freq_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto exponent = static_cast<float>(2 * i) / static_cast<float>(s_.dims);
    auto f = static_cast<float>(1.0 / static_cast<float>(std::pow(s_.base, static_cast<double>(exponent))));
    if (!s_.freq_factors.empty()) f = f / s_.freq_factors[static_cast<size_t>(i)];
    inv_freq_[static_cast<size_t>(i)] = f;
  }
}

void Rope::angles(int64_t pos, float* cos, float* sin) const {
  const auto p = static_cast<float>(static_cast<double>(pos) / s_.position_scale);
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const float angle = p * inv_freq_[i];
    cos[i] = static_cast<float>(std::cos(static_cast<double>(angle)) * s_.attn_factor);
    sin[i] = static_cast<float>(std::sin(static_cast<double>(angle)) * s_.attn_factor);
  }
}

void Rope::apply(float* x, int64_t heads, int64_t head_dim, const float* cos, const float* sin) const {
  const int64_t n = pairs();
  for (int64_t h = 0; h < heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < n; ++i) {
      float* a = s_.neox ? &v[i] : &v[2 * i];
      float* b = s_.neox ? &v[i + s_.dims / 2] : &v[2 * i + 1];
      const float x0 = *a, x1 = *b;
      *a = x0 * cos[i] - x1 * sin[i];
      *b = x0 * sin[i] + x1 * cos[i];
    }
  }
}

}  // namespace lp
