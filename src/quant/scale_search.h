#pragma once
// Least-squares fitting of blocks of values to integer levels: the search every quantizer is
// built on. Each fit minimizes the weighted squared error sum_i w_i (x_i - x̂_i)^2 directly
// (w is the importance matrix column, or 1), trying many candidate scales and then refining
// by alternating rounding and refitting, which never increases the error. The fits run on
// many blocks at once, one per SIMD lane: lane_kernels.h.
#include <cstdint>

namespace lp {

// Weights for a block: the importance values if given (falling back to 1 where they are all
// zero, so an unused column block still gets a sensible fit), else 1.
void block_weights(const float* importance, int n, float* w);

inline int round_to_int(float v) { return static_cast<int>(v >= 0.0f ? v + 0.5f : v - 0.5f); }
inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace lp
