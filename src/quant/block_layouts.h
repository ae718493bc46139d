#pragma once
// GGML's block structs, byte for byte (ggml-common.h). fp16 fields are kept as raw uint16_t
// bits so the structs have no padding and can be memcpy'd to and from files.
#include <bit>
#include <cstdint>
#include <cstring>

namespace lp {

constexpr int kQK = 32;    // values per block of the legacy types
constexpr int kQK_K = 256; // values per super-block of the K-quants

struct BlockQ4_0 { uint16_t d; uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[kQK]; };
// MXFP4 (OCP microscaling): a shared power-of-two scale as an E8M0 exponent byte, then 32
// E2M1 values as nibbles (value j low, value j + 16 high, as in Q4_0).
struct BlockMXFP4 { uint8_t e; uint8_t qs[kQK / 2]; };
// Not GGML's: MLX affine groups as the engine keeps them (quant/mlx_affine.h), w = scale * q + bias.
struct BlockMlxU8 { float scale, bias; uint8_t q[kQK]; };

// 16 sub-blocks of 16: 4-bit scale (low nibble) and 4-bit min (high nibble) each.
struct BlockQ2_K { uint8_t scales[kQK_K / 16]; uint8_t qs[kQK_K / 4]; uint16_t d, dmin; };
// 16 sub-blocks of 16: 6-bit signed scales (+32) packed in 12 bytes; levels -4..3 = 2 low bits + high bit.
struct BlockQ3_K { uint8_t hmask[kQK_K / 8]; uint8_t qs[kQK_K / 4]; uint8_t scales[12]; uint16_t d; };
// 8 sub-blocks of 32: 6-bit scales and mins packed in 12 bytes.
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[kQK_K / 2]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
// 16 sub-blocks of 16: int8 scales; levels -32..31 = 4 low bits + 2 high bits.
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; uint16_t d; };
// The activation type for K-quant dot products: float scale, int8 values, sums of each 16.
struct BlockQ8_K { float d; int8_t qs[kQK_K]; int16_t bsums[kQK_K / 16]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockMXFP4) == 17);
static_assert(sizeof(BlockMlxU8) == 40);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

// The E2M1 values of MXFP4's nibbles doubled to integers (ggml's kvalues_mxfp4), so that the
// dot products stay in integers; the block scale is halved to match. Nibble 8 is -0. Not
// `inline`: each unit keeps its own copy, so no SIMD unit exports it (scripts/test-arm.sh).
constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// An MXFP4 block's scale for the doubled values: 2^(e - 127) / 2 = 2^(e - 128), as ggml's
// ggml_e8m0_to_fp32_half builds it from bits. e = 0 and 1 give the subnormals 2^-128 and
// 2^-127; e = 255 gives 2^127 (the format's NaN code is not treated as NaN, as in ggml).
inline float e8m0_to_fp32_half(uint8_t e) {
  const uint32_t bits = e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23;
  return std::bit_cast<float>(bits);
}

// The 12-byte packing of eight 6-bit scales and eight 6-bit mins used by Q4_K and Q5_K:
// bytes 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3; bytes 8-11 hold the low
// nibbles of scales 4-7 and mins 4-7, whose top 2 bits sit in the top bits of bytes 0-7.
inline void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

inline void pack_scale_min_k4(const uint8_t scale[8], const uint8_t min[8], uint8_t q[12]) {
  for (int j = 0; j < 4; ++j) {
    q[j] = static_cast<uint8_t>(scale[j] | ((scale[j + 4] >> 4) << 6));
    q[j + 4] = static_cast<uint8_t>(min[j] | ((min[j + 4] >> 4) << 6));
    q[j + 8] = static_cast<uint8_t>((scale[j + 4] & 0xF) | ((min[j + 4] & 0xF) << 4));
  }
}

// Q3_K's sixteen 6-bit scales (stored +32) in 12 bytes: low nibbles in bytes 0-7 (scales 0-7
// low nibble, scales 8-15 high nibble), the top 2 bits of scale j in byte 8 + j%4 at bit 2*(j/4).
inline void unpack_scales_q3_k(const uint8_t q[12], int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? q[j] & 0xF : q[j - 8] >> 4;
    const int high = (q[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

inline void pack_scales_q3_k(const int8_t scales[16], uint8_t q[12]) {
  for (int i = 0; i < 12; ++i) q[i] = 0;
  for (int j = 0; j < 16; ++j) {
    const int v = scales[j] + 32;  // 0..63
    if (j < 8) q[j] |= static_cast<uint8_t>(v & 0xF);
    else q[j - 8] |= static_cast<uint8_t>((v & 0xF) << 4);
    q[8 + j % 4] |= static_cast<uint8_t>((v >> 4) << (2 * (j / 4)));
  }
}

// Writes block number i of an array of blocks into a byte buffer (unaligned).
template <class Block>
inline void store_block(uint8_t* dst, int64_t i, const Block& b) {
  std::memcpy(dst + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

}  // namespace lp
