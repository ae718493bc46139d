#pragma once
// Q8_0 regrouped for eight rows (see interleaved_gemm.h), the same 34 bytes per row and
// block of 32 values as the file: the rows' d, then the 32 int8 values of every row cut into
// 4-byte pieces ordered [piece][row], so one 32-byte load is piece k of all eight rows.
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

struct BlockQ8_0x8 {
  uint16_t d[kInterleavedRows];              // fp16
  int8_t qs[8][kInterleavedRows][4];         // [piece][row][byte]
};
static_assert(sizeof(BlockQ8_0x8) == kInterleavedRows * 34);

extern const InterleavedFormat kInterleavedQ8_0;

}  // namespace lp
