#pragma once
// Panel kernels (see panel_gemm.h) for the K-quants against Q8_K, the 32-value types against
// Q8_0/Q8_1 and F16 against float32 (further down): eight weight rows are unpacked once per
// call so that 32-bit lane r of a vector holds four consecutive levels of row r. One vpdpbusd
// then takes four products for each of the eight rows against one token's four activation
// bytes (broadcast from memory), one float multiply-add applies a sub-block's scales to all
// eight rows, and the offsets (a type's minimums, or the bias that makes signed levels
// unsigned) come from the activation's bsums through vpdpwssd on the rows' integer
// coefficients. Integer sums per sub-block are exact, as in the scalar reference; only the
// order of the float additions differs from it.
// Compiled once per x86 unit: the AVX-512 one (VNNI, 32 registers) and the AVX2 one, where
// products go through int16 instead of VNNI (vpmaddubsw pairs summed in int16 lanes over as
// many groups as the levels' range allows, then one vpmaddwd: products_per_widening), fewer
// tokens share a pass (16 registers), and the F16 panel is left out (it is built on 512-bit
// registers).
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/kquant_scales.h"
#include "kernels/panel_gemm.h"
#include "kernels/simd_kernels.h"
#include "kernels/x86_activation_quant.h"
#include "kernels/x86_simd_helpers.h"
#include "kernels/x86_tiles.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

inline void store256(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One row's super-block unpacked in its natural order: unsigned levels, the integer scale of
// each sub-block (16 sub-blocks of 16 values, or 8 of 32) and the super-block's d, and the
// offset term as an integer coefficient per 16 values times one float: value i =
// d * scale[i / sub] * level[i] + offset_scale * offset_coef[i / 16].
struct alignas(32) RowSuperBlock {
  uint8_t levels[kQK_K];
  int16_t scale[16];
  float d;
  int16_t offset_coef[16];
  float offset_scale;
};

// One super-block of kPanelRows rows, lanes = rows. The sub-block scales are kept twice: as
// floats (d * scale) for the VNNI kernel, which scales every sub-block's int32 sum, and as
// integers for the AVX2 one, which folds them into its int16-to-int32 widening (vpmaddwd)
// and applies d once per super-block.
struct alignas(32) PanelSuperBlock {
  uint8_t levels[kQK_K / 4][kPanelRows][4];       // [group of four values][row][value]
  float scale[16][kPanelRows];                    // [sub-block][row]: d * the integer scale
  int16_t scale_pairs[16][kPanelRows][2];         // [sub-block][row][both halves of a vpmaddwd pair]
  float d[kPanelRows];
  int16_t offset_coef[8][kPanelRows][2];          // [pair of 16-value groups][row][group in pair]
  float offset_scale[kPanelRows];
};

// Sub-block j's scales of the panel's rows (int32 lanes, each within int16) and the rows' d:
// the float and the integer forms.
inline void set_sub_block_scales(PanelSuperBlock& p, int j, __m256i scales, __m256 d) {
  _mm256_store_ps(p.scale[j], _mm256_mul_ps(d, _mm256_cvtepi32_ps(scales)));
  store256(p.scale_pairs[j], int16_pairs(scales));
}

// ---- One row's super-block, per type (the same level arithmetic as the tile kernels) ----

inline void unpack_super_block(const BlockQ2_K& b, RowSuperBlock& u) {
  u.d = fp16_to_float(b.d);
  for (int k = 0; k < 16; ++k) {
    u.scale[k] = static_cast<int16_t>(b.scales[k] & 0x0F);
    u.offset_coef[k] = static_cast<int16_t>(b.scales[k] >> 4);
  }
  u.offset_scale = -fp16_to_float(b.dmin);
  const __m256i two_bits = _mm256_set1_epi8(3);
  for (int half = 0; half < 2; ++half) {
    const __m256i q = load256(b.qs + 32 * half);
    for (int plane = 0; plane < 4; ++plane)
      store256(u.levels + 128 * half + 32 * plane, _mm256_and_si256(_mm256_srli_epi16(q, 2 * plane), two_bits));
  }
}

// Levels l - 4 stored as l (0..7); the -4 goes to the offset: -4 * d * scale per 16 values.
inline void unpack_super_block(const BlockQ3_K& b, RowSuperBlock& u) {
  const Q3KScaleWords words = unpack_scales_q3_k_words(b.scales);
  int8_t scales[16];
  std::memcpy(scales, words.words, sizeof scales);
  u.d = fp16_to_float(b.d);
  for (int k = 0; k < 16; ++k) u.scale[k] = u.offset_coef[k] = scales[k];
  u.offset_scale = -4.0f * u.d;
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i high = load256(b.hmask);
  for (int half = 0; half < 2; ++half) {
    const __m256i q = load256(b.qs + 32 * half);
    for (int plane = 0; plane < 4; ++plane) {
      const __m256i low = _mm256_and_si256(_mm256_srli_epi16(q, 2 * plane), two_bits);
      store256(u.levels + 128 * half + 32 * plane, _mm256_or_si256(low, bit_of_bytes(high, 4 * half + plane, 2)));
    }
  }
}

// Q4_K and Q5_K: eight sub-blocks of 32, minimum j for the 16-value groups 2j and 2j + 1.
template <class Block, bool kFifthBit>
inline void unpack_q4_q5_super_block(const Block& b, RowSuperBlock& u) {
  const ScaleMinWords words = unpack_scales_mins_k4_words(b.scales);
  uint8_t scales[8], mins[8];
  std::memcpy(scales, &words.scales_low, 4);
  std::memcpy(scales + 4, &words.scales_high, 4);
  std::memcpy(mins, &words.mins_low, 4);
  std::memcpy(mins + 4, &words.mins_high, 4);
  u.d = fp16_to_float(b.d);
  for (int j = 0; j < 8; ++j) {
    u.scale[j] = scales[j];
    u.offset_coef[2 * j] = u.offset_coef[2 * j + 1] = mins[j];
  }
  u.offset_scale = -fp16_to_float(b.dmin);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  [[maybe_unused]] __m256i high;
  if constexpr (kFifthBit) high = load256(b.qh);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const __m256i q = load256(b.qs + 32 * chunk);
    __m256i low = _mm256_and_si256(q, nibble);
    __m256i upper = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
    if constexpr (kFifthBit) {
      low = _mm256_or_si256(low, bit_of_bytes(high, 2 * chunk, 4));
      upper = _mm256_or_si256(upper, bit_of_bytes(high, 2 * chunk + 1, 4));
    }
    store256(u.levels + 64 * chunk, low);
    store256(u.levels + 64 * chunk + 32, upper);
  }
}

inline void unpack_super_block(const BlockQ4_K& b, RowSuperBlock& u) { unpack_q4_q5_super_block<BlockQ4_K, false>(b, u); }
inline void unpack_super_block(const BlockQ5_K& b, RowSuperBlock& u) { unpack_q4_q5_super_block<BlockQ5_K, true>(b, u); }

// Levels l - 32 stored as l (0..63); the -32 goes to the offset: -32 * d * scale per 16 values.
inline void unpack_super_block(const BlockQ6_K& b, RowSuperBlock& u) {
  u.d = fp16_to_float(b.d);
  for (int k = 0; k < 16; ++k) u.scale[k] = u.offset_coef[k] = b.scales[k];
  u.offset_scale = -32.0f * u.d;
  const __m256i nibble = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3);
  for (int half = 0; half < 2; ++half) {
    const __m256i low_a = load256(b.ql + 64 * half), low_b = load256(b.ql + 64 * half + 32);
    const __m256i high = load256(b.qh + 32 * half);
    const __m256i low[4] = {_mm256_and_si256(low_a, nibble), _mm256_and_si256(low_b, nibble),
                            _mm256_and_si256(_mm256_srli_epi16(low_a, 4), nibble),
                            _mm256_and_si256(_mm256_srli_epi16(low_b, 4), nibble)};
    for (int run = 0; run < 4; ++run) {
      const __m256i high_bits = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2 * run), two_bits), 4);
      store256(u.levels + 128 * half + 32 * run, _mm256_or_si256(low[run], high_bits));
    }
  }
}

// The panel of rows [0, n_rows) of `weights`; lanes past n_rows repeat the last row (their
// results are not stored).
template <class Block>
void fill_panel(const uint8_t* weights, uint64_t row_bytes, int n_rows, int64_t blocks, PanelSuperBlock* panel) {
  RowSuperBlock u{};
  for (int r = 0; r < kPanelRows; ++r) {
    const auto* row = reinterpret_cast<const Block*>(weights + static_cast<uint64_t>(r < n_rows ? r : n_rows - 1) * row_bytes);
    for (int64_t b = 0; b < blocks; ++b) {
      unpack_super_block(row[b], u);
      PanelSuperBlock& p = panel[b];
      for (int g = 0; g < kQK_K / 4; ++g) std::memcpy(p.levels[g][r], u.levels + 4 * g, 4);
      for (int k = 0; k < 16; ++k) {
        p.scale[k][r] = u.d * static_cast<float>(u.scale[k]);
        p.scale_pairs[k][r][0] = p.scale_pairs[k][r][1] = u.scale[k];
      }
      p.d[r] = u.d;
      for (int k = 0; k < 16; ++k) p.offset_coef[k / 2][r][k % 2] = u.offset_coef[k];
      p.offset_scale[r] = u.offset_scale;
    }
  }
}

// Super-block b of each of NT tokens' activations.
template <int NT>
struct TokensBlock {
  const BlockQ8_K* token[NT];
  const BlockQ8_K* operator[](int t) const { return token[t]; }
};
template <int NT>
inline TokensBlock<NT> super_block_of_tokens(const uint8_t* act, uint64_t stride, int64_t b) {
  TokensBlock<NT> a;
  for (int t = 0; t < NT; ++t) a.token[t] = &act_block<BlockQ8_K>(act, stride, t, b);
  return a;
}

// A super-block's offset term for NT tokens, as integers: each row's coefficients (a type's
// minimums or its level bias) against the activation's bsums, two 16-value groups per vpmaddwd.
template <int NT>
inline void offset_sums(const PanelSuperBlock& p, const TokensBlock<NT>& a, __m256i (&offset)[NT]) {
  for (auto& v : offset) v = _mm256_setzero_si256();
  for (int k2 = 0; k2 < 8; ++k2) {
    const __m256i coef = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.offset_coef[k2]));
    for (int t = 0; t < NT; ++t) offset[t] = dot_s16_s16(offset[t], coef, _mm256_set1_epi32(load_i32(a[t]->bsums + 2 * k2)));
  }
}

// A K-quant's panel shape: values per sub-block scale (16 or 32) and its largest level as the
// panel stores it (unsigned: Q2_K 3, Q3_K 7, Q4_K 15, Q5_K 31, Q6_K 63).
struct KQuantPanel {
  int sub;
  int max_level;
};
constexpr KQuantPanel kQ2KPanel{16, 3}, kQ3KPanel{16, 7}, kQ4KPanel{32, 15}, kQ5KPanel{32, 31}, kQ6KPanel{16, 63};

// Without VNNI: NT tokens against the panel with each sub-block's products summed in int16
// lanes (vpmaddubsw, vpaddw) and widened a few vectors at a time by one vpmaddwd against the
// rows' integer sub-block scales, so a super-block's scaled sum stays in int32 (at most
// 256 * 63 * 128 * 128 for Q6_K, far within it) and d is applied once per super-block. Per
// vector of 32 products: two operations (vpmaddubsw, vpaddw) instead of dot_u8_s8's three,
// and no float multiply-add per sub-block.
template <int NT, KQuantPanel kShape>
void panel_times_tokens_int16(const PanelSuperBlock* panel, int64_t blocks, const uint8_t* act, uint64_t stride,
                              float* out, int64_t out_stride, int n_rows) {
  constexpr int kGroups = kShape.sub / 4;  // vectors of four levels per row in a sub-block
  constexpr int kPerWidening = products_per_widening(kShape.max_level, kMaxActivation, kGroups);
  static_assert(2 * kShape.max_level * kMaxActivation <= 32767, "a pair of products must fit int16");
  __m256 total[NT];
  for (auto& v : total) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const PanelSuperBlock& p = panel[b];
    const auto a = super_block_of_tokens<NT>(act, stride, b);
    __m256i scaled[NT];
    for (auto& v : scaled) v = _mm256_setzero_si256();
    for (int j = 0; j < kQK_K / kShape.sub; ++j) {
      const __m256i scale = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.scale_pairs[j]));
      for (int g0 = j * kGroups; g0 < (j + 1) * kGroups; g0 += kPerWidening) {
        __m256i pairs[NT];
        for (auto& v : pairs) v = _mm256_setzero_si256();
        for (int g = g0; g < g0 + kPerWidening; ++g) {
          const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.levels[g]));
          for (int t = 0; t < NT; ++t)
            pairs[t] = add_pair_products(pairs[t], w, _mm256_set1_epi32(load_i32(a[t]->qs + 4 * g)));
        }
        for (int t = 0; t < NT; ++t) scaled[t] = dot_s16_s16(scaled[t], pairs[t], scale);
      }
    }
    __m256i offset[NT];
    offset_sums(p, a, offset);
    const __m256 d = _mm256_load_ps(p.d), offset_scale = _mm256_load_ps(p.offset_scale);
    for (int t = 0; t < NT; ++t) {
      const __m256 sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(offset[t]), offset_scale,
                                         _mm256_mul_ps(_mm256_cvtepi32_ps(scaled[t]), d));
      total[t] = _mm256_fmadd_ps(sum, _mm256_set1_ps(a[t]->d), total[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_first_lanes(out + t * out_stride, total[t], n_rows);
}

// With VNNI: NT tokens against the panel, each sub-block's products straight into int32
// (vpdpbusd) and its float scale applied per sub-block.
template <int NT, KQuantPanel kShape>
void panel_times_tokens_vnni(const PanelSuperBlock* panel, int64_t blocks, const uint8_t* act, uint64_t stride,
                             float* out, int64_t out_stride, int n_rows) {
  constexpr int kSub = kShape.sub;
  constexpr int kGroups = kSub / 4;  // vectors of four levels per row in a sub-block
  __m256 total[NT];
  for (auto& v : total) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const PanelSuperBlock& p = panel[b];
    const auto a = super_block_of_tokens<NT>(act, stride, b);
    __m256 sum[NT];
    for (auto& v : sum) v = _mm256_setzero_ps();
    for (int j = 0; j < kQK_K / kSub; ++j) {
      __m256i isum[NT];
      for (auto& v : isum) v = _mm256_setzero_si256();
      for (int g = j * kGroups; g < (j + 1) * kGroups; ++g) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.levels[g]));
        for (int t = 0; t < NT; ++t)
          isum[t] = dot_u8_s8(isum[t], w, _mm256_set1_epi32(load_i32(a[t]->qs + 4 * g)));
      }
      const __m256 scale = _mm256_load_ps(p.scale[j]);
      for (int t = 0; t < NT; ++t) sum[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), scale, sum[t]);
    }
    __m256i offset[NT];
    offset_sums(p, a, offset);
    const __m256 offset_scale = _mm256_load_ps(p.offset_scale);
    for (int t = 0; t < NT; ++t) {
      sum[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(offset[t]), offset_scale, sum[t]);
      total[t] = _mm256_fmadd_ps(sum[t], _mm256_set1_ps(a[t]->d), total[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_first_lanes(out + t * out_stride, total[t], n_rows);
}

template <int NT, KQuantPanel kShape>
void panel_times_tokens(const PanelSuperBlock* panel, int64_t blocks, const uint8_t* act, uint64_t stride, float* out,
                        int64_t out_stride, int n_rows) {
  if constexpr (kHasVnni) panel_times_tokens_vnni<NT, kShape>(panel, blocks, act, stride, out, out_stride, n_rows);
  else panel_times_tokens_int16<NT, kShape>(panel, blocks, act, stride, out, out_stride, n_rows);
}

// Tokens per pass over the panel: three accumulators per token stay in the 32 registers
// (AVX-512), or in 12 of the 16 (AVX2, whose products also need a register for vpmaddubsw's
// int16 result; 6 tokens measured the same there, 4 spill nothing).
#if defined(__AVX512F__)
constexpr int kPanelTokens = 6;
#else
constexpr int kPanelTokens = 4;
#endif

template <KQuantPanel kShape, int NT>
void panel_remainder(const PanelSuperBlock* panel, int64_t blocks, const uint8_t* act, uint64_t stride, int n_tokens,
                     float* out, int64_t out_stride, int n_rows) {
  if constexpr (NT > 0) {
    if (n_tokens == NT) panel_times_tokens<NT, kShape>(panel, blocks, act, stride, out, out_stride, n_rows);
    else panel_remainder<kShape, NT - 1>(panel, blocks, act, stride, n_tokens, out, out_stride, n_rows);
  }
}

// This thread's panel of `blocks` super-blocks (grown as needed, never shrunk).
inline PanelSuperBlock* panel_scratch(int64_t blocks) {
  thread_local std::vector<PanelSuperBlock> scratch;
  if (scratch.size() < static_cast<size_t>(blocks)) scratch.resize(static_cast<size_t>(blocks));
  return scratch.data();
}

// Every token of the batch against a filled panel, kPanelTokens at a time.
template <KQuantPanel kShape>
void panel_times_all_tokens(const PanelSuperBlock* panel, int64_t blocks, const uint8_t* act, uint64_t stride,
                            int64_t n_tokens, float* out, int64_t out_stride, int n_rows) {
  int64_t t = 0;
  for (; t + kPanelTokens <= n_tokens; t += kPanelTokens)
    panel_times_tokens<kPanelTokens, kShape>(panel, blocks, act + static_cast<uint64_t>(t) * stride, stride,
                                           out + t * out_stride, out_stride, n_rows);
  if (t < n_tokens)
    panel_remainder<kShape, kPanelTokens - 1>(panel, blocks, act + static_cast<uint64_t>(t) * stride, stride,
                                            static_cast<int>(n_tokens - t), out + t * out_stride, out_stride, n_rows);
}

template <class Block, KQuantPanel kShape>
void panel_kquant(int64_t n, const uint8_t* weights, uint64_t row_bytes, int n_rows, const uint8_t* act,
                  uint64_t stride, int64_t n_tokens, float* out, int64_t out_stride) {
  const int64_t blocks = n / kQK_K;
  PanelSuperBlock* panel = panel_scratch(blocks);
  fill_panel<Block>(weights, row_bytes, n_rows, blocks, panel);
  panel_times_all_tokens<kShape>(panel, blocks, act, stride, n_tokens, out, out_stride, n_rows);
}

// ---- 32-value blocks against Q8_0 / Q8_1 (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) ----
// Levels are unpacked as the tile kernels do (signed for Q4_0, Q5_0, Q8_0; unsigned with an
// offset m for Q4_1, Q5_1). The activations take the unsigned side of vpdpbusd as a + 128
// (a ^ 0x80), so each row's sum starts at -128 * (sum of its levels in the block); the offset
// types add m * s, s being the activation block's stored d * sum.
// Without VNNI the pairs of products go through int16: a + 128 (up to 255) against Q8_0's
// levels (up to 127 in magnitude) would saturate, so there Q8_0 keeps the activations signed
// and multiplies them as |w| against a with w's sign (dot_s8_s8, no bias). Q4_0 and Q5_0
// (|w| <= 16) and Q4_1 and Q5_1 (w <= 31) stay within int16 flipped.
enum class Dot32 {
  Flipped,        // signed levels, activations + 128, a bias per row
  FlippedOffset,  // unsigned levels and an offset m (Q8_1 activations)
  Signed,         // signed levels against signed activations, by magnitude and sign
};
constexpr Dot32 kQ8_0Dot = kHasVnni ? Dot32::Flipped : Dot32::Signed;

// A 32-value type's panel: its products and the largest magnitude of a level as the panel
// stores it (the signed operand of vpmaddubsw, against activations + 128 up to 255, or for
// Dot32::Signed |w| up to 128 against activations up to 127).
struct Panel32 {
  Dot32 dot;
  int max_level;
};
constexpr Panel32 kQ4_0Panel{Dot32::Flipped, 8}, kQ5_0Panel{Dot32::Flipped, 16}, kQ4_1Panel{Dot32::FlippedOffset, 15},
    kQ5_1Panel{Dot32::FlippedOffset, 31}, kQ8_0Panel{kQ8_0Dot, 128};

struct alignas(32) PanelBlock32 {
  int8_t levels[kQK / 4][kPanelRows][4];  // [group of four values][row][value]
  float scale[kPanelRows];
  int32_t bias[kPanelRows];  // -128 * the levels' sum (Flipped), zero otherwise
  float offset[kPanelRows];  // m (FlippedOffset only)
};

template <class Block, __m256i (*unpack)(const Block&), Dot32 kDot>
void fill_panel_32(const uint8_t* weights, uint64_t row_bytes, int n_rows, int64_t blocks, PanelBlock32* panel) {
  alignas(32) int8_t levels[kQK];
  for (int r = 0; r < kPanelRows; ++r) {
    const auto* row =
        reinterpret_cast<const Block*>(weights + static_cast<uint64_t>(r < n_rows ? r : n_rows - 1) * row_bytes);
    for (int64_t b = 0; b < blocks; ++b) {
      PanelBlock32& p = panel[b];
      store256(levels, unpack(row[b]));
      int32_t sum = 0;
      for (int g = 0; g < kQK / 4; ++g) std::memcpy(p.levels[g][r], levels + 4 * g, 4);
      for (int i = 0; i < kQK; ++i) sum += levels[i];
      p.scale[r] = fp16_to_float(row[b].d);
      p.bias[r] = kDot == Dot32::Signed ? 0 : -128 * sum;
      if constexpr (kDot == Dot32::FlippedOffset) p.offset[r] = fp16_to_float(row[b].m);
    }
  }
}

// The activation blocks the panel multiplies: Q8_1 for the offset types, Q8_0 otherwise.
template <Dot32 kDot>
using PanelActivation = std::conditional_t<kDot == Dot32::FlippedOffset, BlockQ8_1, BlockQ8_0>;

// NT tokens' activation rows (`stride` bytes apart) against the panel, as kShape's batch
// quantizer writes them (panel_32_quantizer): values a + 128 but for Dot32::Signed.
template <int NT, Panel32 kShape>
void panel_32_tokens(const PanelBlock32* panel, int64_t blocks, const uint8_t* act, uint64_t stride, float* out,
                     int64_t out_stride, int n_rows) {
  constexpr Dot32 kDot = kShape.dot;
  using ActBlock = PanelActivation<kDot>;
  // Without VNNI, vpmaddubsw's int16 pairs of a few groups are added before one vpmaddwd widens
  // them (all eight of a block for Q4_0: pairs up to 2 * 255 * 8); Q8_0 widens every group.
  constexpr int kUnsigned = kDot == Dot32::Signed ? kShape.max_level : 255;
  constexpr int kSigned = kDot == Dot32::Signed ? 127 : kShape.max_level;
  static_assert(kHasVnni || 2 * kUnsigned * kSigned <= 32767, "a pair of products must fit int16");
  constexpr int kPerWidening = products_per_widening(kUnsigned, kSigned, kQK / 4);
  __m256 total[NT];
  for (auto& v : total) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const PanelBlock32& p = panel[b];
    const ActBlock* a[NT];
    for (int t = 0; t < NT; ++t) a[t] = &act_block<ActBlock>(act, stride, t, b);
    const __m256i bias = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.bias));
    __m256i isum[NT];
    for (auto& v : isum) v = bias;
    const auto activation = [&](int t, int g) { return _mm256_set1_epi32(load_i32(a[t]->qs + 4 * g)); };
    if constexpr (kHasVnni) {
      for (int g = 0; g < kQK / 4; ++g) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.levels[g]));
        for (int t = 0; t < NT; ++t)
          isum[t] = kDot == Dot32::Signed ? dot_s8_s8(isum[t], activation(t, g), w) : dot_u8_s8(isum[t], activation(t, g), w);
      }
    } else {
      for (int g0 = 0; g0 < kQK / 4; g0 += kPerWidening) {
        __m256i pairs[NT];
        for (auto& v : pairs) v = _mm256_setzero_si256();
        for (int g = g0; g < g0 + kPerWidening; ++g) {
          const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(p.levels[g]));
          const __m256i magnitude = kDot == Dot32::Signed ? _mm256_abs_epi8(w) : w;
          for (int t = 0; t < NT; ++t) {
            const __m256i at = activation(t, g);
            pairs[t] = kDot == Dot32::Signed ? add_pair_products(pairs[t], magnitude, _mm256_sign_epi8(at, w))
                                             : add_pair_products(pairs[t], at, w);
          }
        }
        for (int t = 0; t < NT; ++t) isum[t] = _mm256_add_epi32(isum[t], widen_sum(pairs[t]));
      }
    }
    const __m256 scale = _mm256_load_ps(p.scale);
    for (int t = 0; t < NT; ++t) {
      const __m256 both = _mm256_mul_ps(scale, _mm256_set1_ps(fp16_to_float(a[t]->d)));
      total[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), both, total[t]);
      if constexpr (kDot == Dot32::FlippedOffset)
        total[t] = _mm256_fmadd_ps(_mm256_load_ps(p.offset), _mm256_set1_ps(fp16_to_float(a[t]->s)), total[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_first_lanes(out + t * out_stride, total[t], n_rows);
}

// Tokens per pass: two accumulators per token (16 of the 32 registers; 12 of the 16 on AVX2,
// where 6 measured best: one core, LP_KERNELS=avx2 lp_kernel_benchmarks prefill_panel/Q4_0/64
// 106, 127 and 116 GFLOP/s for 4, 6 and 8 tokens).
#if defined(__AVX512F__)
constexpr int kPanelTokens32 = 8;
#else
constexpr int kPanelTokens32 = 6;
#endif

// The quantizer of a 32-value panel's activations: the plain rows with every value made
// unsigned (a ^ 0x80 = a + 128) where the panel takes them so, once per call; a copy per panel
// and pass of tokens took a third of a Q8_0 prefill with VNNI (bench/RESULTS.md). The blocks'
// d (and s) stay as they are. nullptr (the plain quantizer) for Dot32::Signed.
template <class ActBlock, QuantizeActivationsFn quantize>
void quantize_flipped(const float* src, uint8_t* dst, int64_t n) {
  quantize(src, dst, n);
  auto* blocks = reinterpret_cast<ActBlock*>(dst);
  const __m256i top = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < n / kQK; ++b) store256(blocks[b].qs, _mm256_xor_si256(load256(blocks[b].qs), top));
}

template <Dot32 kDot>
constexpr QuantizeActivationsFn panel_32_quantizer() {
  constexpr QuantizeActivationsFn plain =
      kDot == Dot32::FlippedOffset ? quantize_activations_q8_1_x86 : quantize_activations_q8_0_x86;
  if constexpr (kDot == Dot32::Signed) return nullptr;
  else return quantize_flipped<PanelActivation<kDot>, plain>;
}

template <int NT, Panel32 kShape>
void panel_32_remainder(const PanelBlock32* panel, int64_t blocks, const uint8_t* act, uint64_t stride, int n_tokens,
                        float* out, int64_t out_stride, int n_rows) {
  if constexpr (NT > 0) {
    if (n_tokens == NT) panel_32_tokens<NT, kShape>(panel, blocks, act, stride, out, out_stride, n_rows);
    else panel_32_remainder<NT - 1, kShape>(panel, blocks, act, stride, n_tokens, out, out_stride, n_rows);
  }
}

// This thread's panel of `blocks` blocks (grown as needed, never shrunk).
inline PanelBlock32* panel_32_scratch(int64_t blocks) {
  thread_local std::vector<PanelBlock32> scratch;
  if (scratch.size() < static_cast<size_t>(blocks)) scratch.resize(static_cast<size_t>(blocks));
  return scratch.data();
}

// Every token of the batch (rows as panel_32_quantizer<kShape.dot> writes them) against a
// filled panel, kPanelTokens32 at a time.
template <Panel32 kShape>
void panel_32_times_all_tokens(const PanelBlock32* panel, int64_t blocks, const uint8_t* act, uint64_t stride,
                               int64_t n_tokens, float* out, int64_t out_stride, int n_rows) {
  for (int64_t t = 0; t < n_tokens; t += kPanelTokens32) {
    const int tokens = static_cast<int>(std::min<int64_t>(kPanelTokens32, n_tokens - t));
    const uint8_t* rows = act + static_cast<uint64_t>(t) * stride;
    if (tokens == kPanelTokens32)
      panel_32_tokens<kPanelTokens32, kShape>(panel, blocks, rows, stride, out + t * out_stride, out_stride, n_rows);
    else
      panel_32_remainder<kPanelTokens32 - 1, kShape>(panel, blocks, rows, stride, tokens, out + t * out_stride, out_stride,
                                                    n_rows);
  }
}

template <class Block, __m256i (*unpack)(const Block&), Panel32 kShape>
void panel_32(int64_t n, const uint8_t* weights, uint64_t row_bytes, int n_rows, const uint8_t* act, uint64_t stride,
              int64_t n_tokens, float* out, int64_t out_stride) {
  const int64_t blocks = n / kQK;
  PanelBlock32* panel = panel_32_scratch(blocks);
  fill_panel_32<Block, unpack, kShape.dot>(weights, row_bytes, n_rows, blocks, panel);
  panel_32_times_all_tokens<kShape>(panel, blocks, act, stride, n_tokens, out, out_stride, n_rows);
}

// 512-bit registers only: the same tile for AVX2 (8 lanes, 16 registers) was no faster than
// the AVX2 tile kernels (bench/RESULTS.md), so AVX2 machines keep the tiles for F16.
#if defined(__AVX512F__)
// ---- F16 against float32 ----
// Register tiles of kF16TileRows rows by up to kF16TileTokens tokens with the column index in
// the vector lanes: each step converts 16 halves of every row to floats in a register (the
// weights are read in place, no converted copy) and loads 16 floats of every token, then one
// multiply-add per (row, token) pair. 4 x 6 accumulators + 4 weight vectors + 1 token vector
// fit the 32 registers, and ten loads feed 24 multiply-adds. The design it replaced (one column
// of eight rows against broadcast token values) transposed every panel on every call and
// loaded once per multiply-add: 73 against 100 GFLOP/s on one core (bench/RESULTS.md).
constexpr int kF16TileRows = 4;
constexpr int kF16TileTokens = 6;

// Columns [i, i + 16) of the tile's rows and tokens into the accumulators; kTail masks the
// columns past n (masked lanes load as zero, so they add nothing).
template <int NT, bool kTail>
inline void f16_tile_step(const uint16_t* const (&w)[kF16TileRows], const float* const (&x)[NT], int64_t i, __mmask16 columns,
                          __m512 (&acc)[kF16TileRows][NT]) {
  __m512 wv[kF16TileRows];
#pragma GCC unroll 4
  for (int r = 0; r < kF16TileRows; ++r)
    // The zero-masked conversion: g++ 12's plain _mm512_cvtph_ps passes an "undefined" vector
    // that its own -Wmaybe-uninitialized then reports.
    wv[r] = _mm512_maskz_cvtph_ps(0xFFFF, kTail ? _mm256_maskz_loadu_epi16(columns, w[r] + i)
                                                : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r] + i)));
#pragma GCC unroll 8
  for (int t = 0; t < NT; ++t) {
    __m512 xv = kTail ? _mm512_maskz_loadu_ps(columns, x[t] + i) : _mm512_loadu_ps(x[t] + i);
    // Keep the token's vector in a register: left alone, the compiler folds the load into
    // every multiply-add as a memory operand, 24 loads per step instead of 6, and the loads
    // (not the multiply-adds) become the limit (53 against 100 GFLOP/s).
    __asm__("" : "+v"(xv));
#pragma GCC unroll 4
    for (int r = 0; r < kF16TileRows; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
  }
}

// out[t * out_stride + r] for the tile's first n_rows rows (w[r] for r >= n_rows repeat a
// valid row and are computed, not stored) and NT tokens.
template <int NT>
void f16_tile(int64_t n, const uint16_t* const (&w)[kF16TileRows], const uint8_t* act, uint64_t stride, int n_rows,
              float* out, int64_t out_stride) {
  const float* x[NT];
  for (int t = 0; t < NT; ++t) x[t] = reinterpret_cast<const float*>(act + static_cast<uint64_t>(t) * stride);
  __m512 acc[kF16TileRows][NT];
  for (auto& row : acc)
    for (auto& a : row) a = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) f16_tile_step<NT, false>(w, x, i, 0xFFFF, acc);
  if (i < n) f16_tile_step<NT, true>(w, x, i, static_cast<__mmask16>((1u << (n - i)) - 1), acc);
  for (int t = 0; t < NT; ++t)
    for (int r = 0; r < n_rows; ++r) {
      const __m512 a = acc[r][t];  // halves by zero-masked extracts, for the same reason
      out[t * out_stride + r] =
          horizontal_sum(_mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, a, 0), _mm512_maskz_extractf32x8_ps(0xFF, a, 1)));
    }
}

template <int NT>
void f16_tile_remainder(int n_tokens, int64_t n, const uint16_t* const (&w)[kF16TileRows], const uint8_t* act,
                        uint64_t stride, int n_rows, float* out, int64_t out_stride) {
  if constexpr (NT > 0) {
    if (n_tokens == NT) f16_tile<NT>(n, w, act, stride, n_rows, out, out_stride);
    else f16_tile_remainder<NT - 1>(n_tokens, n, w, act, stride, n_rows, out, out_stride);
  }
}

void panel_f16(int64_t n, const uint8_t* weights, uint64_t row_bytes, int n_rows, const uint8_t* act, uint64_t stride,
               int64_t n_tokens, float* out, int64_t out_stride) {
  // Token tiles outside, row tiles inside: a token tile's activations are read again by the
  // panel's second row tile while still in cache.
  for (int64_t t = 0; t < n_tokens; t += kF16TileTokens) {
    const int tokens = static_cast<int>(std::min<int64_t>(kF16TileTokens, n_tokens - t));
    const uint8_t* act_tile = act + static_cast<uint64_t>(t) * stride;
    for (int r0 = 0; r0 < n_rows; r0 += kF16TileRows) {
      const int rows = std::min(kF16TileRows, n_rows - r0);
      const uint16_t* w[kF16TileRows];
      for (int r = 0; r < kF16TileRows; ++r)
        w[r] = reinterpret_cast<const uint16_t*>(weights + static_cast<uint64_t>(r0 + std::min(r, rows - 1)) * row_bytes);
      float* out_tile = out + t * out_stride + r0;
      if (tokens == kF16TileTokens) f16_tile<kF16TileTokens>(n, w, act_tile, stride, rows, out_tile, out_stride);
      else f16_tile_remainder<kF16TileTokens - 1>(tokens, n, w, act_tile, stride, rows, out_tile, out_stride);
    }
  }
}
#endif  // __AVX512F__

constexpr SimdPanel kX86Panels[] = {
    {GgmlType::Q2_K, panel_kquant<BlockQ2_K, kQ2KPanel>},
    {GgmlType::Q3_K, panel_kquant<BlockQ3_K, kQ3KPanel>},
    {GgmlType::Q4_K, panel_kquant<BlockQ4_K, kQ4KPanel>},
    {GgmlType::Q5_K, panel_kquant<BlockQ5_K, kQ5KPanel>},
    {GgmlType::Q6_K, panel_kquant<BlockQ6_K, kQ6KPanel>},
    {GgmlType::Q8_0, panel_32<BlockQ8_0, unpack_q8_0, kQ8_0Panel>, panel_32_quantizer<kQ8_0Panel.dot>()},
    {GgmlType::Q4_0, panel_32<BlockQ4_0, unpack_q4_0, kQ4_0Panel>, panel_32_quantizer<kQ4_0Panel.dot>()},
    {GgmlType::Q5_0, panel_32<BlockQ5_0, unpack_q5_0, kQ5_0Panel>, panel_32_quantizer<kQ5_0Panel.dot>()},
    {GgmlType::Q4_1, panel_32<BlockQ4_1, unpack_q4_1, kQ4_1Panel>, panel_32_quantizer<kQ4_1Panel.dot>()},
    {GgmlType::Q5_1, panel_32<BlockQ5_1, unpack_q5_1, kQ5_1Panel>, panel_32_quantizer<kQ5_1Panel.dot>()},
#if defined(__AVX512F__)
    {GgmlType::F16, panel_f16},
#endif
};

}  // namespace
}  // namespace lp
