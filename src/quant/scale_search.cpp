#include "quant/scale_search.h"

#include <cmath>
#include <initializer_list>

namespace lp {
namespace {

constexpr float kTiny = 1e-30f;
constexpr int kRefineRounds = 8;

// Optimal scale for fixed levels and the resulting error reduction term (sum w x l)^2 / sum w l^2.
struct LevelStats {
  double sum_wxl = 0, sum_wll = 0;
  double gain() const { return sum_wll > 0 ? sum_wxl * sum_wxl / sum_wll : 0.0; }
  float scale() const { return sum_wll > 0 ? static_cast<float>(sum_wxl / sum_wll) : 0.0f; }
};

LevelStats round_symmetric(const float* x, const float* w, int n, float inverse_scale, int lmin, int lmax,
                           int8_t* levels) {
  LevelStats s;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(round_to_int(inverse_scale * x[i]), lmin, lmax);
    levels[i] = static_cast<int8_t>(l);
    s.sum_wxl += static_cast<double>(w[i]) * x[i] * l;
    s.sum_wll += static_cast<double>(w[i]) * l * l;
  }
  return s;
}

double affine_error(const float* x, const float* w, int n, const uint8_t* l, float scale, float offset) {
  double e = 0;
  for (int i = 0; i < n; ++i) {
    const double r = x[i] - (scale * l[i] + offset);
    e += w[i] * r * r;
  }
  return e;
}

// Weighted least squares for (scale, offset) given levels, optionally with offset <= 0.
AffineFit solve_affine(const float* x, const float* w, int n, const uint8_t* l, bool offset_nonpositive) {
  double sw = 0, swl = 0, swll = 0, swx = 0, swlx = 0;
  for (int i = 0; i < n; ++i) {
    sw += w[i];
    swl += w[i] * l[i];
    swll += static_cast<double>(w[i]) * l[i] * l[i];
    swx += w[i] * x[i];
    swlx += static_cast<double>(w[i]) * l[i] * x[i];
  }
  AffineFit f;
  const double det = sw * swll - swl * swl;
  if (det > kTiny) {
    f.scale = static_cast<float>((sw * swlx - swl * swx) / det);
    f.offset = static_cast<float>((swll * swx - swl * swlx) / det);
  } else {  // all levels equal: only the offset can be fitted
    f.scale = 0.0f;
    f.offset = sw > 0 ? static_cast<float>(swx / sw) : 0.0f;
  }
  if (offset_nonpositive && f.offset > 0.0f) {
    f.offset = 0.0f;
    f.scale = swll > 0 ? static_cast<float>(swlx / swll) : 0.0f;
  }
  return f;
}

}  // namespace

void block_weights(const float* importance, int n, float* w) {
  bool any = false;
  if (importance != nullptr) {
    for (int i = 0; i < n; ++i) any |= importance[i] > 0.0f;
  }
  for (int i = 0; i < n; ++i) w[i] = any ? std::fmax(importance[i], 0.0f) : 1.0f;
}

float fit_symmetric(const float* x, const float* w, int n, int lmin, int lmax, int8_t* levels) {
  float max_value = 0.0f, max_abs = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > max_abs) {
      max_abs = std::fabs(x[i]);
      max_value = x[i];
    }
  }
  if (max_abs < kTiny) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return 0.0f;
  }
  int8_t trial[256];
  double best_gain = -1.0;
  float best_scale = 0.0f;
  // Map the largest-magnitude value to a level near either end of the range.
  for (const int end : {lmin, lmax}) {
    if (end == 0) continue;
    for (int step = -10; step <= 10; step += 2) {
      const float target = static_cast<float>(end) + 0.1f * static_cast<float>(step) * (end < 0 ? -1.0f : 1.0f);
      const LevelStats s = round_symmetric(x, w, n, target / max_value, lmin, lmax, trial);
      if (s.gain() > best_gain) {
        best_gain = s.gain();
        best_scale = s.scale();
        for (int i = 0; i < n; ++i) levels[i] = trial[i];
      }
    }
  }
  // Alternate: re-round at the fitted scale, refit the scale, while the error drops.
  for (int round = 0; round < kRefineRounds && best_scale != 0.0f; ++round) {
    const LevelStats s = round_symmetric(x, w, n, 1.0f / best_scale, lmin, lmax, trial);
    if (s.gain() <= best_gain * (1.0 + 1e-12)) break;
    best_gain = s.gain();
    best_scale = s.scale();
    for (int i = 0; i < n; ++i) levels[i] = trial[i];
  }
  return best_scale;
}

AffineFit fit_affine(const float* x, const float* w, int n, int lmax, bool offset_nonpositive, uint8_t* levels) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::fmin(lo, x[i]);
    hi = std::fmax(hi, x[i]);
  }
  if (offset_nonpositive) lo = std::fmin(lo, 0.0f);
  AffineFit best{0.0f, offset_nonpositive ? 0.0f : lo};
  if (hi - lo < kTiny) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return best;
  }
  uint8_t trial[256];
  for (int i = 0; i < n; ++i) levels[i] = 0;
  double best_error = affine_error(x, w, n, levels, 0.0f, best.offset);
  auto consider = [&](const uint8_t* l) {
    const AffineFit f = solve_affine(x, w, n, l, offset_nonpositive);
    const double e = affine_error(x, w, n, l, f.scale, f.offset);
    if (e < best_error) {
      best_error = e;
      best = f;
      for (int i = 0; i < n; ++i) levels[i] = l[i];
      return true;
    }
    return false;
  };
  for (int step = -10; step <= 10; step += 2) {
    const float inverse_scale = (static_cast<float>(lmax) + 0.1f * static_cast<float>(step)) / (hi - lo);
    for (int i = 0; i < n; ++i) trial[i] = static_cast<uint8_t>(clamp_int(round_to_int((x[i] - lo) * inverse_scale), 0, lmax));
    consider(trial);
  }
  for (int round = 0; round < kRefineRounds && best.scale > 0.0f; ++round) {
    for (int i = 0; i < n; ++i) {
      trial[i] = static_cast<uint8_t>(clamp_int(round_to_int((x[i] - best.offset) / best.scale), 0, lmax));
    }
    if (!consider(trial)) break;
  }
  return best;
}

}  // namespace lp
