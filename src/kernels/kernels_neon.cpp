// The ARM tile kernels built for plain ARMv8 Advanced SIMD (every aarch64 CPU); the kernel
// table uses them on CPUs without the dot product instructions. The activation quantizers,
// which need no dot product, serve both ARM sets.
#include "kernels/arm_activation_quant.h"
#include "kernels/arm_tiles.h"

namespace lp {

std::span<const SimdTile> neon_tiles() { return kArmTiles; }
std::span<const SimdQuantizer> neon_quantizers() { return kArmQuantizers; }

}  // namespace lp
