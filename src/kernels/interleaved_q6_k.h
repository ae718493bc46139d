#pragma once
// Q6_K regrouped for eight rows (see interleaved_gemm.h), the same 210 bytes per row and
// super-block of 256 values as the file. A Q6_K half (128 values) keeps value
// 128h + 32 run + l in: the low or high nibble of ql[64h + l] (runs 0, 2) or ql[64h + 32 + l]
// (runs 1, 3), and bits 2 run, 2 run + 1 of qh[32h + l]. Here each of those 32-byte runs of
// ql and qh is cut into 4-byte pieces k (l = 4k .. 4k + 3) ordered [row], so one 32-byte load
// gives piece k for all eight rows; the three pieces a kernel loads together (ql's two, qh's)
// are adjacent and in the order the kernel reads them, so decode streams through memory
// (scattered reads within a super-block halved the rate from DRAM); scales are ordered
// [sub-block][row] and come first.
#include <cstdint>

#include "kernels/interleaved_gemm.h"

namespace lp {

struct BlockQ6_Kx8 {
  int8_t scales[16][kInterleavedRows];  // [sub-block of 16][row]
  uint16_t d[kInterleavedRows];         // fp16
  struct Piece {
    uint8_t ql[2][kInterleavedRows][4];  // [runs 0,2 | runs 1,3][row][byte]
    uint8_t qh[kInterleavedRows][4];     // [row][byte]
  } pieces[2][8];                        // [half][piece]
};
static_assert(sizeof(BlockQ6_Kx8) == kInterleavedRows * 210);

extern const InterleavedFormat kInterleavedQ6_K;

}  // namespace lp
