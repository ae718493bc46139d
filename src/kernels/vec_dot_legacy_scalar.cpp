// Scalar dot products of the 32-value block types with Q8_0 / Q8_1 activations. Per block
// the products are summed exactly in integers, then scaled and summed in float in block
// order, as ggml's *_generic functions do. In a block, byte j holds value j in its low
// nibble and value j + 16 in its high nibble.
#include <cstring>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/vec_dot_scalar.h"

namespace lp {
namespace {

template <class Block>
const Block* blocks_of(const uint8_t* p) {
  return reinterpret_cast<const Block*>(p);
}

uint32_t high_bits(const uint8_t qh[4]) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof bits);
  return bits;
}

}  // namespace

float vec_dot_q4_0_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ4_0>(weights);
  const auto* a = blocks_of<BlockQ8_0>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int low = 0, high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      low += ((w[b].qs[j] & 0x0F) - 8) * a[b].qs[j];
      high += ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + kQK / 2];
    }
    sum += static_cast<float>(low + high) * f16_to_f32(w[b].d) * f16_to_f32(a[b].d);
  }
  return sum;
}

float vec_dot_q4_1_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ4_1>(weights);
  const auto* a = blocks_of<BlockQ8_1>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int low = 0, high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      low += (w[b].qs[j] & 0x0F) * a[b].qs[j];
      high += (w[b].qs[j] >> 4) * a[b].qs[j + kQK / 2];
    }
    // The offset m times sum(x) comes from the activation block's s = d * sum(q).
    sum += (f16_to_f32(w[b].d) * f16_to_f32(a[b].d)) * static_cast<float>(low + high) +
           f16_to_f32(w[b].m) * f16_to_f32(a[b].s);
  }
  return sum;
}

float vec_dot_q5_0_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ5_0>(weights);
  const auto* a = blocks_of<BlockQ8_0>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint32_t qh = high_bits(w[b].qh);
    int low = 0, high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int v0 = ((w[b].qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16;
      const int v1 = ((w[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      low += v0 * a[b].qs[j];
      high += v1 * a[b].qs[j + kQK / 2];
    }
    sum += (f16_to_f32(w[b].d) * f16_to_f32(a[b].d)) * static_cast<float>(low + high);
  }
  return sum;
}

float vec_dot_q5_1_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ5_1>(weights);
  const auto* a = blocks_of<BlockQ8_1>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint32_t qh = high_bits(w[b].qh);
    int low = 0, high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int v0 = (w[b].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
      const int v1 = (w[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      low += v0 * a[b].qs[j];
      high += v1 * a[b].qs[j + kQK / 2];
    }
    sum += (f16_to_f32(w[b].d) * f16_to_f32(a[b].d)) * static_cast<float>(low + high) +
           f16_to_f32(w[b].m) * f16_to_f32(a[b].s);
  }
  return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ8_0>(weights);
  const auto* a = blocks_of<BlockQ8_0>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    int dot = 0;
    for (int j = 0; j < kQK; ++j) dot += w[b].qs[j] * a[b].qs[j];
    sum += static_cast<float>(dot) * (f16_to_f32(w[b].d) * f16_to_f32(a[b].d));
  }
  return sum;
}

// MXFP4: the levels are the doubled E2M1 values (integers), so a block's sum is exact in
// integers like Q4_0's; ggml forms the block factor as d_a * scale before the integer sum.
float vec_dot_mxfp4_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockMXFP4>(weights);
  const auto* a = blocks_of<BlockQ8_0>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = f16_to_f32(a[b].d) * e8m0_to_fp32_half(w[b].e);
    int low = 0, high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      low += a[b].qs[j] * kMxfp4Values[w[b].qs[j] & 0x0F];
      high += a[b].qs[j + kQK / 2] * kMxfp4Values[w[b].qs[j] >> 4];
    }
    sum += d * static_cast<float>(low + high);
  }
  return sum;
}

}  // namespace lp
