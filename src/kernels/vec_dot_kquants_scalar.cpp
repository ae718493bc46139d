// Scalar dot products of the K-quant types with Q8_K activations. The float arithmetic
// follows ggml's *_generic functions: Q3_K..Q6_K keep eight partial sums (value index mod 8,
// exact integers within a super-block) that are scaled per super-block and added up only at
// the end; Q2_K scales one integer sum per super-block. A K-quant's offset terms (min times
// sum of activations) use the activation block's bsums, the sums of each 16 values.
#include <cstring>

#include "core/float_convert.h"
#include "kernels/vec_dot_scalar.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

template <class Block>
const Block* blocks_of(const uint8_t* p) {
  return reinterpret_cast<const Block*>(p);
}

// The eight running float sums and how one super-block's integer lane sums enter them.
struct LaneSums {
  float lanes[8] = {};
  void add(float d, const int32_t (&lane_ints)[8]) {
    for (int l = 0; l < 8; ++l) lanes[l] += d * static_cast<float>(lane_ints[l]);
  }
  float total(float start) const {
    for (float v : lanes) start += v;
    return start;
  }
};

// lane_ints[e % 8] += scale[e / 16 or e / 32] * q[e] * a[e] over a super-block of 256 values.
template <int kValuesPerScale, class Scale>
void accumulate_lanes(const int8_t* q, const int8_t* a, const Scale* scales, int32_t (&lane_ints)[8]) {
  for (int e = 0; e < kQK_K; ++e) lane_ints[e % 8] += static_cast<int32_t>(scales[e / kValuesPerScale]) * (q[e] * a[e]);
}

}  // namespace

float vec_dot_q2_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ2_K>(weights);
  const auto* a = blocks_of<BlockQ8_K>(act);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int min_sum = 0;
    for (int j = 0; j < 16; ++j) min_sum += a[b].bsums[j] * (w[b].scales[j] >> 4);
    int scaled_sum = 0;
    // Per 128 values: 32 bytes of qs, four 2-bit planes of 32 values, each plane two groups of 16.
    for (int e = 0; e < kQK_K; ++e) {
      const int half = e / 128, plane = (e % 128) / 32, l = e % 32;
      const int q = (w[b].qs[32 * half + l] >> (2 * plane)) & 3;
      scaled_sum += (w[b].scales[e / 16] & 0xF) * (q * a[b].qs[e]);
    }
    const float d = a[b].d * f16_to_f32(w[b].d);
    const float dmin = a[b].d * f16_to_f32(w[b].dmin);
    sum += d * static_cast<float>(scaled_sum) - dmin * static_cast<float>(min_sum);
  }
  return sum;
}

float vec_dot_q3_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ3_K>(weights);
  const auto* a = blocks_of<BlockQ8_K>(act);
  LaneSums sums;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    for (int e = 0; e < kQK_K; ++e) {
      const int half = e / 128, plane = (e % 128) / 32, l = e % 32;
      const int low = (w[b].qs[32 * half + l] >> (2 * plane)) & 3;
      const bool high = (w[b].hmask[l] >> (4 * half + plane)) & 1;
      q[e] = static_cast<int8_t>(low - (high ? 0 : 4));
    }
    int8_t scales[16];
    unpack_scales_q3_k(w[b].scales, scales);
    int32_t lane_ints[8] = {};
    accumulate_lanes<16>(q, a[b].qs, scales, lane_ints);
    sums.add(f16_to_f32(w[b].d) * a[b].d, lane_ints);
  }
  return sums.total(0.0f);
}

namespace {

// Q4_K and Q5_K share everything but the fifth bit: 8 sub-blocks of 32 with 6-bit scales
// and mins; `fifth_bit(b, e)` is 0 for Q4_K.
template <class Block, int (*fifth_bit)(const Block&, int)>
float dot_q4_q5_k(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<Block>(weights);
  const auto* a = blocks_of<BlockQ8_K>(act);
  LaneSums sums;
  float offset_sum = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t q[kQK_K];
    for (int e = 0; e < kQK_K; ++e) {
      const int chunk = e / 64, l = e % 32;
      const uint8_t byte = w[b].qs[32 * chunk + l];
      q[e] = static_cast<int8_t>(((e % 64) < 32 ? byte & 0xF : byte >> 4) + fifth_bit(w[b], e));
    }
    uint8_t scales[8], mins[8];
    for (int j = 0; j < 8; ++j) unpack_scale_min_k4(j, w[b].scales, scales[j], mins[j]);
    int min_sum = 0;
    for (int j = 0; j < 16; ++j) min_sum += a[b].bsums[j] * mins[j / 2];
    int32_t lane_ints[8] = {};
    accumulate_lanes<32>(q, a[b].qs, scales, lane_ints);
    sums.add(f16_to_f32(w[b].d) * a[b].d, lane_ints);
    offset_sum -= f16_to_f32(w[b].dmin) * a[b].d * static_cast<float>(min_sum);
  }
  return sums.total(offset_sum);
}

int no_fifth_bit(const BlockQ4_K&, int) { return 0; }
int q5_k_fifth_bit(const BlockQ5_K& b, int e) { return ((b.qh[e % 32] >> (e / 32)) & 1) << 4; }

}  // namespace

float vec_dot_q4_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act) {
  return dot_q4_q5_k<BlockQ4_K, no_fifth_bit>(n, weights, act);
}

float vec_dot_q5_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act) {
  return dot_q4_q5_k<BlockQ5_K, q5_k_fifth_bit>(n, weights, act);
}

float vec_dot_q6_k_q8_k(int64_t n, const uint8_t* weights, const uint8_t* act) {
  const auto* w = blocks_of<BlockQ6_K>(weights);
  const auto* a = blocks_of<BlockQ8_K>(act);
  LaneSums sums;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    // Per 128 values: ql[64] gives low nibbles (bytes 0-31 then 32-63, low then high
    // nibble), qh[32] the 2-bit high parts at shifts 0, 2, 4, 6 for the four runs of 32.
    int8_t q[kQK_K];
    for (int e = 0; e < kQK_K; ++e) {
      const int half = e / 128, run = (e % 128) / 32, l = e % 32;
      const uint8_t low_byte = w[b].ql[64 * half + 32 * (run & 1) + l];
      const int low = run < 2 ? low_byte & 0xF : low_byte >> 4;
      const int high = (w[b].qh[32 * half + l] >> (2 * run)) & 3;
      q[e] = static_cast<int8_t>((low | (high << 4)) - 32);
    }
    int32_t lane_ints[8] = {};
    accumulate_lanes<16>(q, a[b].qs, w[b].scales, lane_ints);
    sums.add(f16_to_f32(w[b].d) * a[b].d, lane_ints);
  }
  return sums.total(0.0f);
}

}  // namespace lp
