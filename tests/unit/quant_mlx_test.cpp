// MLX affine quantization (quant/mlx_affine.h): the algorithm on hand-checked groups, the
// bitstream layout, and the engine's repacked blocks and their dot products against the
// plain float arithmetic. tests/python/test_mlx.py checks the bytes against mlx itself.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/float_convert.h"
#include "kernels/activation_quant.h"
#include "kernels/kernel_table.h"
#include "quant/mlx_affine.h"

namespace lp {
namespace {

struct Quantized {
  std::vector<uint8_t> packed;
  std::vector<float> scales, biases;
};

Quantized quantize(const std::vector<float>& w, MlxAffineSpec spec) {
  const auto n = static_cast<int64_t>(w.size());
  Quantized q{std::vector<uint8_t>(mlx_packed_row_bytes(n, spec.bits)), std::vector<float>(n / spec.group_size),
              std::vector<float>(n / spec.group_size)};
  mlx_affine_quantize_row(w.data(), n, spec, q.packed.data(), q.scales.data(), q.biases.data());
  return q;
}

// A group from -1 to 3: the larger magnitude (3) is the edge, level 0; the scale is negative
// and nudged so that 0.0 lands on level 11 exactly.
TEST(QuantMlx, EdgeAndZeroAreLevelsByHand) {
  std::vector<float> w(32);
  for (int j = 0; j < 32; ++j) w[j] = -1.0f + 4.0f * static_cast<float>(j) / 31.0f;
  w[7] = 0.0f;
  const auto q = quantize(w, {4, 32});
  EXPECT_EQ(q.biases[0], 3.0f);
  EXPECT_FLOAT_EQ(q.scales[0], 3.0f / -11.0f);
  EXPECT_EQ(mlx_level(q.packed.data(), 4, 31), 0u);   // the edge
  EXPECT_EQ(mlx_level(q.packed.data(), 4, 7), 11u);   // zero
  EXPECT_EQ(mlx_level(q.packed.data(), 4, 0), 15u);   // -1 rounds to 14.67 -> 15
  std::vector<float> back(32);
  mlx_affine_dequantize_row(q.packed.data(), q.scales.data(), q.biases.data(), 32, {4, 32}, back.data());
  EXPECT_EQ(back[31], 3.0f);
  EXPECT_NEAR(back[7], 0.0f, 1e-6f);
}

// A constant group has max - min = 0: the scale floors at 1e-7 and every value is level 0
// plus a bias equal to the value.
TEST(QuantMlx, ConstantGroupUsesTheFloorScale) {
  const auto q = quantize(std::vector<float>(64, 0.25f), {3, 64});
  EXPECT_EQ(q.biases[0], 0.25f);
  for (int j = 0; j < 64; ++j) EXPECT_EQ(mlx_level(q.packed.data(), 3, j), 0u) << j;
  const auto zero = quantize(std::vector<float>(32, 0.0f), {8, 32});
  EXPECT_EQ(zero.biases[0], 0.0f);
  EXPECT_FLOAT_EQ(std::abs(zero.scales[0]), 1e-7f);
}

// Value i occupies bits [b*i, b*i + b) of the row, least significant first (MLX's
// pack_and_quantize / extract_bits): for 3 bits, levels 1..7,0 are the 24-bit number below.
TEST(QuantMlx, LevelsAreALittleEndianBitstream) {
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>((i + 1) % 8) << (3 * i);
  const uint8_t packed[3] = {static_cast<uint8_t>(bits), static_cast<uint8_t>(bits >> 8), static_cast<uint8_t>(bits >> 16)};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(mlx_level(packed, 3, i), static_cast<uint32_t>((i + 1) % 8)) << i;
  EXPECT_EQ(packed[0], 0xD1);  // levels 1 (bits 0-2), 2 (3-5) and the low 2 bits of 3
  const uint8_t six[3] = {0xFF, 0x00, 0xFC};  // 6 bits: 63, 3, 0, 63
  EXPECT_EQ(mlx_level(six, 6, 0), 63u);
  EXPECT_EQ(mlx_level(six, 6, 1), 3u);
  EXPECT_EQ(mlx_level(six, 6, 2), 0u);
  EXPECT_EQ(mlx_level(six, 6, 3), 63u);
}

TEST(QuantMlx, SpecsOutsideMlxAreRefused) {
  EXPECT_FALSE(mlx_spec_problem({4, 64}));
  EXPECT_TRUE(mlx_spec_problem({7, 64}));
  EXPECT_TRUE(mlx_spec_problem({4, 16}));
  EXPECT_TRUE(mlx_spec_problem({1, 32}));
}

std::vector<float> random_row(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(n));
  for (auto& v : w) v = d(rng);
  return w;
}

// Every width and group size: the repacked blocks dequantize to exactly what the MLX
// arithmetic gives, and their kernel's dot product with 8-bit activations equals the float
// dot of the dequantized weights with the dequantized activations.
TEST(QuantMlx, RepackedBlocksDequantizeAndDotExactly) {
  const int64_t n = 256;
  for (const int bits : {2, 3, 4, 5, 6, 8}) {
    for (const int group : {32, 64, 128}) {
      const MlxAffineSpec spec{bits, group};
      const auto w = random_row(n, static_cast<uint32_t>(bits * 1000 + group));
      auto q = quantize(w, spec);
      // Scales and biases as an fp16 checkpoint stores them.
      for (auto* v : {&q.scales, &q.biases})
        for (auto& x : *v) x = f16_to_f32(f32_to_f16(x));
      std::vector<float> expected(n);
      mlx_affine_dequantize_row(q.packed.data(), q.scales.data(), q.biases.data(), n, spec, expected.data());
      const GgmlType chosen = mlx_repack_type(spec, q.scales.data(), q.biases.data(), n / group);
      EXPECT_EQ(chosen, bits <= 4 ? GgmlType::Q4_1 : bits == 5 ? GgmlType::Q5_1 : GgmlType::MLX_U8);
      std::vector<float> x = random_row(n, 99);
      std::vector<uint8_t> act(activation_row_bytes(*find_weight_kernels(GgmlType::Q4_1), n));
      quantize_activations_q8_1(x.data(), act.data(), n);
      std::vector<float> xq(n);
      dequantize_activations_q8_1(act.data(), xq.data(), n);
      for (const GgmlType type : {chosen, GgmlType::MLX_U8}) {
        std::vector<uint8_t> blocks(*ggml_row_bytes(type, n));
        mlx_repack_row(q.packed.data(), q.scales.data(), q.biases.data(), n, spec, type, blocks.data());
        std::vector<float> got(n);
        ggml_type_traits(type).dequantize(blocks.data(), got.data(), n);
        EXPECT_EQ(got, expected) << bits << " bits, group " << group << ", " << ggml_type_traits(type).name;
        double reference = 0.0;
        for (int64_t i = 0; i < n; ++i) reference += static_cast<double>(expected[i]) * xq[i];
        const WeightKernels* k = find_weight_kernels(type);
        ASSERT_NE(k, nullptr);
        EXPECT_EQ(k->activation, GgmlType::Q8_1);
        // The activation block's s = d * sum(q) is stored in fp16: that rounding is the only difference.
        EXPECT_NEAR(k->vec_dot(n, blocks.data(), act.data()), reference, 2e-4 * (1.0 + std::abs(reference)))
            << bits << " bits, group " << group << ", " << ggml_type_traits(type).name;
      }
    }
  }
}

// A scale fp16 cannot hold (a bf16 checkpoint's tiny groups) keeps the exact MLX_U8 blocks.
TEST(QuantMlx, ScalesFp16CannotHoldStayInMlxBlocks) {
  const float scales[2] = {0.009765625f, 1e-7f}, biases[2] = {0.0f, 0.0f};
  EXPECT_EQ(mlx_repack_type({4, 64}, scales, biases, 2), GgmlType::MLX_U8);
  EXPECT_EQ(mlx_repack_type({3, 64}, scales, biases, 1), GgmlType::Q4_1);
  EXPECT_EQ(mlx_repack_type({6, 64}, scales, biases, 1), GgmlType::MLX_U8);
  EXPECT_EQ(mlx_repack_type({4, 64}, scales, biases, 1), GgmlType::Q4_1);
  EXPECT_FALSE(is_engine_only_type(GgmlType::Q4_1));
  EXPECT_TRUE(is_engine_only_type(GgmlType::MLX_U8));
  EXPECT_EQ(find_ggml_type(static_cast<uint32_t>(GgmlType::MLX_U8)), nullptr) << "never a GGUF type";
}

}  // namespace
}  // namespace lp
