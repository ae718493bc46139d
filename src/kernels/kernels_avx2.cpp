// The x86 tile kernels built for AVX2 + FMA + F16C (per-file flags in src/CMakeLists.txt);
// the kernel table uses them on CPUs that have these but not AVX-512 VNNI.
#include "kernels/x86_activation_quant.h"
#include "kernels/x86_tiles.h"

namespace lp {

std::span<const SimdTile> avx2_tiles() { return kX86Tiles; }
std::span<const SimdQuantizer> avx2_quantizers() { return kX86Quantizers; }

}  // namespace lp
