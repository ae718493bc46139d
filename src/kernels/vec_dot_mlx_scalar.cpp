// Scalar dot products of MLX affine blocks (quant/mlx_affine.h: float32 scale and bias, then
// 32 levels as a little-endian bitstream) with Q8_1 activations. As for Q4_1, the bias times
// the block's sum of x comes from the activation block's s = d * sum(q); the levels' products
// are summed exactly in integers.
#include <cstring>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/vec_dot_scalar.h"
#include "quant/mlx_affine.h"

namespace lp {
namespace {

template <int bits>
float vec_dot_mlx(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* a = reinterpret_cast<const BlockQ8_1*>(act);
  constexpr size_t kBlockBytes = 8 + 4 * bits;
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b, weights += kBlockBytes) {
    float scale, bias;
    std::memcpy(&scale, weights, 4);
    std::memcpy(&bias, weights + 4, 4);
    int dot = 0;
    for (int j = 0; j < kQK; ++j) dot += static_cast<int>(mlx_level(weights + 8, bits, j)) * a[b].qs[j];
    sum += scale * f16_to_f32(a[b].d) * static_cast<float>(dot) + bias * f16_to_f32(a[b].s);
  }
  return sum;
}

}  // namespace

float vec_dot_mlx_a2_q8_1(int64_t n, const uint8_t* w, const uint8_t* a) { return vec_dot_mlx<2>(n, w, a); }
float vec_dot_mlx_a3_q8_1(int64_t n, const uint8_t* w, const uint8_t* a) { return vec_dot_mlx<3>(n, w, a); }
float vec_dot_mlx_a4_q8_1(int64_t n, const uint8_t* w, const uint8_t* a) { return vec_dot_mlx<4>(n, w, a); }
float vec_dot_mlx_a5_q8_1(int64_t n, const uint8_t* w, const uint8_t* a) { return vec_dot_mlx<5>(n, w, a); }
float vec_dot_mlx_a6_q8_1(int64_t n, const uint8_t* w, const uint8_t* a) { return vec_dot_mlx<6>(n, w, a); }
float vec_dot_mlx_a8_q8_1(int64_t n, const uint8_t* w, const uint8_t* a) { return vec_dot_mlx<8>(n, w, a); }

}  // namespace lp
