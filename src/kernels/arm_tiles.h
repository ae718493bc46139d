#pragma once
// NEON tile kernels (see dot_tile.h) for 64-bit ARM. Included by two units compiled with
// different flags: kernels_neon.cpp (ARMv8 NEON, which every aarch64 CPU has) and
// kernels_neon_dotprod.cpp (ARMv8.2 dot product, chosen at run time where the CPU has it).
// They differ only in how sixteen byte products are summed (dot16 below).
//
// Every quantized kernel follows the scalar reference's arithmetic: a weight block is unpacked
// once into signed 8-bit levels and integer scales, shared by all the tile's tokens; products
// are summed exactly in 32-bit integers per block (or super-block) and scaled in float.
#include <arm_neon.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/simd_kernels.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

// acc + the sixteen products a[i] * b[i] (which lane gets which products is unspecified: only
// the sum over the lanes is used). With the dot-product extension one sdot; without it two
// widening multiplies (a product of two int8 fits int16) and pairwise widening adds.
inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
  return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

// ---- Float weights against float32 ----

struct F32Weights {
  using Element = float;
  static float32x4x2_t load8(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static float scalar(float v) { return v; }
};
struct F16Weights {
  using Element = uint16_t;
  static float32x4x2_t load8(const uint16_t* p) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};
  }
  static float scalar(uint16_t v) { return f16_to_f32(v); }
};
struct BF16Weights {
  using Element = uint16_t;
  static float32x4x2_t load8(const uint16_t* p) {
    const uint16x8_t h = vld1q_u16(p);
    return {vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))};
  }
  static float scalar(uint16_t v) { return bf16_to_f32(v); }
};

// Eight columns per step, two accumulators per token (one per half).
template <int NT, class Weights>
void tile_float(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  const auto* w = reinterpret_cast<const typename Weights::Element*>(weights);
  const float* x[NT];
  for (int t = 0; t < NT; ++t) x[t] = reinterpret_cast<const float*>(act + static_cast<uint64_t>(t) * stride);
  float32x4_t acc[NT][2];
  for (auto& a : acc) a[0] = a[1] = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4x2_t wv = Weights::load8(w + i);
    for (int t = 0; t < NT; ++t) {
      acc[t][0] = vfmaq_f32(acc[t][0], wv.val[0], vld1q_f32(x[t] + i));
      acc[t][1] = vfmaq_f32(acc[t][1], wv.val[1], vld1q_f32(x[t] + i + 4));
    }
  }
  for (int t = 0; t < NT; ++t) {
    float total = vaddvq_f32(vaddq_f32(acc[t][0], acc[t][1]));
    for (int64_t j = i; j < n; ++j) total += Weights::scalar(w[j]) * x[t][j];
    out[t * out_stride] = total;
  }
}

// ---- The 32-value block types against Q8_0 / Q8_1 ----

// Bit j of the 32-bit word `bits` as 0x10 in byte j of two vectors (values 0-15, 16-31): the
// fifth bit of Q5_0 / Q5_1 levels.
inline void fifth_bits(uint32_t bits, uint8x16_t& low, uint8x16_t& high) {
  static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bit = vld1q_u8(kBit);
  const uint8x16_t sixteen = vdupq_n_u8(0x10);
  const auto spread = [](uint32_t word) {
    return vcombine_u8(vdup_n_u8(static_cast<uint8_t>(word)), vdup_n_u8(static_cast<uint8_t>(word >> 8)));
  };
  low = vandq_u8(vtstq_u8(spread(bits), bit), sixteen);
  high = vandq_u8(vtstq_u8(spread(bits >> 16), bit), sixteen);
}

// A block's 32 levels (values 0-15, 16-31) as the dot product sees them, its scale, and its
// offset (m of Q4_1 / Q5_1; 0 where the type has none, levels are then signed).
struct Levels32 {
  int8x16_t low, high;
  float d, m;
};

inline Levels32 levels_of(const BlockQ4_0& b) {
  const uint8x16_t q = vld1q_u8(b.qs);
  const int8x16_t eight = vdupq_n_s8(8);
  return {vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), eight),
          vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), eight), f16_to_f32(b.d), 0.0f};
}
inline Levels32 levels_of(const BlockQ4_1& b) {
  const uint8x16_t q = vld1q_u8(b.qs);
  return {vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), f16_to_f32(b.d),
          f16_to_f32(b.m)};
}
template <class Block>
inline Levels32 levels_with_fifth_bit(const Block& b) {
  uint32_t qh;
  std::memcpy(&qh, b.qh, sizeof qh);
  uint8x16_t bit_low, bit_high;
  fifth_bits(qh, bit_low, bit_high);
  const uint8x16_t q = vld1q_u8(b.qs);
  return {vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0F)), bit_low)),
          vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), bit_high)), f16_to_f32(b.d), 0.0f};
}
inline Levels32 levels_of(const BlockQ5_0& b) {
  Levels32 l = levels_with_fifth_bit(b);
  const int8x16_t sixteen = vdupq_n_s8(16);
  l.low = vsubq_s8(l.low, sixteen);
  l.high = vsubq_s8(l.high, sixteen);
  return l;
}
inline Levels32 levels_of(const BlockQ5_1& b) {
  Levels32 l = levels_with_fifth_bit(b);
  l.m = f16_to_f32(b.m);
  return l;
}
inline Levels32 levels_of(const BlockQ8_0& b) {
  return {vld1q_s8(b.qs), vld1q_s8(b.qs + 16), f16_to_f32(b.d), 0.0f};
}
// Nibbles to the doubled E2M1 levels (-12..12) by one table lookup each.
inline Levels32 levels_of(const BlockMXFP4& b) {
  const int8x16_t table = vld1q_s8(kMxfp4Values);
  const uint8x16_t q = vld1q_u8(b.qs);
  return {vqtbl1q_s8(table, vandq_u8(q, vdupq_n_u8(0x0F))), vqtbl1q_s8(table, vshrq_n_u8(q, 4)),
          e8m0_to_fp32_half(b.e), 0.0f};
}

// Q8_0 activations for the signed types, Q8_1 (with s = d * sum of levels) for those with an
// offset, as the kernel table pairs them.
template <class Block>
constexpr bool kHasOffset = std::is_same_v<Block, BlockQ4_1> || std::is_same_v<Block, BlockQ5_1>;

template <int NT, class Block>
void tile_32(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  using Act = std::conditional_t<kHasOffset<Block>, BlockQ8_1, BlockQ8_0>;
  const auto* w = reinterpret_cast<const Block*>(weights);
  const Act* a[NT];
  for (int t = 0; t < NT; ++t) a[t] = reinterpret_cast<const Act*>(act + static_cast<uint64_t>(t) * stride);
  float sum[NT] = {};
  for (int64_t b = 0; b < n / kQK; ++b) {
    const Levels32 l = levels_of(w[b]);
    for (int t = 0; t < NT; ++t) {
      const Act& x = a[t][b];
      const int32x4_t dot = dot16(dot16(vdupq_n_s32(0), l.low, vld1q_s8(x.qs)), l.high, vld1q_s8(x.qs + 16));
      const float scaled = static_cast<float>(vaddvq_s32(dot)) * (l.d * f16_to_f32(x.d));
      if constexpr (kHasOffset<Block>) sum[t] += scaled + l.m * f16_to_f32(x.s);
      else sum[t] += scaled;
    }
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = sum[t];
}

// MLX affine groups as bytes (BlockMlxU8) against Q8_1: levels 0-255 do not fit int8, so the
// low seven bits and the top bit are multiplied apart (q = low + 128 * top); the bias meets the
// activation block's s as Q4_1's offset does.
template <int NT>
void tile_mlx_u8(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  const auto* w = reinterpret_cast<const BlockMlxU8*>(weights);
  const BlockQ8_1* a[NT];
  for (int t = 0; t < NT; ++t) a[t] = reinterpret_cast<const BlockQ8_1*>(act + static_cast<uint64_t>(t) * stride);
  float sum[NT] = {};
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8x16_t q0 = vld1q_u8(w[b].q), q1 = vld1q_u8(w[b].q + 16);
    const uint8x16_t seven = vdupq_n_u8(0x7F);
    const int8x16_t low0 = vreinterpretq_s8_u8(vandq_u8(q0, seven)), low1 = vreinterpretq_s8_u8(vandq_u8(q1, seven));
    const int8x16_t top0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 7)), top1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 7));
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_1& x = a[t][b];
      const int8x16_t x0 = vld1q_s8(x.qs), x1 = vld1q_s8(x.qs + 16);
      const int32_t low = vaddvq_s32(dot16(dot16(vdupq_n_s32(0), low0, x0), low1, x1));
      const int32_t top = vaddvq_s32(dot16(dot16(vdupq_n_s32(0), top0, x0), top1, x1));
      sum[t] += w[b].scale * f16_to_f32(x.d) * static_cast<float>(low + 128 * top) + w[b].bias * f16_to_f32(x.s);
    }
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = sum[t];
}

// ---- The K-quants against Q8_K ----

// One super-block as the dot product sees it: value e = d * scale[e / 16] * q[e]
// - dmin * min[e / 16] (signed levels and no minimum for Q3_K and Q6_K).
struct SuperBlockLevels {
  alignas(16) int8_t q[kQK_K];
  int16_t scale[16];
  int16_t min[16];
  float d, dmin;
};

// Four 2-bit planes of 32 bytes per 128 values (Q2_K, and the low bits of Q3_K): value
// 128h + 32p + l is bits 2p..2p+1 of byte 32h + l.
inline void unpack_2bit_planes(const uint8_t* qs, int8_t* q) {
  const uint8x16_t three = vdupq_n_u8(3);
  for (int h = 0; h < 2; ++h)
    for (int half16 = 0; half16 < 2; ++half16) {
      uint8x16_t bytes = vld1q_u8(qs + 32 * h + 16 * half16);
      for (int p = 0; p < 4; ++p) {
        vst1q_s8(q + 128 * h + 32 * p + 16 * half16, vreinterpretq_s8_u8(vandq_u8(bytes, three)));
        bytes = vshrq_n_u8(bytes, 2);
      }
    }
}

inline void unpack(const BlockQ2_K& b, SuperBlockLevels& s) {
  unpack_2bit_planes(b.qs, s.q);
  for (int g = 0; g < 16; ++g) {
    s.scale[g] = static_cast<int16_t>(b.scales[g] & 0xF);
    s.min[g] = static_cast<int16_t>(b.scales[g] >> 4);
  }
  s.d = f16_to_f32(b.d);
  s.dmin = f16_to_f32(b.dmin);
}

inline void unpack(const BlockQ3_K& b, SuperBlockLevels& s) {
  unpack_2bit_planes(b.qs, s.q);
  // Value 128h + 32p + l loses 4 where bit 4h + p of hmask[l] is clear.
  const uint8x16_t four = vdupq_n_u8(4);
  for (int h = 0; h < 2; ++h)
    for (int p = 0; p < 4; ++p)
      for (int half16 = 0; half16 < 2; ++half16) {
        const uint8x16_t mask = vld1q_u8(b.hmask + 16 * half16);
        const uint8x16_t clear = vceqq_u8(vandq_u8(mask, vdupq_n_u8(static_cast<uint8_t>(1u << (4 * h + p)))), vdupq_n_u8(0));
        int8_t* q = s.q + 128 * h + 32 * p + 16 * half16;
        vst1q_s8(q, vsubq_s8(vld1q_s8(q), vreinterpretq_s8_u8(vandq_u8(clear, four))));
      }
  int8_t scales[16];
  unpack_scales_q3_k(b.scales, scales);
  for (int g = 0; g < 16; ++g) {
    s.scale[g] = scales[g];
    s.min[g] = 0;
  }
  s.d = f16_to_f32(b.d);
  s.dmin = 0.0f;
}

// Q4_K and Q5_K: per 64 values, 32 bytes whose low nibbles are the first 32 values and high
// nibbles the next 32; Q5_K's fifth bit of value e is bit e / 32 of qh[e % 32].
template <class Block>
inline void unpack_q4_q5_k(const Block& b, SuperBlockLevels& s) {
  const uint8x16_t low_nibble = vdupq_n_u8(0x0F);
  for (int c = 0; c < 4; ++c)
    for (int half16 = 0; half16 < 2; ++half16) {
      const uint8x16_t bytes = vld1q_u8(b.qs + 32 * c + 16 * half16);
      uint8x16_t first = vandq_u8(bytes, low_nibble), second = vshrq_n_u8(bytes, 4);
      if constexpr (std::is_same_v<Block, BlockQ5_K>) {
        const uint8x16_t qh = vld1q_u8(b.qh + 16 * half16);
        const uint8x16_t sixteen = vdupq_n_u8(0x10);
        first = vorrq_u8(first, vandq_u8(vtstq_u8(qh, vdupq_n_u8(static_cast<uint8_t>(1u << (2 * c)))), sixteen));
        second = vorrq_u8(second, vandq_u8(vtstq_u8(qh, vdupq_n_u8(static_cast<uint8_t>(2u << (2 * c)))), sixteen));
      }
      vst1q_s8(s.q + 64 * c + 16 * half16, vreinterpretq_s8_u8(first));
      vst1q_s8(s.q + 64 * c + 32 + 16 * half16, vreinterpretq_s8_u8(second));
    }
  for (int j = 0; j < 8; ++j) {
    uint8_t scale, min;
    unpack_scale_min_k4(j, b.scales, scale, min);
    s.scale[2 * j] = s.scale[2 * j + 1] = scale;
    s.min[2 * j] = s.min[2 * j + 1] = min;
  }
  s.d = f16_to_f32(b.d);
  s.dmin = f16_to_f32(b.dmin);
}
inline void unpack(const BlockQ4_K& b, SuperBlockLevels& s) { unpack_q4_q5_k(b, s); }
inline void unpack(const BlockQ5_K& b, SuperBlockLevels& s) { unpack_q4_q5_k(b, s); }

// Q6_K, per 128 values (half h): ql[64h + 32(r & 1) + l] holds the low four bits of value
// 128h + 32r + l (low nibble for runs r = 0, 1, high nibble for 2, 3), bits 2r..2r+1 of
// qh[32h + l] the top two; levels are stored plus 32.
inline void unpack(const BlockQ6_K& b, SuperBlockLevels& s) {
  const uint8x16_t low_nibble = vdupq_n_u8(0x0F), three = vdupq_n_u8(3);
  const int8x16_t bias = vdupq_n_s8(32);
  for (int h = 0; h < 2; ++h)
    for (int half16 = 0; half16 < 2; ++half16) {
      const uint8x16_t qh = vld1q_u8(b.qh + 32 * h + 16 * half16);
      for (int r = 0; r < 4; ++r) {
        const uint8x16_t ql = vld1q_u8(b.ql + 64 * h + 32 * (r & 1) + 16 * half16);
        const uint8x16_t low = r < 2 ? vandq_u8(ql, low_nibble) : vshrq_n_u8(ql, 4);
        const uint8x16_t high = vandq_u8(vshlq_u8(qh, vdupq_n_s8(static_cast<int8_t>(-2 * r))), three);
        const uint8x16_t level = vorrq_u8(low, vshlq_n_u8(high, 4));
        vst1q_s8(s.q + 128 * h + 32 * r + 16 * half16, vsubq_s8(vreinterpretq_s8_u8(level), bias));
      }
    }
  for (int g = 0; g < 16; ++g) {
    s.scale[g] = b.scales[g];
    s.min[g] = 0;
  }
  s.d = f16_to_f32(b.d);
  s.dmin = 0.0f;
}

// Q3_K and Q6_K have signed levels and no minimums: their kernels skip the offset term.
template <class Block>
constexpr bool kHasMins = !std::is_same_v<Block, BlockQ3_K> && !std::is_same_v<Block, BlockQ6_K>;

// sum over the 16 groups of bsums[g] * min[g], exactly.
inline int32_t mins_dot(const int16_t* bsums, int16x8_t min_low, int16x8_t min_high) {
  const int16x8_t bsums_low = vld1q_s16(bsums), bsums_high = vld1q_s16(bsums + 8);
  int32x4_t mins = vmull_s16(vget_low_s16(bsums_low), vget_low_s16(min_low));
  mins = vmlal_high_s16(mins, bsums_low, min_low);
  mins = vmlal_s16(mins, vget_low_s16(bsums_high), vget_low_s16(min_high));
  return vaddvq_s32(vmlal_high_s16(mins, bsums_high, min_high));
}

template <int NT, class Block>
void tile_kquant(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  const auto* w = reinterpret_cast<const Block*>(weights);
  const BlockQ8_K* a[NT];
  for (int t = 0; t < NT; ++t) a[t] = reinterpret_cast<const BlockQ8_K*>(act + static_cast<uint64_t>(t) * stride);
  float sum[NT] = {};
  SuperBlockLevels s;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    unpack(w[b], s);
    const int16x8_t min_low = vld1q_s16(s.min), min_high = vld1q_s16(s.min + 8);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& x = a[t][b];
      // Exact: |scale * level * activation| <= 127 * 32 * 127 per value, 256 values.
      int32x4_t scaled = vdupq_n_s32(0);
      for (int g = 0; g < 16; ++g)
        scaled = vmlaq_n_s32(scaled, dot16(vdupq_n_s32(0), vld1q_s8(s.q + 16 * g), vld1q_s8(x.qs + 16 * g)), s.scale[g]);
      float block = x.d * s.d * static_cast<float>(vaddvq_s32(scaled));
      if constexpr (kHasMins<Block>) block -= x.d * s.dmin * static_cast<float>(mins_dot(x.bsums, min_low, min_high));
      sum[t] += block;
    }
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = sum[t];
}

// ---- From a kernel templated on the tile width to a DotTileFn ----

// Tiles of up to four tokens: a quantized block is unpacked once per four tokens, and four
// tokens' accumulators leave registers free for the weights.
constexpr int kArmTileTokens = 4;

template <template <int> class Kernel>
void dispatch_tile(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, int n_tokens, float* out,
                   int64_t out_stride) {
  for (int t = 0; t < n_tokens; t += kArmTileTokens) {
    const uint8_t* a = act + static_cast<uint64_t>(t) * stride;
    float* o = out + t * out_stride;
    switch (std::min(kArmTileTokens, n_tokens - t)) {
      case 1: Kernel<1>::run(n, weights, a, stride, o, out_stride); break;
      case 2: Kernel<2>::run(n, weights, a, stride, o, out_stride); break;
      case 3: Kernel<3>::run(n, weights, a, stride, o, out_stride); break;
      default: Kernel<4>::run(n, weights, a, stride, o, out_stride); break;
    }
  }
}

template <class Weights> struct FloatTile { template <int NT> struct K { static constexpr auto run = tile_float<NT, Weights>; }; };
template <class Block> struct Block32Tile { template <int NT> struct K { static constexpr auto run = tile_32<NT, Block>; }; };
template <int NT> struct MlxU8Tile { static constexpr auto run = tile_mlx_u8<NT>; };
template <class Block> struct KQuantTile { template <int NT> struct K { static constexpr auto run = tile_kquant<NT, Block>; }; };

constexpr SimdTile kArmTiles[] = {
    {GgmlType::F32, dispatch_tile<FloatTile<F32Weights>::K>},   {GgmlType::F16, dispatch_tile<FloatTile<F16Weights>::K>},
    {GgmlType::BF16, dispatch_tile<FloatTile<BF16Weights>::K>}, {GgmlType::Q4_0, dispatch_tile<Block32Tile<BlockQ4_0>::K>},
    {GgmlType::Q4_1, dispatch_tile<Block32Tile<BlockQ4_1>::K>}, {GgmlType::Q5_0, dispatch_tile<Block32Tile<BlockQ5_0>::K>},
    {GgmlType::Q5_1, dispatch_tile<Block32Tile<BlockQ5_1>::K>}, {GgmlType::Q8_0, dispatch_tile<Block32Tile<BlockQ8_0>::K>},
    {GgmlType::MXFP4, dispatch_tile<Block32Tile<BlockMXFP4>::K>}, {GgmlType::MLX_U8, dispatch_tile<MlxU8Tile>},
    {GgmlType::Q2_K, dispatch_tile<KQuantTile<BlockQ2_K>::K>},  {GgmlType::Q3_K, dispatch_tile<KQuantTile<BlockQ3_K>::K>},
    {GgmlType::Q4_K, dispatch_tile<KQuantTile<BlockQ4_K>::K>},  {GgmlType::Q5_K, dispatch_tile<KQuantTile<BlockQ5_K>::K>},
    {GgmlType::Q6_K, dispatch_tile<KQuantTile<BlockQ6_K>::K>},
};

}  // namespace
}  // namespace lp
