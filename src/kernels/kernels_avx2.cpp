// The x86 kernels built for AVX2 + FMA + F16C (per-file flags in src/CMakeLists.txt); the
// kernel table uses them on CPUs that have these but not AVX-512 VNNI. The same sources as
// the AVX-512 unit: tiles, panel kernels for prefill (x86_panels.h, all but F16) and
// row-interleaved products (x86_interleaved.h), with maddubs+madd where that unit has VNNI.
#include "kernels/x86_activation_quant.h"
#include "kernels/x86_interleaved.h"
#include "kernels/x86_panels.h"
#include "kernels/x86_tiles.h"

namespace lp {

std::span<const SimdTile> avx2_tiles() { return kX86Tiles; }
std::span<const SimdQuantizer> avx2_quantizers() { return kX86Quantizers; }
std::span<const SimdPanel> avx2_panels() { return kX86Panels; }
std::span<const SimdInterleaved> avx2_interleaved() { return kX86Interleaved; }

}  // namespace lp
