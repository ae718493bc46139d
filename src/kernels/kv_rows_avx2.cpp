// AVX2 versions of kv_rows.h's conversions (compiled with -mavx2 -mf16c; called only when the
// CPU has them). Each value is one float multiplication of the integer by the block's scale,
// as in the scalar reference, so the results are the same bits.
#include <immintrin.h>

#include <cstring>

#include "kernels/kv_rows.h"
#include "quant/block_layouts.h"

namespace lp::kv_rows_avx2 {
namespace {

__m256 block_scale(const uint8_t* block) {
  uint16_t d;
  std::memcpy(&d, block, sizeof d);
  return _mm256_set1_ps(_cvtsh_ss(d));
}

// Eight signed bytes to floats times the scale.
void store_scaled(__m128i bytes8, __m256 d, float* dst) {
  _mm256_storeu_ps(dst, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes8)), d));
}

}  // namespace

void q8_0_to_f32(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n / kQK; ++i, src += sizeof(BlockQ8_0), dst += kQK) {
    const __m256 d = block_scale(src);
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 18));
    store_scaled(lo, d, dst);
    store_scaled(_mm_srli_si128(lo, 8), d, dst + 8);
    store_scaled(hi, d, dst + 16);
    store_scaled(_mm_srli_si128(hi, 8), d, dst + 24);
  }
}

void q4_0_to_f32(const uint8_t* src, float* dst, int64_t n) {
  const __m128i low_nibble = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
  for (int64_t i = 0; i < n / kQK; ++i, src += sizeof(BlockQ4_0), dst += kQK) {
    const __m256 d = block_scale(src);
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2));
    // Values 0..15 are the low nibbles, 16..31 the high ones; each stored as q + 8.
    const __m128i lo = _mm_sub_epi8(_mm_and_si128(packed, low_nibble), eight);
    const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(packed, 4), low_nibble), eight);
    store_scaled(lo, d, dst);
    store_scaled(_mm_srli_si128(lo, 8), d, dst + 8);
    store_scaled(hi, d, dst + 16);
    store_scaled(_mm_srli_si128(hi, 8), d, dst + 24);
  }
}

}  // namespace lp::kv_rows_avx2
