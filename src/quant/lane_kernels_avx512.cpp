// The AVX-512 instantiation of lane_search.inc: 16 lanes (compiled with -mavx512f and
// -ffp-contract=off; called only when the CPU has AVX-512, see lane_kernels()).
#include <immintrin.h>

// GCC 12 warns that the undefined first operand its AVX-512 intrinsics pass (max, min,
// roundscale, cvtps, gather) "may be used uninitialized": a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cmath>
#include <initializer_list>

#include "quant/lane_kernels.h"

namespace lp {
namespace lanes_avx512 {
namespace {

struct V {
  static constexpr int kLanes = 16;
  using F = __m512;
  using M = __mmask16;
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F zero() { return _mm512_setzero_ps(); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static F round(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M neq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
  static F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }
  static M mand(M a, M b) { return static_cast<M>(a & b); }
  static bool any(M m) { return m != 0; }
  static F gather(const float* p, int stride) {
    const __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(stride));
    return _mm512_i32gather_ps(index, p, 4);
  }
  static void store_levels(int8_t* p, F v) { _mm512_mask_cvtepi32_storeu_epi8(p, 0xFFFF, _mm512_cvtps_epi32(v)); }
};

#include "quant/lane_search.inc"

}  // namespace
}  // namespace lanes_avx512

const LaneKernels& lane_kernels_avx512() { return lanes_avx512::Lanes<lanes_avx512::V>::table(); }

}  // namespace lp
