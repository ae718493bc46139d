#pragma once
// Q4_K regrouped for eight rows (see interleaved_gemm.h). Per super-block of 256 values:
// the rows' d and dmin, their eight 6-bit scales and mins already unpacked (so a kernel
// loads a sub-block's eight scales as one 8-byte vector), and the 128 bytes of nibbles of
// every row cut into 4-byte pieces ordered [32-byte run c][piece k][row r]: a 32-byte load
// is piece k of run c for all eight rows, whose low nibbles are values 64c + 4k .. + 3
// (sub-block 2c) and high nibbles values 64c + 32 + 4k .. + 3 (sub-block 2c + 1).
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

struct BlockQ4_Kx8 {
  uint16_t d[kInterleavedRows], dmin[kInterleavedRows];  // fp16, as in BlockQ4_K
  uint8_t scales[8][kInterleavedRows];                   // [sub-block][row]
  uint8_t mins[4][kInterleavedRows][2];                  // [pair of sub-blocks][row][sub-block in pair]
  uint8_t qs[4][8][kInterleavedRows][4];                 // [run][piece][row][byte]
};
static_assert(sizeof(BlockQ4_Kx8) == 1184);

extern const InterleavedFormat kInterleavedQ4_K;

}  // namespace lp
