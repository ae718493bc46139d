// AVX2 + F16C versions of key_transpose.h (compiled with those flags; called only when the CPU
// has them): 8 keys x 8 values at a time are loaded as 8 vectors (F16 converted by vcvtph2ps),
// transposed in registers and stored as 8 runs of 8 positions. What is left over (positions
// past a multiple of 8, values past a multiple of 8) goes through the scalar reference.
#include <immintrin.h>

#include "kernels/key_transpose.h"

namespace lp::key_transpose_avx2 {
namespace {

// r[i] holds value columns c..c+7 of key i; afterwards r[i] holds column c+i of keys 0..7.
inline void transpose_8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

template <typename LoadRow>
void transpose_blocks(int64_t n, int64_t width, float* keys_t, LoadRow load) {
  const int64_t n8 = n / 8 * 8, w8 = width / 8 * 8;
  for (int64_t j = 0; j < n8; j += 8) {
    for (int64_t c = 0; c < w8; c += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = load(j + i, c);
      transpose_8x8(r);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(keys_t + (c + i) * kKeyTile + j, r[i]);
    }
  }
}

}  // namespace

void transpose_keys_f32(const float* keys, int64_t stride, int64_t n, int64_t width, float* keys_t) {
  transpose_blocks(n, width, keys_t, [&](int64_t j, int64_t c) { return _mm256_loadu_ps(keys + j * stride + c); });
  const int64_t n8 = n / 8 * 8, w8 = width / 8 * 8;
  if (w8 < width) {  // the last values of the whole-block keys
    for (int64_t j = 0; j < n8; ++j) {
      for (int64_t d = w8; d < width; ++d) keys_t[d * kKeyTile + j] = keys[j * stride + d];
    }
  }
  key_transpose_scalar::transpose_keys_f32(keys + n8 * stride, stride, n - n8, width, keys_t + n8);
}

void transpose_keys_f16(const uint16_t* keys, int64_t stride, int64_t n, int64_t width, float* keys_t) {
  transpose_blocks(n, width, keys_t, [&](int64_t j, int64_t c) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(keys + j * stride + c)));
  });
  const int64_t n8 = n / 8 * 8, w8 = width / 8 * 8;
  if (w8 < width) {
    for (int64_t j = 0; j < n8; ++j) {
      for (int64_t d = w8; d < width; ++d) keys_t[d * kKeyTile + j] = _cvtsh_ss(keys[j * stride + d]);
    }
  }
  key_transpose_scalar::transpose_keys_f16(keys + n8 * stride, stride, n - n8, width, keys_t + n8);
}

}  // namespace lp::key_transpose_avx2
