// Attention's key-tile transposes (kernels/key_transpose.h): the AVX2 versions against the
// scalar reference on tile sizes and widths around their 8 x 8 blocks, F32 and F16 keys.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/float_convert.h"
#include "kernels/kernel_table.h"
#include "kernels/key_transpose.h"

namespace lp {
namespace {

TEST(KeyTranspose, EveryVersionEqualsTheScalarReference) {
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (int64_t n : {1, 7, 8, 13, 64}) {
    for (int64_t width : {8, 12, 64, 128}) {
      const int64_t stride = width + 24;  // rows of a larger cache row (several heads)
      std::vector<float> keys(static_cast<size_t>(n * stride));
      std::vector<uint16_t> halves(keys.size());
      for (size_t i = 0; i < keys.size(); ++i) {
        halves[i] = f32_to_f16(g(rng));
        keys[i] = f16_to_f32(halves[i]);
      }
      std::vector<float> reference(static_cast<size_t>(width * kKeyTile), -1.0f);
      key_transpose_scalar::transpose_keys_f32(keys.data(), stride, n, width, reference.data());
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t d = 0; d < width; ++d) ASSERT_EQ(reference[d * kKeyTile + j], keys[j * stride + d]);
      }
      for (int64_t d = 0; d < width; ++d) {
        for (int64_t j = n; j < kKeyTile; ++j) ASSERT_EQ(reference[d * kKeyTile + j], -1.0f);  // left as they were
      }
      std::vector<float> out(reference.size(), -1.0f);
      key_transpose_scalar::transpose_keys_f16(halves.data(), stride, n, width, out.data());
      EXPECT_EQ(out, reference) << "scalar f16, n " << n << " width " << width;
#if defined(LP_X86_KERNELS)
      if (best_kernel_isa() >= KernelIsa::Avx2) {
        std::fill(out.begin(), out.end(), -1.0f);
        key_transpose_avx2::transpose_keys_f32(keys.data(), stride, n, width, out.data());
        EXPECT_EQ(out, reference) << "avx2 f32, n " << n << " width " << width;
        std::fill(out.begin(), out.end(), -1.0f);
        key_transpose_avx2::transpose_keys_f16(halves.data(), stride, n, width, out.data());
        EXPECT_EQ(out, reference) << "avx2 f16, n " << n << " width " << width;
      }
#endif
    }
  }
}

}  // namespace
}  // namespace lp
