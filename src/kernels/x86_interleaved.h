#pragma once
// Products with row-interleaved K-quants, Q4_0 and Q8_0 (layouts in interleaved_q2_q3_k.h,
// interleaved_q4_q5_k.h, interleaved_q6_k.h, interleaved_q4_0_q8_0.h), after x86_panels.h,
// whose panel kernels take batches. Compiled once per x86 unit, AVX-512 VNNI and AVX2: the
// few instructions AVX2 lacks go through x86_simd_helpers.h (accumulate_products and
// dot_u8_s8 for vpdpbusd, whose int16 pairs every level here fits: at most 63 against
// |a| <= 127; select_bits for vpternlogd), the rest is 256-bit already.
//
// One token (decode): per super-block and 32-byte piece, the levels of eight rows meet the
// token's four activation bytes (broadcast) in one vpdpbusd; each sub-block has its own
// accumulator (independent chains). A sub-block's integer sums then meet the eight rows'
// scales in one vpmulld, offsets (the K-quants' mins or level biases) come from the
// activation's bsums through vpmaddwd, and the rows' d are one vector. Without VNNI the
// sub-block sums are int16 (vpmaddubsw, vpaddw) and meet the scales in a vpmaddwd, once per
// sub-block or, for the wider levels, per part of one (accumulate_products, fold_scaled).
// Integer sums per super-block are exact, as in the scalar reference; only the float
// additions' order differs.
#include <type_traits>

#include "kernels/interleaved_q2_q3_k.h"
#include "kernels/interleaved_q4_0_q8_0.h"
#include "kernels/interleaved_q4_q5_k.h"
#include "kernels/interleaved_q6_k.h"
#include "kernels/x86_panels.h"

namespace lp {
namespace {

// The eight rows' scales and mins of one super-block, unpacked to [sub-block][row] bytes:
// the word formulas of unpack_scales_mins_k4_words applied to packed byte k of all eight
// rows at once (16-bit shifts: the bits a shift brings in from the next byte are masked off).
struct RowScalesMins {
  alignas(32) uint8_t scales[8][kInterleavedRows];
  alignas(32) uint8_t mins[8][kInterleavedRows];
};

inline void unpack_row_scales(const uint8_t (&packed)[12][kInterleavedRows], RowScalesMins& out) {
  const __m256i bytes0 = load256(packed[0]), bytes4 = load256(packed[4]), bytes8 = load256(packed[8]);
  const __m256i six_bits = _mm256_set1_epi8(0x3F), low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
  store256(out.scales[0], _mm256_and_si256(bytes0, six_bits));
  store256(out.scales[4], _mm256_or_si256(_mm256_and_si256(bytes8, low4),
                                          _mm256_and_si256(_mm256_srli_epi16(bytes0, 2), bits45)));
  store256(out.mins[0], _mm256_and_si256(bytes4, six_bits));
  store256(out.mins[4], _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes8, 4), low4),
                                        _mm256_and_si256(_mm256_srli_epi16(bytes4, 2), bits45)));
}

inline __m128i load64(const void* p) { return _mm_loadl_epi64(static_cast<const __m128i*>(p)); }

inline __m256i scales_of_rows(const uint8_t (&scales)[kInterleavedRows]) { return _mm256_cvtepu8_epi32(load64(scales)); }

// Int32 lane p of `pairs` in every lane: a pair of int16 activation sums, the operand a
// vpmaddwd against the rows' pairs of coefficients takes (one shuffle of the sums, loaded once
// per super-block, instead of two scalars joined and broadcast: measured no faster, the
// decode kernels' time being the products and the unpacking of levels).
inline __m256i pair_in_every_lane(__m256i pairs, int p) { return _mm256_permutevar8x32_epi32(pairs, _mm256_set1_epi32(p)); }

// Bit `bit` of every byte moved to bit 4 (16-bit shifts of at most 4 bring bit 4 of a byte
// from the same byte); the other bits are not cleared.
inline __m256i bit_at_4(__m256i v, int bit) {
  if (bit < 4) return _mm256_slli_epi16(v, 4 - bit);
  return bit == 4 ? v : _mm256_srli_epi16(v, bit - 4);
}

// Run c's levels of piece k for eight rows: low nibbles (sub-block 2c) and high nibbles
// (2c + 1), with Q5_K's fifth bits (bits 2c and 2c + 1 of qh) as bit 4.
template <class Grouped>
inline void kx8_levels(const Grouped& x, int c, int k, __m256i& low, __m256i& high) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i q = load256(x.pieces[k].qs[c]);
  if constexpr (std::is_same_v<Grouped, BlockQ5_Kx8>) {
    const __m256i bits = load256(x.pieces[k].qh), five_bits = _mm256_set1_epi8(0x1F);
    // The nibble from q, bits 4-7 from the shifted qh.
    low = _mm256_and_si256(select_bits(q, bit_at_4(bits, 2 * c), nibble), five_bits);
    high = _mm256_and_si256(select_bits(_mm256_srli_epi16(q, 4), bit_at_4(bits, 2 * c + 1), nibble), five_bits);
  } else {
    low = _mm256_and_si256(q, nibble);
    high = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
  }
}

template <class Grouped>
void matvec_q4_q5_kx8(int64_t n, const Grouped* x, const BlockQ8_K* a, float* out) {
  constexpr int kPerFold = pieces_per_fold(std::is_same_v<Grouped, BlockQ5_Kx8> ? 31 : 15, 8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    RowScalesMins u;
    unpack_row_scales(x[b].scales, u);
    __m256i scaled = _mm256_setzero_si256();
    for (int k0 = 0; k0 < 8; k0 += kPerFold) {
      __m256i low[4], high[4];
      for (int c = 0; c < 4; ++c) low[c] = high[c] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = k0; k < k0 + kPerFold; ++k) {
        for (int c = 0; c < 4; ++c) {
          __m256i low_levels, high_levels;
          kx8_levels(x[b], c, k, low_levels, high_levels);
          low[c] = accumulate_products(low[c], low_levels, _mm256_set1_epi32(load_i32(a[b].qs + 64 * c + 4 * k)));
          high[c] = accumulate_products(high[c], high_levels, _mm256_set1_epi32(load_i32(a[b].qs + 64 * c + 32 + 4 * k)));
        }
      }
      for (int c = 0; c < 4; ++c) {
        scaled = fold_scaled(scaled, low[c], scales_of_rows(u.scales[2 * c]));
        scaled = fold_scaled(scaled, high[c], scales_of_rows(u.scales[2 * c + 1]));
      }
    }
    // Sub-blocks 2p and 2p + 1 per vpmaddwd: each row's two mins against the activation's
    // sums over those sub-blocks (two bsums each, at most 2 * 16 * 127 in magnitude: int16).
    // Adjacent bsums added: lane 0 holds the sums of sub-blocks 0-3 (pairs in int32 lanes 0,
    // 1), lane 1 those of 4-7 (int32 lanes 4, 5).
    const __m256i bsums = load256(a[b].bsums), sub_block_sums = _mm256_hadd_epi16(bsums, bsums);
    __m256i mins = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      const __m256i row_mins = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(load64(u.mins[2 * p]), load64(u.mins[2 * p + 1])));
      mins = _mm256_add_epi32(mins, _mm256_madd_epi16(row_mins, pair_in_every_lane(sub_block_sums, p < 2 ? p : p + 2)));
    }
    const __m256 ad = _mm256_set1_ps(a[b].d);
    acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), ad), _mm256_cvtepi32_ps(scaled), acc);
    acc = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].dmin)), ad), _mm256_cvtepi32_ps(mins), acc);
  }
  _mm256_storeu_ps(out, acc);
}

// A batch: the eight rows go into the prefill panel's layout (already lanes = rows, so a
// copy with the levels unpacked) and the panel kernel takes the tokens.
template <class Grouped>
void fill_panel_q4_q5_kx8(const Grouped* x, int64_t blocks, PanelSuperBlock* panel) {
  for (int64_t b = 0; b < blocks; ++b) {
    PanelSuperBlock& p = panel[b];
    for (int k = 0; k < 8; ++k)
      for (int c = 0; c < 4; ++c) {
        __m256i low, high;
        kx8_levels(x[b], c, k, low, high);
        store256(p.levels[16 * c + k], low);
        store256(p.levels[16 * c + 8 + k], high);
      }
    RowScalesMins u;
    unpack_row_scales(x[b].scales, u);
    const __m256 d = _mm256_cvtph_ps(load128(x[b].d));
    _mm256_store_ps(p.d, d);
    for (int j = 0; j < 8; ++j) set_sub_block_scales(p, j, scales_of_rows(u.scales[j]), d);
    for (int j = 0; j < 8; ++j)
      for (int r = 0; r < kInterleavedRows; ++r) p.offset_coef[j][r][0] = p.offset_coef[j][r][1] = u.mins[j][r];
    _mm256_store_ps(p.offset_scale, _mm256_sub_ps(_mm256_setzero_ps(), _mm256_cvtph_ps(load128(x[b].dmin))));
  }
}

// Q6_K: the four runs of a half take their low four bits from ql's nibbles and bits 4-5
// from qh's bit pairs, one select per run: (A & C) | (B & ~C) with C the low-nibble mask,
// B shifted so the run's pair sits at bits 4-5 (16-bit shifts: what they bring in from the
// next byte lands in bits 0-3, taken from A, or 6-7, masked off).
struct Q6KLevels {
  __m256i run[4];
};

inline Q6KLevels q6_kx8_levels(const BlockQ6_Kx8& x, int h, int k) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), six_bits = _mm256_set1_epi8(0x3F);
  const BlockQ6_Kx8::Piece& piece = x.pieces[h][k];
  const __m256i first = load256(piece.ql[0]), second = load256(piece.ql[1]), high = load256(piece.qh);
  const auto join = [&](__m256i nibbles, __m256i pair_at_4) {
    return _mm256_and_si256(select_bits(nibbles, pair_at_4, low4), six_bits);
  };
  return {{join(first, _mm256_slli_epi16(high, 4)), join(second, _mm256_slli_epi16(high, 2)),
           join(_mm256_srli_epi16(first, 4), high), join(_mm256_srli_epi16(second, 4), _mm256_srli_epi16(high, 2))}};
}

// Sixteen int8 values of two [sub-block][row] rows as [row][pair] int16, for vpmaddwd.
inline __m256i scale_pairs_of_rows(const int8_t (&first)[kInterleavedRows], const int8_t (&second)[kInterleavedRows]) {
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(load64(first), load64(second)));
}

void matvec_q6_kx8(int64_t n, const BlockQ6_Kx8* x, const BlockQ8_K* a, float* out) {
  constexpr int kPerFold = pieces_per_fold(63, 4);  // pieces 0-3 and 4-7 are a run's two sub-blocks of 16
  // Parts whose sums are live at once before their folds: with VNNI both sub-blocks' (eight
  // accumulators of the 32 registers; folding each sub-block as it ended measured 8% slower),
  // without it one part at a time (16 registers).
  constexpr int kLive = kHasVnni ? 8 / kPerFold : 1;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    __m256i total = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      for (int k0 = 0; k0 < 8; k0 += kPerFold * kLive) {
        __m256i sums[kLive][4];  // [part][run]
        for (auto& part : sums)
          for (auto& s : part) s = _mm256_setzero_si256();
        // Unrolled so the accumulators stay in registers (indexed by k otherwise).
#pragma GCC unroll 8
        for (int k = k0; k < k0 + kPerFold * kLive; ++k) {
          const Q6KLevels levels = q6_kx8_levels(x[b], h, k);
          for (int run = 0; run < 4; ++run)
            sums[(k - k0) / kPerFold][run] = accumulate_products(
                sums[(k - k0) / kPerFold][run], levels.run[run], _mm256_set1_epi32(load_i32(a[b].qs + 128 * h + 32 * run + 4 * k)));
        }
        for (int part = 0; part < kLive; ++part)
          for (int run = 0; run < 4; ++run) {
            const int sub_block = 8 * h + 2 * run + (k0 + part * kPerFold) / 4;
            total = fold_scaled(total, sums[part][run], _mm256_cvtepi8_epi32(load64(x[b].scales[sub_block])));
          }
      }
    }
    // Levels are stored + 32: take 32 * sum over sub-blocks of scale * (activation sum).
    const __m256i bsums = load256(a[b].bsums);  // int32 lane p: the sums of sub-blocks 2p, 2p + 1
    __m256i bias = _mm256_setzero_si256();
    for (int p = 0; p < 8; ++p)
      bias = _mm256_add_epi32(bias, _mm256_madd_epi16(scale_pairs_of_rows(x[b].scales[2 * p], x[b].scales[2 * p + 1]),
                                                      pair_in_every_lane(bsums, p)));
    total = _mm256_sub_epi32(total, _mm256_slli_epi32(bias, 5));
    acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), _mm256_set1_ps(a[b].d)), _mm256_cvtepi32_ps(total), acc);
  }
  _mm256_storeu_ps(out, acc);
}

void fill_panel_q6_kx8(const BlockQ6_Kx8* x, int64_t blocks, PanelSuperBlock* panel) {
  for (int64_t b = 0; b < blocks; ++b) {
    PanelSuperBlock& p = panel[b];
    for (int h = 0; h < 2; ++h)
      for (int k = 0; k < 8; ++k) {
        const Q6KLevels levels = q6_kx8_levels(x[b], h, k);
        for (int run = 0; run < 4; ++run) store256(p.levels[32 * h + 8 * run + k], levels.run[run]);
      }
    const __m256 d = _mm256_cvtph_ps(load128(x[b].d));
    _mm256_store_ps(p.d, d);
    for (int s = 0; s < 16; ++s) set_sub_block_scales(p, s, _mm256_cvtepi8_epi32(load64(x[b].scales[s])), d);
    for (int pair = 0; pair < 8; ++pair)
      store256(p.offset_coef[pair], scale_pairs_of_rows(x[b].scales[2 * pair], x[b].scales[2 * pair + 1]));
    _mm256_store_ps(p.offset_scale, _mm256_mul_ps(_mm256_set1_ps(-32.0f), d));
  }
}

// Q2_K and Q3_K: plane p of a half is bit pair p of qs; Q3_K's third bit (bit 4h + p of
// hmask) joins as bit 2 by one select: (A & C) | (B & ~C), C the two-bit mask.
inline __m256i bit_at_2(__m256i v, int bit) {
  if (bit < 2) return _mm256_slli_epi16(v, 2 - bit);
  return bit == 2 ? v : _mm256_srli_epi16(v, bit - 2);
}

template <class Grouped>
inline void q2_q3_kx8_levels(const Grouped& x, int h, int k, __m256i (&levels)[4]) {
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i q = load256(x.pieces[k].qs[h]);
  for (int plane = 0; plane < 4; ++plane) {
    const __m256i pair = plane == 0 ? q : _mm256_srli_epi16(q, 2 * plane);
    if constexpr (std::is_same_v<Grouped, BlockQ3_Kx8>) {
      const __m256i third = bit_at_2(load256(x.pieces[k].hmask), 4 * h + plane);
      levels[plane] = _mm256_and_si256(select_bits(pair, third, two_bits), _mm256_set1_epi8(7));
    } else {
      levels[plane] = _mm256_and_si256(pair, two_bits);
    }
  }
}

// Q3_K's sixteen 6-bit scales of eight rows, [scale][row] int8 (-32..31): the word formulas
// of unpack_scales_q3_k_words on packed byte k of all rows at once.
struct Q3KRowScales {
  alignas(32) int8_t scales[16][kInterleavedRows];
};

inline void unpack_q3_k_row_scales(const uint8_t (&packed)[12][kInterleavedRows], Q3KRowScales& out) {
  const __m256i bytes0 = load256(packed[0]), bytes4 = load256(packed[4]), bytes8 = load256(packed[8]);
  const __m256i low4 = _mm256_set1_epi8(0x0F), two_bits = _mm256_set1_epi8(3), bias = _mm256_set1_epi8(32);
  const auto join = [&](__m256i low, int high_shift) {
    const __m256i high = _mm256_and_si256(high_shift == 0 ? bytes8 : _mm256_srli_epi16(bytes8, high_shift), two_bits);
    return _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(high, 4)), bias);
  };
  store256(out.scales[0], join(_mm256_and_si256(bytes0, low4), 0));
  store256(out.scales[4], join(_mm256_and_si256(bytes4, low4), 2));
  store256(out.scales[8], join(_mm256_and_si256(_mm256_srli_epi16(bytes0, 4), low4), 4));
  store256(out.scales[12], join(_mm256_and_si256(_mm256_srli_epi16(bytes4, 4), low4), 6));
}

// Sixteen bytes of two [sub-block][row] rows as [row][pair], for vpmaddwd after widening.
inline __m128i byte_pairs_of_rows(const void* first, const void* second) {
  return _mm_unpacklo_epi8(load64(first), load64(second));
}

template <class Grouped>
void matvec_q2_q3_kx8(int64_t n, const Grouped* x, const BlockQ8_K* a, float* out) {
  constexpr bool kQ3 = std::is_same_v<Grouped, BlockQ3_Kx8>;
  const __m128i low4 = _mm_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    [[maybe_unused]] Q3KRowScales q3;
    if constexpr (kQ3) unpack_q3_k_row_scales(x[b].scales, q3);
    const auto scales_of = [&](int s) {
      if constexpr (kQ3) return _mm256_cvtepi8_epi32(load64(q3.scales[s]));
      else return _mm256_cvtepu8_epi32(_mm_and_si128(load64(x[b].scales[s]), low4));
    };
    __m256i total = _mm256_setzero_si256();
    // Pieces in memory order; pieces 0-3 and 4-7 of a plane are its two sub-blocks of 16.
    for (int part = 0; part < 2; ++part) {
      __m256i sums[2][4];  // [half][plane]
      for (auto& half : sums)
        for (auto& s : half) s = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int k = 4 * part; k < 4 * part + 4; ++k)
        for (int h = 0; h < 2; ++h) {
          __m256i levels[4];
          q2_q3_kx8_levels(x[b], h, k, levels);
          for (int plane = 0; plane < 4; ++plane)
            sums[h][plane] = accumulate_products(sums[h][plane], levels[plane],
                                                 _mm256_set1_epi32(load_i32(a[b].qs + 128 * h + 32 * plane + 4 * k)));
        }
      static_assert(pieces_per_fold(7, 4) == 4, "a sub-block's sums fit int16 without a fold");
      for (int h = 0; h < 2; ++h)
        for (int plane = 0; plane < 4; ++plane) total = fold_scaled(total, sums[h][plane], scales_of(8 * h + 2 * plane + part));
    }
    // Offsets per pair of 16-value sub-blocks: Q2_K's mins (the high nibbles), Q3_K's 4 * scale.
    const __m256i bsums = load256(a[b].bsums);  // int32 lane p: the sums of sub-blocks 2p, 2p + 1
    __m256i offset = _mm256_setzero_si256();
    for (int p = 0; p < 8; ++p) {
      const __m256i sums_pair = pair_in_every_lane(bsums, p);
      __m256i coef;
      if constexpr (kQ3) coef = _mm256_cvtepi8_epi16(byte_pairs_of_rows(q3.scales[2 * p], q3.scales[2 * p + 1]));
      else coef = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(byte_pairs_of_rows(x[b].scales[2 * p], x[b].scales[2 * p + 1]), 4), low4));
      offset = _mm256_add_epi32(offset, _mm256_madd_epi16(coef, sums_pair));
    }
    const __m256 ad = _mm256_set1_ps(a[b].d);
    if constexpr (kQ3) {
      total = _mm256_sub_epi32(total, _mm256_slli_epi32(offset, 2));
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), ad), _mm256_cvtepi32_ps(total), acc);
    } else {
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), ad), _mm256_cvtepi32_ps(total), acc);
      acc = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].dmin)), ad), _mm256_cvtepi32_ps(offset), acc);
    }
  }
  _mm256_storeu_ps(out, acc);
}

template <class Grouped>
void fill_panel_q2_q3_kx8(const Grouped* x, int64_t blocks, PanelSuperBlock* panel) {
  constexpr bool kQ3 = std::is_same_v<Grouped, BlockQ3_Kx8>;
  const __m128i low4 = _mm_set1_epi8(0x0F);
  for (int64_t b = 0; b < blocks; ++b) {
    PanelSuperBlock& p = panel[b];
    for (int k = 0; k < 8; ++k)
      for (int h = 0; h < 2; ++h) {
        __m256i levels[4];
        q2_q3_kx8_levels(x[b], h, k, levels);
        for (int plane = 0; plane < 4; ++plane) store256(p.levels[32 * h + 8 * plane + k], levels[plane]);
      }
    const __m256 d = _mm256_cvtph_ps(load128(x[b].d));
    _mm256_store_ps(p.d, d);
    if constexpr (kQ3) {
      Q3KRowScales q3;
      unpack_q3_k_row_scales(x[b].scales, q3);
      for (int s = 0; s < 16; ++s) set_sub_block_scales(p, s, _mm256_cvtepi8_epi32(load64(q3.scales[s])), d);
      for (int pair = 0; pair < 8; ++pair)
        store256(p.offset_coef[pair], _mm256_cvtepi8_epi16(byte_pairs_of_rows(q3.scales[2 * pair], q3.scales[2 * pair + 1])));
      _mm256_store_ps(p.offset_scale, _mm256_mul_ps(_mm256_set1_ps(-4.0f), d));
    } else {
      for (int s = 0; s < 16; ++s)
        set_sub_block_scales(p, s, _mm256_cvtepu8_epi32(_mm_and_si128(load64(x[b].scales[s]), low4)), d);
      for (int pair = 0; pair < 8; ++pair)
        store256(p.offset_coef[pair], _mm256_cvtepu8_epi16(_mm_and_si128(
                                          _mm_srli_epi16(byte_pairs_of_rows(x[b].scales[2 * pair], x[b].scales[2 * pair + 1]), 4), low4)));
      _mm256_store_ps(p.offset_scale, _mm256_sub_ps(_mm256_setzero_ps(), _mm256_cvtph_ps(load128(x[b].dmin))));
    }
  }
}

// Q8_0: signed weights against signed activations as |w| against a with w's sign, so the
// unsigned-by-signed vpdpbusd applies (as the tile kernel does).
void matvec_q8_0x8(int64_t n, const BlockQ8_0x8* x, const BlockQ8_0* a, float* out) {
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};  // even and odd blocks: two chains
  for (int64_t b = 0; b < n / kQK; ++b) {
    __m256i sums[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int k = 0; k < 8; ++k) {
      const __m256i w = load256(x[b].qs[k]);
      const __m256i activation = _mm256_set1_epi32(load_i32(a[b].qs + 4 * k));
      sums[k % 2] = dot_s8_s8(sums[k % 2], activation, w);
    }
    const __m256 scales = _mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), _mm256_set1_ps(fp16_to_float(a[b].d)));
    acc[b % 2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(sums[0], sums[1])), scales, acc[b % 2]);
  }
  _mm256_storeu_ps(out, _mm256_add_ps(acc[0], acc[1]));
}

// A batch: the panel's levels are the stored values; each row's bias is -128 times its
// block sum where the panel takes the activations as a + 128 (kQ8_0Dot), none where it takes
// them signed.
void fill_panel_q8_0x8(const BlockQ8_0x8* x, int64_t blocks, PanelBlock32* panel) {
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < blocks; ++b) {
    PanelBlock32& p = panel[b];
    __m256i sum = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      const __m256i w = load256(x[b].qs[k]);
      store256(p.levels[k], w);
      sum = dot_u8_s8(sum, ones, w);
    }
    store256(p.bias, kQ8_0Dot == Dot32::Signed ? _mm256_setzero_si256() : _mm256_mullo_epi32(sum, _mm256_set1_epi32(-128)));
    _mm256_store_ps(p.scale, _mm256_cvtph_ps(load128(x[b].d)));
  }
}

// Q4_0: levels 0..15 (stored + 8) against the activations, minus 8 times the block's sum of
// activations (the same for every row: one vpdpbusd with ones and a horizontal sum).
void matvec_q4_0x8(int64_t n, const BlockQ4_0x8* x, const BlockQ8_0* a, float* out) {
  const __m256i nibble = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi8(1);
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};  // even and odd blocks: two chains
  for (int64_t b = 0; b < n / kQK; ++b) {
    __m256i sums[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    static_assert(pieces_per_fold(15, 4) == 4, "four pieces of nibbles fit an int16 sum");
    for (int k = 0; k < 4; ++k) {
      const __m256i q = load256(x[b].qs[k]);
      sums[0] = accumulate_products(sums[0], _mm256_and_si256(q, nibble), _mm256_set1_epi32(load_i32(a[b].qs + 4 * k)));
      sums[1] = accumulate_products(sums[1], _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble),
                                    _mm256_set1_epi32(load_i32(a[b].qs + 16 + 4 * k)));
    }
    for (auto& s : sums) s = widen_sum(s);
    __m256i activation_sum = dot_u8_s8(_mm256_setzero_si256(), ones, load256(a[b].qs));
    activation_sum = _mm256_add_epi32(activation_sum, _mm256_permute2x128_si256(activation_sum, activation_sum, 1));
    activation_sum = _mm256_add_epi32(activation_sum, _mm256_shuffle_epi32(activation_sum, 0x4E));
    activation_sum = _mm256_add_epi32(activation_sum, _mm256_shuffle_epi32(activation_sum, 0xB1));
    const __m256i total = _mm256_sub_epi32(_mm256_add_epi32(sums[0], sums[1]), _mm256_slli_epi32(activation_sum, 3));
    const __m256 scales = _mm256_mul_ps(_mm256_cvtph_ps(load128(x[b].d)), _mm256_set1_ps(fp16_to_float(a[b].d)));
    acc[b % 2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), scales, acc[b % 2]);
  }
  _mm256_storeu_ps(out, _mm256_add_ps(acc[0], acc[1]));
}

void fill_panel_q4_0x8(const BlockQ4_0x8* x, int64_t blocks, PanelBlock32* panel) {
  const __m256i nibble = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8), ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < blocks; ++b) {
    PanelBlock32& p = panel[b];
    __m256i sum = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i q = load256(x[b].qs[k]);
      const __m256i low = _mm256_sub_epi8(_mm256_and_si256(q, nibble), eight);
      const __m256i high = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(q, 4), nibble), eight);
      store256(p.levels[k], low);
      store256(p.levels[4 + k], high);
      sum = dot_u8_s8(dot_u8_s8(sum, ones, low), ones, high);
    }
    store256(p.bias, _mm256_mullo_epi32(sum, _mm256_set1_epi32(-128)));
    _mm256_store_ps(p.scale, _mm256_cvtph_ps(load128(x[b].d)));
  }
}

// One group against a batch: decode and small batches one token at a time; batches worth a
// panel through the panel kernels.
template <class Block, class ActBlock, void (*matvec)(int64_t, const Block*, const ActBlock*, float*), class Panel,
          void (*fill)(const Block*, int64_t, Panel*)>
void gemm_interleaved(int64_t n, const uint8_t* group, const uint8_t* act, uint64_t stride, int64_t n_tokens, float* out,
                      int64_t out_stride) {
  const auto* x = reinterpret_cast<const Block*>(group);
  if (n_tokens >= kPanelMinTokens) {
    if constexpr (std::is_same_v<Panel, PanelBlock32>) {
      const int64_t blocks = n / kQK;
      PanelBlock32* panel = panel_32_scratch(blocks);
      fill(x, blocks, panel);
      constexpr Panel32 kShape = std::is_same_v<Block, BlockQ8_0x8> ? kQ8_0Panel : kQ4_0Panel;
      panel_32_times_all_tokens<kShape>(panel, blocks, act, stride, n_tokens, out, out_stride, kInterleavedRows);
    } else {
      constexpr KQuantPanel kShape = std::is_same_v<Block, BlockQ2_Kx8>   ? kQ2KPanel
                                     : std::is_same_v<Block, BlockQ3_Kx8> ? kQ3KPanel
                                     : std::is_same_v<Block, BlockQ4_Kx8> ? kQ4KPanel
                                     : std::is_same_v<Block, BlockQ5_Kx8> ? kQ5KPanel
                                                                          : kQ6KPanel;
      const int64_t blocks = n / kQK_K;
      PanelSuperBlock* panel = panel_scratch(blocks);
      fill(x, blocks, panel);
      panel_times_all_tokens<kShape>(panel, blocks, act, stride, n_tokens, out, out_stride, kInterleavedRows);
    }
    return;
  }
  for (int64_t t = 0; t < n_tokens; ++t)
    matvec(n, x, reinterpret_cast<const ActBlock*>(act + static_cast<uint64_t>(t) * stride), out + t * out_stride);
}

constexpr SimdInterleaved kX86Interleaved[] = {
    {GgmlType::Q2_K, gemm_interleaved<BlockQ2_Kx8, BlockQ8_K, matvec_q2_q3_kx8<BlockQ2_Kx8>, PanelSuperBlock,
                                      fill_panel_q2_q3_kx8<BlockQ2_Kx8>>},
    {GgmlType::Q3_K, gemm_interleaved<BlockQ3_Kx8, BlockQ8_K, matvec_q2_q3_kx8<BlockQ3_Kx8>, PanelSuperBlock,
                                      fill_panel_q2_q3_kx8<BlockQ3_Kx8>>},
    {GgmlType::Q4_K, gemm_interleaved<BlockQ4_Kx8, BlockQ8_K, matvec_q4_q5_kx8<BlockQ4_Kx8>, PanelSuperBlock,
                                      fill_panel_q4_q5_kx8<BlockQ4_Kx8>>},
    {GgmlType::Q5_K, gemm_interleaved<BlockQ5_Kx8, BlockQ8_K, matvec_q4_q5_kx8<BlockQ5_Kx8>, PanelSuperBlock,
                                      fill_panel_q4_q5_kx8<BlockQ5_Kx8>>},
    {GgmlType::Q6_K, gemm_interleaved<BlockQ6_Kx8, BlockQ8_K, matvec_q6_kx8, PanelSuperBlock, fill_panel_q6_kx8>},
    {GgmlType::Q4_0, gemm_interleaved<BlockQ4_0x8, BlockQ8_0, matvec_q4_0x8, PanelBlock32, fill_panel_q4_0x8>,
     panel_32_quantizer<kQ4_0Panel.dot>()},
    {GgmlType::Q8_0, gemm_interleaved<BlockQ8_0x8, BlockQ8_0, matvec_q8_0x8, PanelBlock32, fill_panel_q8_0x8>,
     panel_32_quantizer<kQ8_0Panel.dot>()},
};

}  // namespace
}  // namespace lp
