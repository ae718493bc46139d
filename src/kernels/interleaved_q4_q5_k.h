#pragma once
// Q4_K and Q5_K regrouped for eight rows (see interleaved_gemm.h), the same 144 / 176 bytes
// per row and super-block of 256 values as the file: the rows' d and dmin; their 12 bytes of
// packed 6-bit scales and mins ordered [byte][row], so that one byte operation unpacks a
// scale of all eight rows; then per piece k (bytes 4k .. 4k + 3 of each 32-byte run, the
// order decode reads them, so it streams through memory): Q5_K's fifth bits, qh's bytes
// 4k .. 4k + 3 ordered [row] (bit 2c of byte i is value 64c + i's, bit 2c + 1 value
// 64c + 32 + i's), and the nibbles ordered [32-byte run c][row]: a 32-byte load is piece k
// of run c for all eight rows, whose low nibbles are values 64c + 4k .. + 3 (sub-block 2c)
// and high nibbles values 64c + 32 + 4k .. + 3 (sub-block 2c + 1).
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

struct BlockQ4_Kx8 {
  uint16_t d[kInterleavedRows], dmin[kInterleavedRows];  // fp16, as in BlockQ4_K
  uint8_t scales[12][kInterleavedRows];                  // [packed byte][row], BlockQ4_K's packing
  struct Piece {
    uint8_t qs[4][kInterleavedRows][4];  // [run][row][byte]
  } pieces[8];
};
static_assert(sizeof(BlockQ4_Kx8) == kInterleavedRows * 144);

struct BlockQ5_Kx8 {
  uint16_t d[kInterleavedRows], dmin[kInterleavedRows];
  uint8_t scales[12][kInterleavedRows];
  struct Piece {
    uint8_t qh[kInterleavedRows][4];     // [row][byte]
    uint8_t qs[4][kInterleavedRows][4];  // [run][row][byte]
  } pieces[8];
};
static_assert(sizeof(BlockQ5_Kx8) == kInterleavedRows * 176);

extern const InterleavedFormat kInterleavedQ4_K, kInterleavedQ5_K;

}  // namespace lp
