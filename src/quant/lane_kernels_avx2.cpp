// The AVX2 instantiation of lane_search.inc: 8 lanes (compiled with -mavx2 -mfma and
// -ffp-contract=off; called only when the CPU has them, see lane_kernels()).
#include <immintrin.h>

#include <cmath>
#include <initializer_list>

#include "quant/lane_kernels.h"

namespace lp {
namespace lanes_avx2 {
namespace {

struct V {
  static constexpr int kLanes = 8;
  using F = __m256;
  using M = __m256;  // all-ones lanes
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F zero() { return _mm256_setzero_ps(); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F abs(F a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static F round(F v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M neq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
  static F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }
  static M mand(M a, M b) { return _mm256_and_ps(a, b); }
  static bool any(M m) { return _mm256_movemask_ps(m) != 0; }
  static F gather(const float* p, int stride) {
    const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(stride));
    return _mm256_i32gather_ps(p, index, 4);
  }
  static void store_levels(int8_t* p, F v) {
    // 8 int32 -> 8 int8 (values are within int8 already, so the saturating packs are exact).
    const __m256i i32 = _mm256_cvtps_epi32(v);
    const __m128i i16 = _mm_packs_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(i16, i16));
  }
};

#include "quant/lane_search.inc"

}  // namespace
}  // namespace lanes_avx2

const LaneKernels& lane_kernels_avx2() { return lanes_avx2::Lanes<lanes_avx2::V>::table(); }

}  // namespace lp
