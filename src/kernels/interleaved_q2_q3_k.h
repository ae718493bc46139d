#pragma once
// Q2_K and Q3_K regrouped for eight rows (see interleaved_gemm.h), the same 84 / 110 bytes
// per row and super-block of 256 values as the file. Both keep value 128h + 32 plane + l in
// bit pair `plane` of qs[32h + l]; Q3_K's third bit is bit 4h + plane of hmask[l]. Scales come
// first, in the file's packing ordered [byte][row] (Q2_K: one byte per 16 values,
// scale | min << 4; Q3_K: 12 bytes of packed 6-bit scales, unpacked for eight rows at once by
// byte operations). Then per piece k (l = 4k .. 4k + 3, the order decode reads them, so it
// streams through memory): hmask's bytes and both halves' qs bytes, each ordered [row], so
// one 32-byte load gives a piece for all eight rows.
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

struct BlockQ2_Kx8 {
  uint8_t scales[16][kInterleavedRows];  // [16-value sub-block][row]: scale | min << 4
  uint16_t d[kInterleavedRows], dmin[kInterleavedRows];
  struct Piece {
    uint8_t qs[2][kInterleavedRows][4];  // [half][row][byte]
  } pieces[8];
};
static_assert(sizeof(BlockQ2_Kx8) == kInterleavedRows * 84);

struct BlockQ3_Kx8 {
  uint8_t scales[12][kInterleavedRows];  // [packed byte][row], BlockQ3_K's packing
  uint16_t d[kInterleavedRows];
  struct Piece {
    uint8_t hmask[kInterleavedRows][4];  // [row][byte]
    uint8_t qs[2][kInterleavedRows][4];  // [half][row][byte]
  } pieces[8];
};
static_assert(sizeof(BlockQ3_Kx8) == kInterleavedRows * 110);

extern const InterleavedFormat kInterleavedQ2_K, kInterleavedQ3_K;

}  // namespace lp
