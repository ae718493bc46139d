#pragma once
// Attention's key tile, transposed: `n` cached keys (rows of `width` values, `stride` values
// apart) into keys_t[d * 64 + j], so that the scores of a tile are vector multiply-adds along
// positions with no horizontal sums (engine/attention.cpp). F16 rows are converted on the way,
// with no float copy of the rows in between. A scalar reference and an AVX2 (+F16C) version
// that moves 8 x 8 blocks through registers, chosen at run time.
#include <cstdint>

namespace lp {

inline constexpr int64_t kKeyTile = 64;  // positions per tile: keys_t's row length

// n <= kKeyTile; keys_t's columns from n on are left as they are.
void transpose_keys_f32(const float* keys, int64_t stride, int64_t n, int64_t width, float* keys_t);
void transpose_keys_f16(const uint16_t* keys, int64_t stride, int64_t n, int64_t width, float* keys_t);

namespace key_transpose_scalar {
void transpose_keys_f32(const float* keys, int64_t stride, int64_t n, int64_t width, float* keys_t);
void transpose_keys_f16(const uint16_t* keys, int64_t stride, int64_t n, int64_t width, float* keys_t);
}  // namespace key_transpose_scalar

namespace key_transpose_avx2 {
void transpose_keys_f32(const float* keys, int64_t stride, int64_t n, int64_t width, float* keys_t);
void transpose_keys_f16(const uint16_t* keys, int64_t stride, int64_t n, int64_t width, float* keys_t);
}  // namespace key_transpose_avx2

}  // namespace lp
