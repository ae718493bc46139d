#pragma once
// One-token (decode) Q6_K product with 512-bit vectors, for the AVX-512 BW/VNNI unit only
// (included by x86_tiles.h, which uses it as the one-token width of its Q6_K tile).
//
// Why a separate kernel: decode reads every weight once, so the instructions spent per
// weight byte set the pace. Here one 64-byte load of ql gives 128 values' low bits, qh's bit
// pairs join them with one ternary-logic select per 64 values, and one activation load, one
// byte product and one scaled accumulate cover 64 values; each sub-block scale is spread
// over its lanes by one permute. One core, 1536 columns from L2 (Zen 4): 32 GB/s of weights
// against 28 for the 256-bit tile. (The same for Q4_K and Q5_K measured slower than their
// 256-bit tiles: on Zen 4 a 512-bit operation occupies a 256-bit unit twice, so only
// removing work pays; Q4_K's decode gain comes from interleaved rows, x86_interleaved.h.)
// Sums are the same exact integers per super-block as the scalar reference.
#include "kernels/x86_simd_helpers.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }

// The upper 16 words (bytes 32-63) of a 512-bit vector, as a word mask.
constexpr __mmask32 kUpperWords = 0xFFFF0000u;

// Word indices for vpermw: word w of the result takes scale first + w / 8, i.e. Q6_K's four
// 16-value sub-blocks of a 64-value vector (two words per pair of values).
inline __m512i scale_index(int first) {
  alignas(64) int16_t index[32];
  for (int w = 0; w < 32; ++w) index[w] = static_cast<int16_t>(first + w / 8);
  return _mm512_load_si512(index);
}

// acc + scale16 * (pairs of levels * activations), per int32 lane (levels <= 63).
inline __m512i scaled_dot_512(__m512i acc, __m512i levels, const int8_t* act, __m512i scale16) {
  return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(levels, load512(act)), scale16);
}

// Q6_K: per half of 128 values, one 64-byte load of ql gives values 0-63 (low nibbles) and
// 64-127 (high nibbles); qh's 2-bit pairs join them as bits 4-5. Levels l - 32 are taken as
// l with 32 * (scales . bsums) subtracted.
inline void matvec_q6_k(int64_t n, const uint8_t* weights, const uint8_t* act, uint64_t, float* out, int64_t) {
  const auto* w = reinterpret_cast<const BlockQ6_K*>(weights);
  const auto* a = reinterpret_cast<const BlockQ8_K*>(act);
  const __m512i low_nibble = _mm512_set1_epi8(0x0F), six_bits = _mm512_set1_epi8(0x3F);
  // (A & C) | (B & ~C) with C the low-nibble mask: the nibble from A, bits 4-7 from B.
  constexpr int kSelectByC = 0xE4;
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m256i scales16 = _mm256_cvtepi8_epi16(load128(w[b].scales));
    const __m512i scales = _mm512_castsi256_si512(scales16);
    __m512i sums[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    for (int half = 0; half < 2; ++half) {
      const __m512i ql = load512(w[b].ql + 64 * half);
      // Bytes 0-31: qh's bits 0-1 (values 0-31) and 4-5 (values 64-95) in place; bytes 32-63
      // shifted by 2: bits 2-3 (values 32-63) and 6-7 (values 96-127) move to 0-1 and 4-5.
      const __m512i qh = _mm512_broadcast_i64x4(load256(w[b].qh + 32 * half));
      const __m512i high = _mm512_mask_srli_epi16(qh, kUpperWords, qh, 2);
      const __m512i first = _mm512_and_si512(
          _mm512_ternarylogic_epi32(ql, _mm512_slli_epi16(high, 4), low_nibble, kSelectByC), six_bits);
      const __m512i second = _mm512_and_si512(
          _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), high, low_nibble, kSelectByC), six_bits);
      sums[0] = scaled_dot_512(sums[0], first, a[b].qs + 128 * half,
                               _mm512_permutexvar_epi16(scale_index(8 * half), scales));
      sums[1] = scaled_dot_512(sums[1], second, a[b].qs + 128 * half + 64,
                               _mm512_permutexvar_epi16(scale_index(8 * half + 4), scales));
    }
    const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(load256(a[b].bsums), scales16), 5);
    const __m512i total = _mm512_sub_epi32(_mm512_add_epi32(sums[0], sums[1]), _mm512_zextsi256_si512(bias));
    acc = _mm512_fmadd_ps(_mm512_set1_ps(fp16_to_float(w[b].d) * a[b].d), _mm512_cvtepi32_ps(total), acc);
  }
  *out = _mm512_reduce_add_ps(acc);
}

}  // namespace
}  // namespace lp
