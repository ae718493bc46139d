// The quantizers' lane kernels (src/quant/lane_kernels.h): every instruction set this CPU
// runs must write exactly the bytes of the scalar reference, for every block type, with and
// without importance weights, on rows that fill the lanes and rows that leave a padded tail,
// and on awkward data (zeros, constants, a lone outlier, tiny and huge magnitudes).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "core/ggml_types.h"
#include "kernels/half_vectors.h"
#include "kernels/kernel_table.h"
#include "quant/lane_kernels.h"

namespace lp {
namespace {

struct IsaGuard {
  KernelIsa saved = active_kernel_isa();
  ~IsaGuard() { set_kernel_isa(saved); }
};

std::vector<uint8_t> quantize_with(KernelIsa isa, GgmlType type, const std::vector<float>& x, int64_t row,
                                   const float* importance) {
  set_kernel_isa(isa);
  const auto& t = ggml_type_traits(type);
  const uint64_t row_bytes = *ggml_row_bytes(type, row);
  std::vector<uint8_t> q(row_bytes * (x.size() / row));
  for (size_t r = 0; r < x.size() / row; ++r) t.quantize(x.data() + r * row, q.data() + r * row_bytes, row, importance);
  return q;
}

// Rows of several kinds, each `row` values long.
std::vector<float> awkward_rows(int64_t row, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x;
  for (int kind = 0; kind < 8; ++kind) {
    for (int64_t i = 0; i < row; ++i) {
      float v = normal(rng);
      switch (kind) {
        case 1: v = i % 40 < 20 ? 0.0f : v; break;                          // zero blocks next to live ones
        case 2: v = i % 64 < 32 ? 0.25f : v * 1e-3f; break;                 // constant blocks
        case 3: v = i % 17 == 0 ? 40.0f * v : v; break;                     // outliers
        case 4: v *= 1e-20f; break;                                         // tiny
        case 5: v *= 1e4f; break;                                           // huge
        case 6: v = std::fabs(v) + 0.5f; break;                             // all positive (offset > 0)
        case 7: v = std::round(v * 3.0f); break;                            // few distinct values
        default: break;
      }
      x.push_back(v);
    }
  }
  return x;
}

TEST(QuantLanes, EveryInstructionSetWritesTheScalarBytes) {
  IsaGuard guard;
  const KernelIsa best = best_kernel_isa();
  if (best == KernelIsa::Scalar) GTEST_SKIP() << "no SIMD instruction set on this CPU";
  const GgmlType types[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                            GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
  std::mt19937 rng(7);
  std::gamma_distribution<float> gamma(0.5f, 2.0f);
  for (const GgmlType type : types) {
    const int block = static_cast<int>(ggml_type_traits(type).block_size);
    // One block, a batch that fills the lanes, and counts that leave a padded tail.
    for (const int64_t blocks : {1, 3, 5, 16, 21}) {
      const int64_t row = blocks * block;
      const std::vector<float> x = awkward_rows(row, rng);
      std::vector<float> importance(row);
      for (auto& v : importance) v = gamma(rng);
      for (int64_t i = 0; i < std::min<int64_t>(row, 32); ++i) importance[i] = 0.0f;  // an all-zero block: weights 1
      for (const float* imp : {static_cast<const float*>(nullptr), static_cast<const float*>(importance.data())}) {
        const auto reference = quantize_with(KernelIsa::Scalar, type, x, row, imp);
        for (int isa = 1; isa <= static_cast<int>(best); ++isa) {
          if (!kernel_isa_runs(static_cast<KernelIsa>(isa))) continue;
          const auto simd = quantize_with(static_cast<KernelIsa>(isa), type, x, row, imp);
          EXPECT_EQ(simd, reference) << ggml_type_traits(type).name << " " << kernel_isa_name(static_cast<KernelIsa>(isa))
                                     << " blocks " << blocks << (imp ? " weighted" : "");
        }
      }
    }
  }
}

// Reading F16 weights: the SIMD conversion (F16C, NEON) gives the scalar conversion's floats
// for every half (NaNs stay NaNs; the hardware quiets a signalling one).
TEST(QuantLanes, F16RowsConvertLikeTheScalarCode) {
#if defined(LP_X86_KERNELS)
  if (best_kernel_isa() < KernelIsa::Avx2) GTEST_SKIP() << "no F16C on this CPU";
  const auto simd_row = half_vectors_avx2::f16_to_f32_row;
#elif defined(LP_ARM_KERNELS)
  const auto simd_row = half_vectors_neon::f16_to_f32_row;
#else
  GTEST_SKIP() << "no SIMD conversion in this build";
  const auto simd_row = half_vectors_scalar::f16_to_f32_row;
#endif
  std::vector<uint16_t> all(65536 + 5);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> scalar(all.size()), simd(all.size());
  half_vectors_scalar::f16_to_f32_row(all.data(), scalar.data(), static_cast<int64_t>(all.size()));
  simd_row(all.data(), simd.data(), static_cast<int64_t>(all.size()));
  for (size_t i = 0; i < all.size(); ++i) {
    if (std::isnan(scalar[i])) EXPECT_TRUE(std::isnan(simd[i])) << i;
    else EXPECT_EQ(std::bit_cast<uint32_t>(simd[i]), std::bit_cast<uint32_t>(scalar[i])) << i;
  }
}

// The kernels' lane counts are what the drivers assume: 1, 8 and 16 lanes.
TEST(QuantLanes, LaneCounts) {
  EXPECT_EQ(lane_kernels_scalar().lanes, 1);
#ifdef LP_X86_KERNELS
  EXPECT_EQ(lane_kernels_avx2().lanes, 8);
  EXPECT_EQ(lane_kernels_avx512().lanes, 16);
#endif
}

}  // namespace
}  // namespace lp
