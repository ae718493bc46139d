// The x86 tile kernels built for AVX-512 F/BW/VL/VNNI (per-file flags in
// src/CMakeLists.txt): VNNI's dpbusd/dpwssd replace the maddubs+madd pairs, and the 32
// vector registers hold a whole token tile's accumulators.
#include "kernels/x86_activation_quant.h"
#include "kernels/x86_tiles.h"

namespace lp {

std::span<const SimdTile> avx512_tiles() { return kX86Tiles; }
std::span<const SimdQuantizer> avx512_quantizers() { return kX86Quantizers; }

}  // namespace lp
