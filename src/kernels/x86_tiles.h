#pragma once
// The x86 tile kernels, written once with 256-bit vectors and compiled once per instruction
// set (see x86_simd_helpers.h): the AVX-512 unit gets VNNI dot products, mask-register bit
// expansion and twice the registers from the same source. Each kernel unpacks a weight block
// once and takes its dot products with NT tokens (1..kMaxTileTokens), so prefill pays the
// unpacking once per tile. Sums are exact integers per block, as in the scalar reference;
// only the order of the float additions differs from it.
#include "kernels/activation_quant.h"
#include "kernels/dot_tile.h"
#include "kernels/kquant_scales.h"
#include "kernels/simd_kernels.h"
#include "kernels/x86_simd_helpers.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

// Activation block b of token t.
template <class Block>
const Block& act_block(const uint8_t* act, uint64_t stride, int t, int64_t b) {
  return reinterpret_cast<const Block*>(act + static_cast<uint64_t>(t) * stride)[b];
}

// Independent float accumulators per token: one token alone would otherwise wait on the
// latency of one FMA chain.
template <int NT>
constexpr int kChains = NT == 1 ? 2 : 1;

// K-quant integer sums: a 256-value block chains eight multiply-adds per token, and VNNI's
// accumulating dpwssd puts its whole latency on the chain, so one token gets four chains,
// up to four tokens two each, wider tiles one (their tokens are independent chains).
#ifdef __AVX512F__
template <int NT>
constexpr int kIntChains = NT == 1 ? 4 : NT <= 4 ? 2 : 1;
#else
template <int NT>  // 16 registers: a second chain per token would spill
constexpr int kIntChains = NT == 1 ? 4 : 1;
#endif

// The widest tile one kernel instance takes. Four tokens everywhere; eight on AVX-512 (32
// vector registers) for the K-quants whose unpacked weights are few registers (Q2_K, Q4_K,
// Q6_K: measured faster there, while Q3_K, Q5_K, the 32-value types and floats spill).
constexpr int kNarrowTile = 4;
#ifdef __AVX512F__
constexpr int kWideTile = 8;
#else
constexpr int kWideTile = 4;
#endif

template <int NT>
void store_sums(const __m256 (&acc)[kChains<NT>][NT], const float* extra, float* out, int64_t out_stride) {
  for (int t = 0; t < NT; ++t) {
    __m256 sum = acc[0][t];
    for (int c = 1; c < kChains<NT>; ++c) sum = _mm256_add_ps(sum, acc[c][t]);
    out[t * out_stride] = horizontal_sum(sum) + (extra ? extra[t] : 0.0f);
  }
}

// Runs step(b, chain) over blocks, even blocks on the first chain and odd ones on the last,
// written out so the chains stay in registers.
template <int NT, class Step>
inline void for_each_block_pair(int64_t blocks, __m256 (&acc)[kChains<NT>][NT], const Step& step) {
  int64_t b = 0;
  for (; b + 1 < blocks; b += 2) {
    step(b, acc[0]);
    step(b + 1, acc[kChains<NT> - 1]);
  }
  if (b < blocks) step(b, acc[0]);
}

// ---- 32-value blocks against Q8_0 / Q8_1 ----

// A signed block's float scale: fp16 d, or MXFP4's E8M0 exponent.
template <class Block>
inline float block_scale(const Block& b) { return fp16_to_float(b.d); }
inline float block_scale(const BlockMXFP4& b) { return e8m0_to_fp32_half(b.e); }

// Signed weights (Q4_0, Q5_0, Q8_0, MXFP4): |w| against the activations with w's sign, so the
// unsigned-by-signed byte product applies.
template <int NT, class Block, __m256i (*unpack)(const Block&)>
void tile_signed_q8_0(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out,
                      int64_t out_stride) {
  const auto* w = reinterpret_cast<const Block*>(weights);
  __m256 acc[kChains<NT>][NT];
  for (auto& chain : acc)
    for (auto& a : chain) a = _mm256_setzero_ps();
  const auto step = [&](int64_t b, __m256(&chain)[NT]) {
    const __m256i q = unpack(w[b]);
    const __m256i q_abs = _mm256_sign_epi8(q, q);
    const float dw = block_scale(w[b]);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_0& a = act_block<BlockQ8_0>(act, stride, t, b);
      const __m256i dot = dot_u8_s8(_mm256_setzero_si256(), q_abs, _mm256_sign_epi8(load256(a.qs), q));
      chain[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * fp16_to_float(a.d)), _mm256_cvtepi32_ps(dot), chain[t]);
    }
  };
  for_each_block_pair<NT>(n / kQK, acc, step);
  store_sums<NT>(acc, nullptr, out, out_stride);
}

inline __m256i unpack_q4_0(const BlockQ4_0& b) { return _mm256_sub_epi8(unpack_nibbles_32(b.qs), _mm256_set1_epi8(8)); }

// Bytes whose fifth bit is clear become nibble | 0xF0 = nibble - 16 as int8.
inline __m256i unpack_q5_0(const BlockQ5_0& b) {
  const __m256i high_clear = _mm256_andnot_si256(bytes_from_bits_32(b.qh), _mm256_set1_epi8(static_cast<char>(0xF0)));
  return _mm256_or_si256(unpack_nibbles_32(b.qs), high_clear);
}

inline __m256i unpack_q8_0(const BlockQ8_0& b) { return load256(b.qs); }

// Nibbles to the doubled E2M1 levels (-12..12) by one byte shuffle: the 16-entry table fits a lane.
inline __m256i unpack_mxfp4(const BlockMXFP4& b) {
  const __m256i levels = _mm256_broadcastsi128_si256(load128(kMxfp4Values));
  return _mm256_shuffle_epi8(levels, unpack_nibbles_32(b.qs));
}

// Unsigned weights with an offset (Q4_1, Q5_1, MLX_U8): the offset term m * sum(x) is the
// activation block's s, added in float per block. `Weights` says how a block's levels are
// read (levels), multiplied with 32 activation bytes (dot), scaled (scale) and offset (offset).
template <int NT, class Weights>
void tile_offset_q8_1(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out,
                      int64_t out_stride) {
  const auto* w = reinterpret_cast<const typename Weights::Block*>(weights);
  __m256 acc[kChains<NT>][NT];
  for (auto& chain : acc)
    for (auto& a : chain) a = _mm256_setzero_ps();
  float offsets[NT] = {};
  const auto step = [&](int64_t b, __m256(&chain)[NT]) {
    const auto q = Weights::levels(w[b]);
    const float dw = Weights::scale(w[b]), m = Weights::offset(w[b]);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_1& a = act_block<BlockQ8_1>(act, stride, t, b);
      const __m256i dot = Weights::dot(q, load256(a.qs));
      chain[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * fp16_to_float(a.d)), _mm256_cvtepi32_ps(dot), chain[t]);
      offsets[t] += m * fp16_to_float(a.s);
    }
  };
  for_each_block_pair<NT>(n / kQK, acc, step);
  store_sums<NT>(acc, offsets, out, out_stride);
}

// GGML's offset types: fp16 d and m, levels of at most 5 bits (a byte pair's products fit int16).
template <class B, __m256i (*unpack)(const B&)>
struct Fp16OffsetWeights {
  using Block = B;
  static __m256i levels(const B& b) { return unpack(b); }
  static __m256i dot(__m256i q, __m256i x) { return dot_u8_s8(_mm256_setzero_si256(), q, x); }
  static float scale(const B& b) { return fp16_to_float(b.d); }
  static float offset(const B& b) { return fp16_to_float(b.m); }
};

inline __m256i unpack_q4_1(const BlockQ4_1& b) { return unpack_nibbles_32(b.qs); }

inline __m256i unpack_q5_1(const BlockQ5_1& b) {
  const __m256i fifth = _mm256_and_si256(bytes_from_bits_32(b.qh), _mm256_set1_epi8(0x10));
  return _mm256_or_si256(unpack_nibbles_32(b.qs), fifth);
}

// MLX affine groups as bytes (BlockMlxU8): float scale and bias, levels up to 255. Without VNNI
// a byte pair's products could pass int16, so the low seven bits and the top bit are
// multiplied apart.
struct MlxU8Weights {
  using Block = BlockMlxU8;
  struct Levels {
    __m256i all, low, top;
  };
  static Levels levels(const Block& b) {
    const __m256i q = load256(b.q);
    return {q, _mm256_and_si256(q, _mm256_set1_epi8(0x7F)), _mm256_and_si256(_mm256_srli_epi16(q, 7), _mm256_set1_epi8(1))};
  }
  static __m256i dot(const Levels& q, __m256i x) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), q.all, x);
#else
    return _mm256_add_epi32(dot_u8_s8(_mm256_setzero_si256(), q.low, x),
                            _mm256_slli_epi32(dot_u8_s8(_mm256_setzero_si256(), q.top, x), 7));
#endif
  }
  static float scale(const Block& b) { return b.scale; }
  static float offset(const Block& b) { return b.bias; }
};

// ---- K-quants against Q8_K ----
// A super-block's integer sum builds up in int32 lanes (two chains for a single token),
// then enters the float sum scaled by d_w * d_a; offsets (mins, or the bias that makes the
// unsigned levels signed) come from the activation's bsums through one madd per token.

template <int NT>
struct SuperBlockSums {
  static constexpr int kChainCount = kIntChains<NT>;
  __m256i lanes[kChainCount][NT];
  SuperBlockSums() {
    for (auto& chain : lanes)
      for (auto& l : chain) l = _mm256_setzero_si256();
  }
  __m256i total(int t) const {
    __m256i sum = lanes[0][t];
    for (int c = 1; c < kChainCount; ++c) sum = _mm256_add_epi32(sum, lanes[c][t]);
    return sum;
  }
};

inline __m256i bsums_of(const BlockQ8_K& a) { return load256(a.bsums); }

// Adds 32 weight levels (unsigned, <= 63) times the activation's values [offset, offset+32)
// with the two 16-value scales in `scales` to every token's chain `c`.
template <int NT>
inline void add_run(SuperBlockSums<NT>& sums, int c, __m256i levels, __m256i scales, const uint8_t* act,
                    uint64_t stride, int64_t b, int offset) {
  for (int t = 0; t < NT; ++t) {
    const BlockQ8_K& a = act_block<BlockQ8_K>(act, stride, t, b);
    sums.lanes[c][t] = scaled_dot_u8_s8(sums.lanes[c][t], levels, load256(a.qs + offset), scales);
  }
}

// The end of a super-block of a type with sub-block minimums (Q2_K, Q4_K, Q5_K): every
// token's accumulator gains d * a.d * (its scaled level sums) - dmin * a.d * (mins . bsums).
template <int NT>
inline void add_block_with_mins(__m256 (&acc)[NT], const SuperBlockSums<NT>& sums, float dw, float dmin, __m256i mins,
                                const uint8_t* act, uint64_t stride, int64_t b) {
  for (int t = 0; t < NT; ++t) {
    const BlockQ8_K& a = act_block<BlockQ8_K>(act, stride, t, b);
    const __m256i min_sum = _mm256_madd_epi16(bsums_of(a), mins);
    acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * a.d), _mm256_cvtepi32_ps(sums.total(t)), acc[t]);
    acc[t] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * a.d), _mm256_cvtepi32_ps(min_sum), acc[t]);
  }
}

template <int NT>
void tile_q2_k(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ2_K*>(weights);
  __m256 acc[1][NT];
  for (auto& a : acc[0]) a = _mm256_setzero_ps();
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i packed = load128(w[b].scales);
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F)));
    const __m256i scales = _mm256_cvtepu8_epi16(_mm_and_si128(packed, _mm_set1_epi8(0x0F)));
    SuperBlockSums<NT> sums;
    for (int half = 0; half < 2; ++half) {
      const __m256i q = load256(w[b].qs + 32 * half);
      for (int plane = 0; plane < 4; ++plane) {
        const __m256i levels = _mm256_and_si256(_mm256_srli_epi16(q, 2 * plane), two_bits);
        const int s = 8 * half + 2 * plane;
        add_run<NT>(sums, plane % kIntChains<NT>, levels, scale_pair(scales, s), act, stride, b,
                    128 * half + 32 * plane);
      }
    }
    add_block_with_mins<NT>(acc[0], sums, fp16_to_float(w[b].d), fp16_to_float(w[b].dmin), mins, act, stride, b);
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = horizontal_sum(acc[0][t]);
}

// Levels l - 4 (l = 0..7 from 2 low bits and the high bit) as l, with 4 * sum(x) taken off.
template <int NT>
void tile_q3_k(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ3_K*>(weights);
  __m256 acc[1][NT];
  for (auto& a : acc[0]) a = _mm256_setzero_ps();
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const Q3KScaleWords words = unpack_scales_q3_k_words(w[b].scales);
    const __m128i scales8 = _mm_set_epi32(static_cast<int>(words.words[3]), static_cast<int>(words.words[2]),
                                          static_cast<int>(words.words[1]), static_cast<int>(words.words[0]));
    const __m256i scales16 = _mm256_cvtepi8_epi16(scales8);
    const __m256i high = load256(w[b].hmask);
    SuperBlockSums<NT> sums;
    for (int half = 0; half < 2; ++half) {
      const __m256i q = load256(w[b].qs + 32 * half);
      for (int plane = 0; plane < 4; ++plane) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * plane), two_bits);
        const __m256i levels = _mm256_or_si256(low, bit_of_bytes(high, 4 * half + plane, 2));
        const int s = 8 * half + 2 * plane;
        add_run<NT>(sums, plane % kIntChains<NT>, levels, scale_pair(scales16, s), act, stride, b,
                    128 * half + 32 * plane);
      }
    }
    const float dw = fp16_to_float(w[b].d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = act_block<BlockQ8_K>(act, stride, t, b);
      const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(bsums_of(a), scales16), 2);
      const __m256i total = _mm256_sub_epi32(sums.total(t), bias);
      acc[0][t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * a.d), _mm256_cvtepi32_ps(total), acc[0][t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = horizontal_sum(acc[0][t]);
}

// Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins. Scales come back as eight
// int16 (a vector to broadcast from), mins spread to the 16 bsums: groups 2j and 2j + 1 of
// 16 values share min j.
inline void unpack_q4_k_scales(const uint8_t packed[12], __m128i& scales16, __m256i& mins_per_bsum) {
  const ScaleMinWords words = unpack_scales_mins_k4_words(packed);
  const __m128i bytes = _mm_set_epi32(static_cast<int>(words.mins_high), static_cast<int>(words.mins_low),
                                      static_cast<int>(words.scales_high), static_cast<int>(words.scales_low));
  scales16 = _mm_cvtepu8_epi16(bytes);
  const __m128i mins8 = _mm_unpackhi_epi64(bytes, bytes);
  mins_per_bsum = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins8, mins8));
}

// Scale j (0-7) of the eight int16 in each half of `scales16x2` in every int16 of a vector.
inline __m256i broadcast_scale(__m256i scales16x2, int j) {
  return _mm256_shuffle_epi8(scales16x2, _mm256_set1_epi16(static_cast<int16_t>((2 * j) | ((2 * j + 1) << 8))));
}

template <int NT, class Block, bool kFifthBit>
void tile_q4_q5_k(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out,
                  int64_t out_stride) {
  const auto* w = reinterpret_cast<const Block*>(weights);
  __m256 acc[1][NT];
  for (auto& a : acc[0]) a = _mm256_setzero_ps();
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m128i scales8;
    __m256i mins;
    unpack_q4_k_scales(w[b].scales, scales8, mins);
    const __m256i scales = _mm256_broadcastsi128_si256(scales8);
    [[maybe_unused]] __m256i high;
    if constexpr (kFifthBit) high = load256(w[b].qh);
    SuperBlockSums<NT> sums;
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m256i q = load256(w[b].qs + 32 * chunk);
      __m256i low = _mm256_and_si256(q, nibble);
      __m256i upper = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
      if constexpr (kFifthBit) {
        low = _mm256_or_si256(low, bit_of_bytes(high, 2 * chunk, 4));
        upper = _mm256_or_si256(upper, bit_of_bytes(high, 2 * chunk + 1, 4));
      }
      add_run<NT>(sums, (2 * chunk) % kIntChains<NT>, low, broadcast_scale(scales, 2 * chunk), act, stride, b, 64 * chunk);
      add_run<NT>(sums, (2 * chunk + 1) % kIntChains<NT>, upper, broadcast_scale(scales, 2 * chunk + 1), act, stride, b,
                  64 * chunk + 32);
    }
    add_block_with_mins<NT>(acc[0], sums, fp16_to_float(w[b].d), fp16_to_float(w[b].dmin), mins, act, stride, b);
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = horizontal_sum(acc[0][t]);
}

// Levels l - 32 (l = 0..63 from 4 low and 2 high bits) as l, with 32 * sum(x) taken off.
template <int NT>
void tile_q6_k(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  const auto* w = reinterpret_cast<const BlockQ6_K*>(weights);
  __m256 acc[1][NT];
  for (auto& a : acc[0]) a = _mm256_setzero_ps();
  const __m256i nibble = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m256i scales16 = _mm256_cvtepi8_epi16(load128(w[b].scales));
    SuperBlockSums<NT> sums;
    for (int half = 0; half < 2; ++half) {
      const __m256i low_a = load256(w[b].ql + 64 * half), low_b = load256(w[b].ql + 64 * half + 32);
      const __m256i high = load256(w[b].qh + 32 * half);
      const __m256i low[4] = {_mm256_and_si256(low_a, nibble), _mm256_and_si256(low_b, nibble),
                              _mm256_and_si256(_mm256_srli_epi16(low_a, 4), nibble),
                              _mm256_and_si256(_mm256_srli_epi16(low_b, 4), nibble)};
      for (int run = 0; run < 4; ++run) {
        const __m256i high_bits = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2 * run), two_bits), 4);
        const __m256i levels = _mm256_or_si256(low[run], high_bits);
        const int s = 8 * half + 2 * run;
        add_run<NT>(sums, run % kIntChains<NT>, levels, scale_pair(scales16, s), act, stride, b,
                    128 * half + 32 * run);
      }
    }
    const float dw = fp16_to_float(w[b].d);
    for (int t = 0; t < NT; ++t) {
      const BlockQ8_K& a = act_block<BlockQ8_K>(act, stride, t, b);
      const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(bsums_of(a), scales16), 5);
      const __m256i total = _mm256_sub_epi32(sums.total(t), bias);
      acc[0][t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * a.d), _mm256_cvtepi32_ps(total), acc[0][t]);
    }
  }
  for (int t = 0; t < NT; ++t) out[t * out_stride] = horizontal_sum(acc[0][t]);
}

// ---- Float weights against float32 activations ----

struct F32Weights {
  using Element = float;
  static __m256 load8(const float* w) { return _mm256_loadu_ps(w); }
  static float scalar(float w) { return w; }
};
struct F16Weights {
  using Element = uint16_t;
  static __m256 load8(const uint16_t* w) { return _mm256_cvtph_ps(load128(w)); }
  static float scalar(uint16_t w) { return _cvtsh_ss(w); }
};
struct BF16Weights {
  using Element = uint16_t;
  static __m256 load8(const uint16_t* w) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(w)), 16));
  }
  static float scalar(uint16_t w) {
    const uint32_t bits = static_cast<uint32_t>(w) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
};

template <int NT, class Weights>
void tile_float(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out, int64_t out_stride) {
  // Independent FMA chains: 4 per token for one or two tokens, 2 per token for more. (Eight
  // tokens measured slower: eight activation rows no longer stay in L1.)
  constexpr int kUnroll = NT <= 2 ? 4 : 2;
  const auto* w = reinterpret_cast<const typename Weights::Element*>(weights);
  const float* x[NT];
  for (int t = 0; t < NT; ++t) x[t] = reinterpret_cast<const float*>(act + static_cast<uint64_t>(t) * stride);
  __m256 acc[kUnroll][NT];
  for (auto& chain : acc)
    for (auto& a : chain) a = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 * kUnroll <= n; i += 8 * kUnroll) {
    for (int u = 0; u < kUnroll; ++u) {
      const __m256 wv = Weights::load8(w + i + 8 * u);
      for (int t = 0; t < NT; ++t) acc[u][t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[t] + i + 8 * u), acc[u][t]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 wv = Weights::load8(w + i);
    for (int t = 0; t < NT; ++t) acc[0][t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x[t] + i), acc[0][t]);
  }
  for (int t = 0; t < NT; ++t) {
    __m256 sum = acc[0][t];
    for (int u = 1; u < kUnroll; ++u) sum = _mm256_add_ps(sum, acc[u][t]);
    float total = horizontal_sum(sum);
    for (int64_t j = i; j < n; ++j) total += Weights::scalar(w[j]) * x[t][j];
    out[t * out_stride] = total;
  }
}

#if defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define LP_X86_MATVEC_512 1
}  // namespace
}  // namespace lp
#include "kernels/x86_matvec512.h"
namespace lp {
namespace {
#endif

// ---- From a kernel templated on the tile width to a DotTileFn ----

template <template <int> class Kernel, int kWidest, int NT>
void run_if_within(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, float* out,
                   int64_t out_stride) {
  if constexpr (NT <= kWidest) Kernel<NT>::run(n, weights, act, stride, out, out_stride);
}

// Splits n_tokens into tiles of at most kWidest and runs the kernel instance of each width.
template <template <int> class Kernel, int kWidest>
void dispatch_tile(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t stride, int n_tokens, float* out,
                   int64_t out_stride) {
  static_assert(kMaxTileTokens == 8 && kWidest <= kMaxTileTokens);
  while (n_tokens > 0) {
    const int tokens = n_tokens < kWidest ? n_tokens : kWidest;
    switch (tokens) {
      case 1: run_if_within<Kernel, kWidest, 1>(n, weights, act, stride, out, out_stride); break;
      case 2: run_if_within<Kernel, kWidest, 2>(n, weights, act, stride, out, out_stride); break;
      case 3: run_if_within<Kernel, kWidest, 3>(n, weights, act, stride, out, out_stride); break;
      case 4: run_if_within<Kernel, kWidest, 4>(n, weights, act, stride, out, out_stride); break;
      case 5: run_if_within<Kernel, kWidest, 5>(n, weights, act, stride, out, out_stride); break;
      case 6: run_if_within<Kernel, kWidest, 6>(n, weights, act, stride, out, out_stride); break;
      case 7: run_if_within<Kernel, kWidest, 7>(n, weights, act, stride, out, out_stride); break;
      default: run_if_within<Kernel, kWidest, 8>(n, weights, act, stride, out, out_stride); break;
    }
    n_tokens -= tokens;
    act += static_cast<uint64_t>(tokens) * stride;
    out += tokens * out_stride;
  }
}

template <int NT> struct Q4_0Tile { static constexpr auto run = tile_signed_q8_0<NT, BlockQ4_0, unpack_q4_0>; };
template <int NT> struct Q5_0Tile { static constexpr auto run = tile_signed_q8_0<NT, BlockQ5_0, unpack_q5_0>; };
template <int NT> struct Q8_0Tile { static constexpr auto run = tile_signed_q8_0<NT, BlockQ8_0, unpack_q8_0>; };
template <int NT> struct MXFP4Tile { static constexpr auto run = tile_signed_q8_0<NT, BlockMXFP4, unpack_mxfp4>; };
template <int NT> struct Q4_1Tile { static constexpr auto run = tile_offset_q8_1<NT, Fp16OffsetWeights<BlockQ4_1, unpack_q4_1>>; };
template <int NT> struct MlxU8Tile { static constexpr auto run = tile_offset_q8_1<NT, MlxU8Weights>; };
template <int NT> struct Q5_1Tile { static constexpr auto run = tile_offset_q8_1<NT, Fp16OffsetWeights<BlockQ5_1, unpack_q5_1>>; };
template <int NT> struct Q2_KTile { static constexpr auto run = tile_q2_k<NT>; };
template <int NT> struct Q3_KTile { static constexpr auto run = tile_q3_k<NT>; };
template <int NT> struct Q4_KTile { static constexpr auto run = tile_q4_q5_k<NT, BlockQ4_K, false>; };
template <int NT> struct Q5_KTile { static constexpr auto run = tile_q4_q5_k<NT, BlockQ5_K, true>; };
template <int NT> struct Q6_KTile { static constexpr auto run = tile_q6_k<NT>; };
#ifdef LP_X86_MATVEC_512
// One token on the AVX-512 unit: the 512-bit decode kernel (x86_matvec512.h).
template <> struct Q6_KTile<1> { static constexpr auto run = matvec_q6_k; };
#endif
template <int NT> struct F32Tile { static constexpr auto run = tile_float<NT, F32Weights>; };
template <int NT> struct F16Tile { static constexpr auto run = tile_float<NT, F16Weights>; };
template <int NT> struct BF16Tile { static constexpr auto run = tile_float<NT, BF16Weights>; };

// The list each instruction-set unit hands the kernel table.
constexpr SimdTile kX86Tiles[] = {
    {GgmlType::F32, dispatch_tile<F32Tile, kNarrowTile>},   {GgmlType::F16, dispatch_tile<F16Tile, kNarrowTile>},
    {GgmlType::BF16, dispatch_tile<BF16Tile, kNarrowTile>}, {GgmlType::Q4_0, dispatch_tile<Q4_0Tile, kNarrowTile>},
    {GgmlType::Q4_1, dispatch_tile<Q4_1Tile, kNarrowTile>}, {GgmlType::Q5_0, dispatch_tile<Q5_0Tile, kNarrowTile>},
    {GgmlType::Q5_1, dispatch_tile<Q5_1Tile, kNarrowTile>}, {GgmlType::Q8_0, dispatch_tile<Q8_0Tile, kNarrowTile>},
    {GgmlType::MXFP4, dispatch_tile<MXFP4Tile, kNarrowTile>}, {GgmlType::MLX_U8, dispatch_tile<MlxU8Tile, kNarrowTile>},
    {GgmlType::Q2_K, dispatch_tile<Q2_KTile, kWideTile>}, {GgmlType::Q3_K, dispatch_tile<Q3_KTile, kNarrowTile>},
    {GgmlType::Q4_K, dispatch_tile<Q4_KTile, kWideTile>}, {GgmlType::Q5_K, dispatch_tile<Q5_KTile, kNarrowTile>},
    {GgmlType::Q6_K, dispatch_tile<Q6_KTile, kWideTile>},
};

}  // namespace
}  // namespace lp
