// The ARM tile kernels built for plain ARMv8 Advanced SIMD (every aarch64 CPU); the kernel
// table uses them on CPUs without the dot product instructions.
#include "kernels/arm_tiles.h"

namespace lp {

std::span<const SimdTile> neon_tiles() { return kArmTiles; }

}  // namespace lp
