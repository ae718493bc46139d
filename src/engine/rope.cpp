#include "engine/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace lp {

// Frequencies and angles are rounded to float32 where transformers computes in float32, so
// our positions rotate like the reference's, not just close to it.
namespace {

// The dimension (pair index scaled to `dims`) whose wavelength turns `rotations` times over
// `context` positions (YaRN's correction dimension).
double correction_dim(double rotations, double dims, double base, double context) {
  return dims * std::log(context / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
}

// YaRN's per-pair weight of the extrapolated frequency: 1 for fast-turning pairs, 0 for
// slow ones, a linear ramp between (as transformers and llama.cpp compute it).
double yarn_extrapolation_weight(int64_t pair, const RopeSettings& s) {
  const auto dims = static_cast<double>(s.dims), context = static_cast<double>(s.yarn_original_context);
  double low = correction_dim(s.yarn_beta_fast, dims, s.base, context);
  double high = correction_dim(s.yarn_beta_slow, dims, s.base, context);
  if (s.yarn_truncate) low = std::floor(low), high = std::ceil(high);
  low = std::max(0.0, low);
  high = std::min(dims - 1, high);
  if (high == low) high += 0.001;
  const double ramp = std::clamp((static_cast<double>(pair) - low) / (high - low), 0.0, 1.0);
  return 1.0 - ramp;
}

}  // namespace

Rope::Rope(const RopeSettings& settings) : s_(settings) {
  const int64_t n = s_.dims / 2;
  const bool yarn = s_.yarn_factor > 1.0 && s_.yarn_original_context > 0;
  inv_freq_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto exponent = static_cast<float>(2 * i) / static_cast<float>(s_.dims);
    auto f = static_cast<float>(1.0 / static_cast<float>(std::pow(s_.base, static_cast<double>(exponent))));
    if (yarn) {
      const double w = yarn_extrapolation_weight(i, s_);
      f = static_cast<float>(f / s_.yarn_factor * (1.0 - w) + f * w);
    }
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
