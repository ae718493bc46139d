// The x86 tile kernels built for AVX-512 F/BW/VL/VNNI (per-file flags in
// src/CMakeLists.txt): VNNI's dpbusd/dpwssd replace the maddubs+madd pairs, and the 32
// vector registers hold a whole token tile's accumulators; the quantized types and F16 also
// get panel kernels for prefill (x86_panels.h), and row-interleaved products
// (x86_interleaved.h). The AVX2 unit compiles the same sources (kernels_avx2.cpp).
#include "kernels/x86_activation_quant.h"
#include "kernels/x86_interleaved.h"
#include "kernels/x86_panels.h"
#include "kernels/x86_tiles.h"

namespace lp {

std::span<const SimdTile> avx512_tiles() { return kX86Tiles; }
std::span<const SimdQuantizer> avx512_quantizers() { return kX86Quantizers; }
std::span<const SimdPanel> avx512_panels() { return kX86Panels; }
std::span<const SimdInterleaved> avx512_interleaved() { return kX86Interleaved; }

}  // namespace lp
