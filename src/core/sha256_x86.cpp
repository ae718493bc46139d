#include "core/sha256_x86.h"

#include "core/sha256_rounds.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace lp {

#if defined(__x86_64__)

bool sha256_x86_available() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool sse41 = (c & bit_SSE4_1) != 0, ssse3 = (c & bit_SSSE3) != 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return sse41 && ssse3 && (b & bit_SHA) != 0;
}

__attribute__((target("sha,sse4.1,ssse3"))) void sha256_x86_blocks(uint32_t h[8], const uint8_t* p, size_t count) {
  // The instructions keep the state as two registers, ABEF and CDGH (A in the high lane).
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
  // Message words are big-endian.
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

  for (; count > 0; --count, p += 64) {
    const __m128i abef_in = abef, cdgh_in = cdgh;
    __m128i w[4];
    for (int i = 0; i < 4; ++i) {
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i)), byte_swap);
    }
    // Sixteen groups of four rounds; w[g % 4] holds the group's four schedule words.
    for (int g = 0; g < 16; ++g) {
      __m128i& cur = w[g % 4];
      if (g >= 4) {
        // w[t] = s1(w[t-2]) + w[t-7] + s0(w[t-15]) + w[t-16], four at once: cur holds w[t-16..t-13].
        const __m128i& prev1 = w[(g + 3) % 4];  // w[t-4..t-1]
        const __m128i& prev2 = w[(g + 2) % 4];  // w[t-8..t-5]
        const __m128i& prev3 = w[(g + 1) % 4];  // w[t-12..t-9]
        __m128i x = _mm_sha256msg1_epu32(cur, prev3);
        x = _mm_add_epi32(x, _mm_alignr_epi8(prev1, prev2, 4));  // w[t-7..t-4]
        cur = _mm_sha256msg2_epu32(x, prev1);
      }
      __m128i wk = _mm_add_epi32(cur, _mm_load_si128(reinterpret_cast<const __m128i*>(kSha256Rounds + 4 * g)));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      wk = _mm_shuffle_epi32(wk, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
      // The first call leaves the state two rounds on (its ABEF) in `cdgh`, the second four
      // rounds on in `abef`; the ABEF of two rounds on is then exactly the CDGH of four.
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }

  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  hgfe = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), dcba);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), hgfe);
}

#else

bool sha256_x86_available() { return false; }
void sha256_x86_blocks(uint32_t*, const uint8_t*, size_t) {}

#endif

}  // namespace lp
