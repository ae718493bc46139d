#pragma once
// Feeding the lane kernels (lane_kernels.h): a batch of consecutive blocks of one row,
// transposed into groups of `lanes` blocks, zero-padded past the row's end, with the
// importance weights of each block (block_weights) when there are any.
#include <algorithm>
#include <cstring>

#include "quant/lane_kernels.h"
#include "quant/scale_search.h"

namespace lp {

// The most values a batch holds: 16 lanes of 32, or two K-quant super-blocks.
constexpr int kMaxBatchValues = 512;

struct LaneBatch {
  alignas(64) float xt[kMaxBatchValues];
  alignas(64) float wt[kMaxBatchValues];
  bool weighted = false;

  // Blocks [0, real) of n values from x; blocks [real, total) are zeros. total is a multiple of k.lanes.
  void load(const LaneKernels& k, const float* x, const float* importance, int real, int total, int n) {
    alignas(64) float padded[kMaxBatchValues];
    const float* src = x;
    if (real < total) {
      std::memcpy(padded, x, sizeof(float) * static_cast<size_t>(real * n));
      std::fill(padded + real * n, padded + total * n, 0.0f);
      src = padded;
    }
    const int group = k.lanes * n;
    for (int g = 0; g < total * n; g += group) k.transpose(src + g, n, xt + g);
    weighted = importance != nullptr;
    if (!weighted) return;
    for (int b = 0; b < total; ++b) block_weights(b < real ? importance + b * n : nullptr, n, padded + b * n);
    for (int g = 0; g < total * n; g += group) k.transpose(padded + g, n, wt + g);
  }
  const float* weights(int offset) const { return weighted ? wt + offset : nullptr; }

};

}  // namespace lp
