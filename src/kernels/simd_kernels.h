#pragma once
// What each SIMD translation unit (compiled with its own instruction-set flags) offers the
// kernel table: tile kernels by weight type. Declared here so that kernel_table.cpp, built
// for plain x86-64 or ARM, never includes an intrinsics header.
#include <span>

#include "core/ggml_types.h"
#include "kernels/activation_quant.h"
#include "kernels/dot_tile.h"
#include "kernels/interleaved_gemm.h"
#include "kernels/panel_gemm.h"

namespace lp {

struct SimdTile {
  GgmlType weight;
  DotTileFn tile;
};

// A prefill panel kernel by weight type (only the types and sets that have one), and the
// quantizer whose rows it reads where those differ from the plain quantizer's (panel_gemm.h).
struct SimdPanel {
  GgmlType weight;
  PanelGemmFn panel;
  QuantizeActivationsFn batch_quantize = nullptr;
};

// A product with row-interleaved weights by weight type (see interleaved_gemm.h), and the
// quantizer whose rows its batches of kPanelMinTokens or more read, as for SimdPanel.
struct SimdInterleaved {
  GgmlType weight;
  InterleavedGemmFn gemm;
  QuantizeActivationsFn batch_quantize = nullptr;
};

// An activation quantizer (same bytes as the scalar one) by activation type.
struct SimdQuantizer {
  GgmlType activation;
  QuantizeActivationsFn quantize;
};

// LP_X86_KERNELS is defined by the build when it compiles the x86 SIMD units.
#ifdef LP_X86_KERNELS
std::span<const SimdTile> avx2_tiles();    // AVX2 + FMA + F16C
std::span<const SimdTile> avx512_tiles();  // AVX-512 F/BW/VL/VNNI (+ the AVX2 set)
std::span<const SimdQuantizer> avx2_quantizers();
std::span<const SimdQuantizer> avx512_quantizers();
std::span<const SimdPanel> avx2_panels();    // the 32-value quants and the K-quants
std::span<const SimdPanel> avx512_panels();  // the same and F16 (VNNI)
std::span<const SimdInterleaved> avx2_interleaved();    // Q2_K..Q6_K, Q4_0, Q8_0
std::span<const SimdInterleaved> avx512_interleaved();  // the same (VNNI)
#endif

// LP_ARM_KERNELS: the 64-bit ARM units.
#ifdef LP_ARM_KERNELS
std::span<const SimdTile> neon_tiles();          // ARMv8 Advanced SIMD
std::span<const SimdTile> neon_dotprod_tiles();  // + the ARMv8.2 dot product instructions
std::span<const SimdQuantizer> neon_quantizers();  // both ARM sets (no dot product needed)
#endif

}  // namespace lp
