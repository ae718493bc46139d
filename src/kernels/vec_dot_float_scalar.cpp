// Float weights against float32 activations. Products are rounded to float and summed in
// double, as ggml's scalar ggml_vec_dot_f32/f16 do, so the reference is accurate to about
// one float rounding per product whatever the row length.
#include <cstring>

#include "core/float_convert.h"
#include "kernels/vec_dot_scalar.h"

namespace lp {
namespace {

template <class Weight, float (*to_float)(Weight)>
float float_dot(int64_t n, const uint8_t* weights, const uint8_t* act) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    Weight w;
    float x;
    std::memcpy(&w, weights + i * sizeof(Weight), sizeof w);
    std::memcpy(&x, act + i * sizeof(float), sizeof x);
    sum += static_cast<double>(to_float(w) * x);
  }
  return static_cast<float>(sum);
}

float identity(float v) { return v; }

}  // namespace

float vec_dot_f32_f32(int64_t n, const uint8_t* weights, const uint8_t* act) {
  return float_dot<float, identity>(n, weights, act);
}
float vec_dot_f16_f32(int64_t n, const uint8_t* weights, const uint8_t* act) {
  return float_dot<uint16_t, f16_to_f32>(n, weights, act);
}
float vec_dot_bf16_f32(int64_t n, const uint8_t* weights, const uint8_t* act) {
  return float_dot<uint16_t, bf16_to_f32>(n, weights, act);
}

}  // namespace lp
