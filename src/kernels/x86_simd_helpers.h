#pragma once
// Building blocks of the x86 tile kernels. Included only by translation units compiled with
// AVX2+FMA+F16C flags (kernels_avx2.cpp) or additionally AVX-512 BW/VL/VNNI
// (kernels_avx512.cpp). Everything is in an anonymous namespace: the same functions are
// compiled once per instruction set, and the linker must never merge them across units.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace lp {
namespace {

inline float fp16_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
constexpr bool kHasVnni = true;
#else
constexpr bool kHasVnni = false;
#endif

// The largest activation magnitude of Q8_0 / Q8_K (the quantizers round to -127..127; 128 keeps
// the bounds below valid for any byte).
constexpr int kMaxActivation = 128;

// Without VNNI, vpmaddubsw gives int16 pairs of products (unsigned operand at most
// max_unsigned, signed one at most max_signed in magnitude); int16 lanes can add this many of
// them (a power of two, at most `groups`) before one vpmaddwd must widen the sums to int32.
// Widening once per several products instead of once per product takes a vpmaddwd and a
// vpaddd off most of them: the main saving of the AVX2 panel kernels on small levels.
constexpr int products_per_widening(int max_unsigned, int max_signed, int groups) {
  int n = 1;
  while (2 * n <= groups && 2 * n * (2 * max_unsigned * max_signed) <= 32767) n *= 2;
  return n;
}

// acc16 + the pairs of products u[2i] * s[2i] + u[2i + 1] * s[2i + 1] (int16 lanes, wrapping):
// exact while the caller keeps the sum within int16 (products_per_widening).
inline __m256i add_pair_products(__m256i acc16, __m256i u, __m256i s) {
  __m256i sum = _mm256_add_epi16(acc16, _mm256_maddubs_epi16(u, s));
  // Keep the sum a running one: left alone, g++ reassociates a kernel's unrolled int16 adds
  // into trees over all of its products, which need more registers than there are and spill
  // (the first AVX2 panel with int16 sums was no faster than widening every product).
  __asm__("" : "+v"(sum));
  return sum;
}

// acc + sums of four adjacent products u[i] * s[i] (u unsigned, s signed bytes), per int32
// lane. Without VNNI the pairs go through int16 (maddubs saturates): every caller keeps a
// pair of products within int16 (u <= 128 against |s| <= 127).
inline __m256i dot_u8_s8(__m256i acc, __m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, u, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// acc + scale16 * (pairs of products u * s), per int32 lane: a K-quant sub-block's scale
// applied to its products. `scale16` holds one int16 per pair; u must be small enough
// (<= 63) that a pair fits in int16.
inline __m256i scaled_dot_u8_s8(__m256i acc, __m256i u, __m256i s, __m256i scale16) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(u, s), scale16);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale16));
#endif
}

// Each int32 lane's low half copied into its high half (lanes within int16): a per-row
// coefficient as the pair vpmaddwd multiplies.
inline __m256i int16_pairs(__m256i v) { return _mm256_blend_epi16(v, _mm256_slli_epi32(v, 16), 0xAA); }

// A sub-block's running sum of products for the eight rows of an interleaved group, and its
// fold into a super-block's scaled int32 total. With VNNI the sum is int32 lanes (vpdpbusd)
// and a fold multiplies it by the rows' scales (vpmulld), once per sub-block. Without, the sum
// is int16 pairs (vpmaddubsw, vpaddw: no widening per product) and a fold is one vpmaddwd
// against the scales, as often as the levels' range needs (pieces_per_fold).
inline __m256i accumulate_products(__m256i acc, __m256i u, __m256i s) {
  if constexpr (kHasVnni) return dot_u8_s8(acc, u, s);
  else return add_pair_products(acc, u, s);
}
inline __m256i fold_scaled(__m256i total, __m256i sum, __m256i scales32) {
  if constexpr (kHasVnni) return _mm256_add_epi32(total, _mm256_mullo_epi32(sum, scales32));
  else return _mm256_add_epi32(total, _mm256_madd_epi16(sum, int16_pairs(scales32)));
}
// A running sum of accumulate_products as int32 lanes (a vpmaddwd against ones without VNNI).
inline __m256i widen_sum(__m256i sum) {
  if constexpr (kHasVnni) return sum;
  else return _mm256_madd_epi16(sum, _mm256_set1_epi16(1));
}
// Pieces of four values per row (levels up to max_level against activations up to
// kMaxActivation) one running sum takes before a fold, out of a sub-block's `pieces`.
constexpr int pieces_per_fold(int max_level, int pieces) {
  return kHasVnni ? pieces : products_per_widening(max_level, kMaxActivation, pieces);
}

// acc + a[2i] * b[2i] + a[2i + 1] * b[2i + 1] per int32 lane (int16 inputs): vpdpwssd with
// VNNI, vpmaddwd and an add without. Both are exact (no saturation; vpmaddwd's one overflow,
// two products of -32768 * -32768, needs operands no caller has).
inline __m256i dot_s16_s16(__m256i acc, __m256i a, __m256i b) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpwssd_epi32(acc, a, b);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// acc + sums of four adjacent products a[i] * w[i], both signed bytes, as |w| against a with
// w's sign, so that the unsigned-by-signed dot_u8_s8 applies. Safe without VNNI too: a pair
// is at most 2 * 128 * 127 (|w| <= 128), within int16. Needs a != -128 (negating it wraps),
// which the activation quantizers never produce (they round to -127..127).
inline __m256i dot_s8_s8(__m256i acc, __m256i a, __m256i w) {
  return dot_u8_s8(acc, _mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
}

// (a & mask) | (b & ~mask), bitwise: one vpternlogd with AVX-512 VL, three operations without.
inline __m256i select_bits(__m256i a, __m256i b, __m256i mask) {
#if defined(__AVX512F__) && defined(__AVX512VL__)
  constexpr int kSelectByC = 0xE4;  // the truth table of (A & C) | (B & ~C)
  return _mm256_ternarylogic_epi32(a, b, mask, kSelectByC);
#else
  return _mm256_or_si256(_mm256_and_si256(a, mask), _mm256_andnot_si256(mask, b));
#endif
}

// Stores lanes [0, n) of v (n = 1..8); memory past them is not touched.
inline void store_first_lanes(float* out, __m256 v, int n) {
#if defined(__AVX512F__) && defined(__AVX512VL__)
  _mm256_mask_storeu_ps(out, static_cast<__mmask8>((1u << n) - 1), v);
#else
  if (n == 8) return _mm256_storeu_ps(out, v);
  _mm256_maskstore_ps(out, _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), v);
#endif
}

// Scales s and s + 1 (s even) of the sixteen int16 in `scales16`, spread for a 32-byte run:
// scale s for bytes 0-15, scale s + 1 for bytes 16-31. Two shuffles, no scalar work.
inline __m256i scale_pair(__m256i scales16, int s) {
  const __m256i both = _mm256_permutevar8x32_epi32(scales16, _mm256_set1_epi32(s / 2));
  const __m256i spread = _mm256_set_epi8(3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2,  //
                                         1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
  return _mm256_shuffle_epi8(both, spread);
}

// 16 bytes of packed nibbles to 32 bytes: low nibbles (values 0-15) then high nibbles (16-31).
inline __m256i unpack_nibbles_32(const uint8_t* qs) {
  const __m128i packed = load128(qs);
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits (little-endian bytes) to 32 bytes: 0xFF where the bit is set, 0 where not.
inline __m256i bytes_from_bits_32(const uint8_t* bits) {
  uint32_t x;
  std::memcpy(&x, bits, sizeof x);
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  return _mm256_movm_epi8(x);
#else
  // Byte i takes byte i / 8 of x, then keeps only bit i % 8.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int32_t>(x)),
      _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000));
  const __m256i bit_of_byte = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit_of_byte), bit_of_byte);
#endif
}

// Bit `bit` (0-7) of every byte, moved to bit `to` (0-7).
inline __m256i bit_of_bytes(__m256i v, int bit, int to) {
  const __m256i one = _mm256_and_si256(_mm256_srli_epi16(v, bit), _mm256_set1_epi8(1));
  return _mm256_slli_epi16(one, to);
}

}  // namespace
}  // namespace lp
