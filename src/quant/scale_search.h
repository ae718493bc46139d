#pragma once
// Least-squares fitting of a block of values to integer levels: the search every quantizer
// is built on. Each fit minimizes the weighted squared error sum_i w_i (x_i - x̂_i)^2 directly
// (w is the importance matrix column, or 1), trying many candidate scales and then refining
// by alternating rounding and refitting, which never increases the error.
#include <cstdint>

namespace lp {

// x ≈ scale * l with integer l in [lmin, lmax]. Writes l (signed) to `levels`; returns scale.
// The scale may be negative: that lets the larger side of an asymmetric range (-8..7) hold
// the value of largest magnitude.
float fit_symmetric(const float* x, const float* w, int n, int lmin, int lmax, int8_t* levels);

struct AffineFit {
  float scale = 0.0f;
  float offset = 0.0f;
};
// x ≈ scale * l + offset with integer l in [0, lmax]. With `offset_nonpositive`, offset <= 0
// (K-quants store a non-negative min that is subtracted). Writes l to `levels`.
AffineFit fit_affine(const float* x, const float* w, int n, int lmax, bool offset_nonpositive, uint8_t* levels);

// Weights for a block: the importance values if given (falling back to 1 where they are all
// zero, so an unused column block still gets a sensible fit), else 1.
void block_weights(const float* importance, int n, float* w);

inline int round_to_int(float v) { return static_cast<int>(v >= 0.0f ? v + 0.5f : v - 0.5f); }
inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace lp
