#pragma once
// The inner loops of every block quantizer, run on many blocks at once: one SIMD lane per
// (sub-)block. A group is `lanes` sub-blocks of n values each, stored transposed (value j of
// lane k at xt[j * lanes + k]), so every lane does exactly the scalar arithmetic of its own
// block, in the same order, and no horizontal sums are needed. The algorithms are written
// once (lane_search.inc) over a lane type and compiled three times: one lane (the scalar
// reference, and the only one on non-x86 machines), AVX2 (8 lanes) and AVX-512 (16 lanes),
// chosen at run time like the matmul kernels (kernels/kernel_table.h). All three give the
// same bytes (tests/unit/quant_lanes_test.cpp).
//
// The search each fit runs is the one scale_search.h describes: candidate scales around the
// value range, each scored by the exact weighted squared error after refitting, then
// alternating re-rounding and refitting while the error drops. Sums are float, taken on the
// residuals of each candidate's own nominal scale (x - t*l), so the error comes out as a
// difference of two small terms rather than of two large ones and stays precise even for
// Q8_0, whose error is 1e-5 of the signal.
#include <cstdint>

namespace lp {

// Candidate scales of a fit: the largest value maps to end + 0.1 * step for step in
// [-radius, radius] by `stride`, then up to `refine` rounds of re-rounding at the fitted scale.
struct FitGrid {
  int radius = 10;
  int stride = 2;
  int refine = 8;
};
inline constexpr FitGrid kDefaultFitGrid{};

struct LaneKernels {
  int lanes;
  // xt[j * lanes + k] = x[k * n + j] for k < lanes, j < n.
  void (*transpose)(const float* x, int n, float* xt);
  // x ≈ scale * l, l in [lmin, lmax]. wt: transposed weights or nullptr (all 1). One scale per lane.
  // A range symmetric about 0 (lmin == -lmax) tries only the positive end: the other mirrors it.
  void (*fit_symmetric)(const float* xt, const float* wt, int n, int lmin, int lmax, const FitGrid& grid,
                        float* scale);
  // x ≈ scale * l + offset, l in [0, lmax], offset <= 0 when offset_nonpositive.
  void (*fit_affine)(const float* xt, const float* wt, int n, int lmax, bool offset_nonpositive, const FitGrid& grid,
                     float* scale, float* offset);
  // K-quant code search, symmetric: x ≈ (d * sc) * l with the integer code sc within `radius`
  // of sc0 and in [code_min, code_max]; picks the code of least error (the first on ties).
  void (*codes_symmetric)(const float* xt, const float* wt, int n, int lmin, int lmax, int code_min, int code_max,
                          int radius, const float* d, const float* sc0, float* sc);
  // K-quant code search, affine: x ≈ (d * sc) * l - (dmin * m), sc and m in [0, code_max].
  void (*codes_affine)(const float* xt, const float* wt, int n, int lmax, int code_max, int radius, const float* d,
                       const float* dmin, const float* sc0, const float* m0, float* sc, float* m);
  // The levels, in row order (not transposed: `blocks` blocks of n values at x, n a multiple
  // of lanes), at the scale chosen for each block, with the searches' own arithmetic:
  // symmetric l = round(x / d[b]) and affine l = round((x + ml[b]) / d[b]) (x ≈ d*l - ml),
  // clamped; 0 where d[b] == 0 (affine: d[b] <= 0).
  void (*levels_symmetric)(const float* x, int blocks, int n, int lmin, int lmax, const float* d, int8_t* levels);
  void (*levels_affine)(const float* x, int blocks, int n, int lmax, const float* d, const float* ml, int8_t* levels);
};

// The kernels for the instruction set the matmul kernels use (active_kernel_isa()).
const LaneKernels& lane_kernels();

const LaneKernels& lane_kernels_scalar();
#ifdef LP_X86_KERNELS
const LaneKernels& lane_kernels_avx2();
const LaneKernels& lane_kernels_avx512();
#endif

}  // namespace lp
