// Scalar dot product of MLX affine groups repacked as bytes (BlockMlxU8, quant/mlx_affine.h)
// with Q8_1 activations. As for Q4_1, the bias times the block's sum of x comes from the
// activation block's s = d * sum(q); the levels' products are summed exactly in integers.
#include <cstring>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/vec_dot_scalar.h"
#include "quant/block_layouts.h"

namespace lp {

float vec_dot_mlx_u8_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* a = reinterpret_cast<const BlockQ8_1*>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    BlockMlxU8 w;
    std::memcpy(&w, weights + b * sizeof w, sizeof w);
    int dot = 0;
    for (int j = 0; j < kQK; ++j) dot += static_cast<int>(w.q[j]) * a[b].qs[j];
    sum += w.scale * f16_to_f32(a[b].d) * static_cast<float>(dot) + w.bias * f16_to_f32(a[b].s);
  }
  return sum;
}

}  // namespace lp
