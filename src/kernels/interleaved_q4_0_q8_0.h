#pragma once
// Q4_0 and Q8_0 regrouped for eight rows (see interleaved_gemm.h), the same 18 / 34 bytes per
// row and block of 32 values as the file: the rows' d, then every row's quants cut into
// 4-byte pieces ordered [piece][row], so one 32-byte load is piece k of all eight rows.
// Q8_0 piece k holds values 4k .. 4k + 3; Q4_0 piece k (of 4) holds values 4k .. 4k + 3 in
// its low nibbles and 16 + 4k .. 16 + 4k + 3 in its high nibbles (levels stored + 8).
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

struct BlockQ4_0x8 {
  uint16_t d[kInterleavedRows];         // fp16
  uint8_t qs[4][kInterleavedRows][4];   // [piece][row][byte]
};
static_assert(sizeof(BlockQ4_0x8) == kInterleavedRows * 18);

struct BlockQ8_0x8 {
  uint16_t d[kInterleavedRows];         // fp16
  int8_t qs[8][kInterleavedRows][4];    // [piece][row][byte]
};
static_assert(sizeof(BlockQ8_0x8) == kInterleavedRows * 34);

extern const InterleavedFormat kInterleavedQ4_0, kInterleavedQ8_0;

}  // namespace lp
