#pragma once
// The K-quants' packed 6-bit scales unpacked four at a time with 32-bit word operations, for
// the SIMD kernels (the byte-at-a-time unpackers in quant/block_layouts.h are the reference
// these are tested against). Words are little-endian: byte k of a word is value k. The SIMD
// kernels move the words straight into vector registers: storing them as bytes and loading
// those as a vector would stall on store forwarding.
#include <cstdint>
#include <cstring>

namespace lp {

// Q4_K / Q5_K: scales 0-3, scales 4-7, mins 0-3, mins 4-7 (each 0..63), one word each.
struct ScaleMinWords {
  uint32_t scales_low, scales_high, mins_low, mins_high;
};

inline ScaleMinWords unpack_scales_mins_k4_words(const uint8_t packed[12]) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  return {w[0] & 0x3f3f3f3f,
          (w[2] & 0x0f0f0f0f) | ((w[0] >> 2) & 0x30303030),  // top 2 bits from bits 6-7 of bytes 0-3
          w[1] & 0x3f3f3f3f,
          ((w[2] >> 4) & 0x0f0f0f0f) | ((w[1] >> 2) & 0x30303030)};
}

// Q3_K: sixteen signed scales (-32..31), four per word.
struct Q3KScaleWords {
  uint32_t words[4];
};

inline Q3KScaleWords unpack_scales_q3_k_words(const uint8_t packed[12]) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  Q3KScaleWords out{{(w[0] & 0x0f0f0f0f) | ((w[2] & 0x03030303) << 4),
                     (w[1] & 0x0f0f0f0f) | (((w[2] >> 2) & 0x03030303) << 4),
                     ((w[0] >> 4) & 0x0f0f0f0f) | (((w[2] >> 4) & 0x03030303) << 4),
                     ((w[1] >> 4) & 0x0f0f0f0f) | (((w[2] >> 6) & 0x03030303) << 4)}};
  // Minus 32 in every byte: with each byte's top bit set first no byte borrows from the
  // next, and flipping the top bit back gives (x - 32) mod 256.
  for (auto& word : out.words) word = ((word | 0x80808080u) - 0x20202020u) ^ 0x80808080u;
  return out;
}

}  // namespace lp
