// The ARM tile kernels built for ARMv8.2 with the dot product instructions (per-file flags in
// src/CMakeLists.txt); the kernel table uses them where the CPU reports them (HWCAP_ASIMDDP).
#include "kernels/arm_tiles.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "this unit must be compiled with the dot product extension (-march=armv8.2-a+dotprod)"
#endif

namespace lp {

std::span<const SimdTile> neon_dotprod_tiles() { return kArmTiles; }

}  // namespace lp
