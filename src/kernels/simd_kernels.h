#pragma once
// What each SIMD translation unit (compiled with its own instruction-set flags) offers the
// kernel table: tile kernels by weight type. Declared here so that kernel_table.cpp, built
// for plain x86-64 or ARM, never includes an intrinsics header.
#include <span>

#include "core/ggml_types.h"
#include "kernels/dot_tile.h"

namespace lp {

struct SimdTile {
  GgmlType weight;
  DotTileFn tile;
};

// LP_X86_KERNELS is defined by the build when it compiles the x86 SIMD units.
#ifdef LP_X86_KERNELS
std::span<const SimdTile> avx2_tiles();    // AVX2 + FMA + F16C
std::span<const SimdTile> avx512_tiles();  // AVX-512 F/BW/VL/VNNI (+ the AVX2 set)
#endif

}  // namespace lp
