#pragma once
// The K-quants' packed 6-bit scales unpacked four at a time with 32-bit word operations, for
// the SIMD kernels (the byte-at-a-time unpackers in quant/block_layouts.h are the reference
// these are tested against). Words are little-endian: byte k of a word is value k.
#include <cstdint>
#include <cstring>

namespace lp {

// Q4_K / Q5_K: eight scales and eight mins, each 0..63.
inline void unpack_scales_mins_k4_fast(const uint8_t packed[12], uint8_t scales[8], uint8_t mins[8]) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  const uint32_t s_low = w[0] & 0x3f3f3f3f;
  const uint32_t s_high = (w[2] & 0x0f0f0f0f) | ((w[0] >> 2) & 0x30303030);  // top 2 bits from bits 6-7
  const uint32_t m_low = w[1] & 0x3f3f3f3f;
  const uint32_t m_high = ((w[2] >> 4) & 0x0f0f0f0f) | ((w[1] >> 2) & 0x30303030);
  std::memcpy(scales, &s_low, 4);
  std::memcpy(scales + 4, &s_high, 4);
  std::memcpy(mins, &m_low, 4);
  std::memcpy(mins + 4, &m_high, 4);
}

// Q3_K: sixteen signed scales (-32..31).
inline void unpack_scales_q3_k_fast(const uint8_t packed[12], int8_t scales[16]) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  uint32_t out[4];
  out[0] = (w[0] & 0x0f0f0f0f) | ((w[2] & 0x03030303) << 4);
  out[1] = (w[1] & 0x0f0f0f0f) | (((w[2] >> 2) & 0x03030303) << 4);
  out[2] = ((w[0] >> 4) & 0x0f0f0f0f) | (((w[2] >> 4) & 0x03030303) << 4);
  out[3] = ((w[1] >> 4) & 0x0f0f0f0f) | (((w[2] >> 6) & 0x03030303) << 4);
  // Minus 32 in every byte: with each byte's top bit set first no byte borrows from the
  // next, and flipping the top bit back gives (x - 32) mod 256.
  for (auto& word : out) word = ((word | 0x80808080u) - 0x20202020u) ^ 0x80808080u;
  std::memcpy(scales, out, 16);
}

}  // namespace lp
