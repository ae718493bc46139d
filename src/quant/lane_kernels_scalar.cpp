// The one-lane instantiation of lane_search.inc: the scalar reference of every block
// quantizer's search, and the code that runs where no SIMD set is available.
#include <cmath>
#include <initializer_list>
#include <cstring>

#include "kernels/kernel_table.h"
#include "quant/lane_kernels.h"

namespace lp {
namespace lanes_scalar {
namespace {

struct V {
  static constexpr int kLanes = 1;
  using F = float;
  using M = bool;
  static F load(const float* p) { return *p; }
  static void store(float* p, F v) { *p = v; }
  static F set1(float v) { return v; }
  static F zero() { return 0.0f; }
  static F add(F a, F b) { return a + b; }
  static F sub(F a, F b) { return a - b; }
  static F mul(F a, F b) { return a * b; }
  static F div(F a, F b) { return a / b; }
  static F fma(F a, F b, F c) { return std::fma(a, b, c); }
  static F fnma(F a, F b, F c) { return std::fma(-a, b, c); }
  static F min(F a, F b) { return a < b ? a : b; }
  static F max(F a, F b) { return a > b ? a : b; }
  static F abs(F a) { return std::fabs(a); }
  // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer, ties to even, like the
  // SIMD sets' round instructions (for |v| <= 2^22; callers clamp first). Without -ffast-math
  // the compiler may not fold the pair away.
  static F round(F v) { return (v + 12582912.0f) - 12582912.0f; }
  static M lt(F a, F b) { return a < b; }
  static M gt(F a, F b) { return a > b; }
  static M ge(F a, F b) { return a >= b; }
  static M neq(F a, F b) { return a != b; }
  static F select(M m, F a, F b) { return m ? a : b; }
  static M mand(M a, M b) { return a && b; }
  static bool any(M m) { return m; }
  static F gather(const float* p, int /*stride*/) { return *p; }
  static void store_levels(int8_t* p, F v) { *p = static_cast<int8_t>(static_cast<int>(v)); }
};

#include "quant/lane_search.inc"

}  // namespace
}  // namespace lanes_scalar

const LaneKernels& lane_kernels_scalar() { return lanes_scalar::Lanes<lanes_scalar::V>::table(); }

const LaneKernels& lane_kernels() {
#ifdef LP_X86_KERNELS
  switch (active_kernel_isa()) {
    case KernelIsa::Avx512: return lane_kernels_avx512();
    case KernelIsa::Avx2: return lane_kernels_avx2();
    default: break;
  }
#endif
  return lane_kernels_scalar();
}

}  // namespace lp
