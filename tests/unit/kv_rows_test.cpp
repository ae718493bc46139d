// The KV cache's row formats (kernels/kv_rows.h): names, the Q4_0 quantizer against a
// hand-checked block, round trips, and the AVX2 conversions against the scalar reference.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/float_convert.h"
#include "kernels/kernel_table.h"
#include "kernels/kv_rows.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

TEST(KvRows, NamesAreLlamaCppsCacheTypes) {
  EXPECT_EQ(kv_cache_type_from_name("q8_0"), GgmlType::Q8_0);
  EXPECT_EQ(kv_cache_type_from_name("q4_0"), GgmlType::Q4_0);
  EXPECT_EQ(kv_cache_type_from_name("f16"), GgmlType::F16);
  EXPECT_EQ(kv_cache_type_from_name("f32"), GgmlType::F32);
  EXPECT_FALSE(kv_cache_type_from_name("q5_0"));
  EXPECT_FALSE(kv_cache_type_from_name("q4_k"));
  for (const std::string& name : kv_cache_type_names()) EXPECT_EQ(kv_cache_type_name(*kv_cache_type_from_name(name)), name);
  EXPECT_NO_THROW(check_kv_cache_fits(GgmlType::Q4_0, 64, 128));
  EXPECT_NO_THROW(check_kv_cache_fits(GgmlType::F16, 80, 80));
  EXPECT_THROW(check_kv_cache_fits(GgmlType::Q8_0, 80, 80), InputError);
  EXPECT_THROW(check_kv_cache_fits(GgmlType::Q4_K, 256, 256), InputError);
}

// By hand: the value of largest magnitude is -4, so d = -4 / -8 = 0.5 and q = x / 0.5 + 8.5
// truncated, at most 15: -4 -> 0, 0 -> 8, 1 -> 10, 3.6 -> 15 (15.7), -1.2 -> 6 (6.1), 0.26 -> 9 (9.02).
TEST(KvRows, Q4_0IsGgmlsReferenceRounding) {
  std::vector<float> x(32, 0.0f);
  x[0] = -4.0f, x[1] = 1.0f, x[2] = 3.6f, x[16] = -1.2f, x[17] = 0.26f;
  BlockQ4_0 b;
  quantize_row_q4_0_nearest(x.data(), reinterpret_cast<uint8_t*>(&b), 32);
  EXPECT_EQ(f16_to_f32(b.d), 0.5f);
  EXPECT_EQ(b.qs[0], 0x60);  // low nibble x[0] -> 0, high nibble x[16] -> 6
  EXPECT_EQ(b.qs[1], 0x9A);  // x[1] -> 10, x[17] -> 9
  EXPECT_EQ(b.qs[2], 0x8F);  // x[2] -> 15, x[18] = 0 -> 8
  std::vector<float> back(32);
  kv_row_to_f32(GgmlType::Q4_0, reinterpret_cast<const uint8_t*>(&b), back.data(), 32);
  EXPECT_EQ(back[0], -4.0f);
  EXPECT_EQ(back[1], 1.0f);
  EXPECT_EQ(back[2], 3.5f);
  EXPECT_EQ(back[16], -1.0f);
  EXPECT_EQ(back[17], 0.5f);
}

// Every type round-trips within its step (f32 exactly), and the SIMD conversion back to float
// gives the scalar reference's bits.
TEST(KvRows, RoundTripsAndTheAvx2ConversionsEqualTheScalarOnes) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 2.0f);
  constexpr int64_t n = 32 * 9;
  std::vector<float> x(n), back(n), simd(n);
  for (auto& v : x) v = g(rng);
  for (const std::string& name : kv_cache_type_names()) {
    const GgmlType type = *kv_cache_type_from_name(name);
    std::vector<uint8_t> row(*ggml_row_bytes(type, n));
    kv_row_from_f32(type, x.data(), row.data(), n);
    kv_row_to_f32(type, row.data(), back.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      float amax = 0.0f;
      for (int64_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
      // Half a step of the type's grid (plus the scale's own float16 rounding).
      const float bound = type == GgmlType::F32 ? 0.0f
                          : type == GgmlType::F16 ? amax * 1e-3f
                          : type == GgmlType::Q8_0 ? amax / 127.0f * 0.51f + amax * 1e-3f
                                                   : amax / 8.0f * 1.01f;
      for (int64_t j = 0; j < 32; ++j) ASSERT_LE(std::fabs(back[b * 32 + j] - x[b * 32 + j]), bound) << name << " at " << b * 32 + j;
    }
#if defined(LP_X86_KERNELS)
    if (best_kernel_isa() >= KernelIsa::Avx2 && (type == GgmlType::Q8_0 || type == GgmlType::Q4_0)) {
      (type == GgmlType::Q8_0 ? kv_rows_avx2::q8_0_to_f32 : kv_rows_avx2::q4_0_to_f32)(row.data(), simd.data(), n);
      (type == GgmlType::Q8_0 ? kv_rows_scalar::q8_0_to_f32 : kv_rows_scalar::q4_0_to_f32)(row.data(), back.data(), n);
      EXPECT_EQ(std::memcmp(simd.data(), back.data(), n * sizeof(float)), 0) << name;
    }
#endif
  }
}

}  // namespace
}  // namespace lp
