// MXFP4 as a full type: the block scale and layout by hand, the quantizer's rules (exponent
// from amax, nearest level with ties to the lower index, ggml's wrap for tiny blocks), the round
// trip, every SIMD tile against the scalar reference on random blocks of every exponent range
// and row length, matmul with quantized and float32 activations, and the type in recipes.
// Bit-exact agreement with gguf-py's MXFP4 is checked in tests/python/test_quant_blocks.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "core/float_convert.h"
#include "core/ggml_types.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "quant/block_layouts.h"
#include "quant/recipes.h"

namespace lp {
namespace {

const GgmlTypeTraits& mxfp4() { return ggml_type_traits(GgmlType::MXFP4); }

std::vector<uint8_t> quantize(const std::vector<float>& x) {
  std::vector<uint8_t> q(*ggml_row_bytes(GgmlType::MXFP4, x.size()));
  mxfp4().quantize(x.data(), q.data(), static_cast<int64_t>(x.size()), nullptr);
  return q;
}

std::vector<float> dequantize(const std::vector<uint8_t>& q) {
  std::vector<float> y(q.size() / sizeof(BlockMXFP4) * kQK);
  mxfp4().dequantize(q.data(), y.data(), static_cast<int64_t>(y.size()));
  return y;
}

BlockMXFP4 block_at(const std::vector<uint8_t>& q, size_t i) {
  BlockMXFP4 b;
  std::memcpy(&b, q.data() + i * sizeof b, sizeof b);
  return b;
}

TEST(QuantMxfp4, TypeRowIsComplete) {
  EXPECT_EQ(mxfp4().block_size, 32u);
  EXPECT_EQ(mxfp4().block_bytes, 17u);
  EXPECT_NE(mxfp4().dequantize, nullptr);
  EXPECT_NE(mxfp4().quantize, nullptr);
  EXPECT_TRUE(is_weight_type(GgmlType::MXFP4));
}

// ggml_e8m0_to_fp32_half: 2^(e - 128) for every byte, the two smallest as subnormals and 255
// as 2^127 (not NaN).
TEST(QuantMxfp4, ScaleIsTwoToTheExponentMinus128) {
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(e8m0_to_fp32_half(static_cast<uint8_t>(e)), std::ldexp(1.0f, e - 128)) << e;
  }
  EXPECT_EQ(std::fpclassify(e8m0_to_fp32_half(0)), FP_SUBNORMAL);
  EXPECT_EQ(std::fpclassify(e8m0_to_fp32_half(1)), FP_SUBNORMAL);
  EXPECT_EQ(std::fpclassify(e8m0_to_fp32_half(2)), FP_NORMAL);
  EXPECT_EQ(e8m0_to_fp32_half(128), 1.0f);
  EXPECT_TRUE(std::isfinite(e8m0_to_fp32_half(255)));
}

TEST(QuantMxfp4, LayoutByHand) {
  BlockMXFP4 b{};
  b.e = 129;  // scale 2: value = 2 * doubled E2M1 level
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  std::vector<uint8_t> bytes(sizeof b);
  std::memcpy(bytes.data(), &b, sizeof b);
  EXPECT_EQ(bytes[0], 129);  // the exponent byte comes first
  const auto y = dequantize(bytes);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 2.0f * kMxfp4Values[j]) << j;             // low nibble: value j
    EXPECT_EQ(y[j + 16], 2.0f * kMxfp4Values[15 - j]) << j;   // high nibble: value j + 16
  }
  EXPECT_FALSE(std::signbit(y[8])) << "nibble 8 (-0) reads as +0, as in ggml";
}

// Every E2M1 value times a power of two is a level: such blocks round-trip exactly.
TEST(QuantMxfp4, RepresentableBlocksRoundTripExactly) {
  const float e2m1[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  for (const int power : {-120, -10, -1, 0, 3, 20, 100}) {
    std::vector<float> x(kQK);
    for (int j = 0; j < kQK; ++j) x[j] = std::ldexp((j % 2 ? -1.0f : 1.0f) * e2m1[j % 8], power);
    x[5] = std::ldexp(6.0f, power);  // amax 6 * 2^power: exponent power + 127, scale 2^(power - 1)
    const auto q = quantize(x);
    EXPECT_EQ(block_at(q, 0).e, power + 127) << power;
    EXPECT_EQ(dequantize(q), x) << power;
  }
}

TEST(QuantMxfp4, ZeroBlockIsExponentZero) {
  const auto q = quantize(std::vector<float>(2 * kQK, 0.0f));
  for (size_t i = 0; i < 2; ++i) {
    const BlockMXFP4 b = block_at(q, i);
    EXPECT_EQ(b.e, 0);
    for (const uint8_t byte : b.qs) EXPECT_EQ(byte, 0);
  }
}

// Halfway between two levels the lower index wins: 2.5 * d takes 2, not 3, and -2.5 * d
// takes -2 (index 10), not -3.
TEST(QuantMxfp4, TiesTakeTheFirstLevel) {
  std::vector<float> x(kQK, 0.0f);
  x[0] = 4.0f;    // exponent 127, scale 0.5
  x[1] = 1.25f;   // 2.5 * 0.5
  x[17] = -1.25f;
  x[2] = 0.25f;   // between 0 and 1: 0
  x[18] = -0.25f; // between 0 (index 0) and -1: index 0, never -0 (index 8)
  const BlockMXFP4 b = block_at(quantize(x), 0);
  EXPECT_EQ(b.e, 127);
  EXPECT_EQ(b.qs[1] & 0xF, 2);
  EXPECT_EQ(b.qs[1] >> 4, 10);
  EXPECT_EQ(b.qs[2] & 0xF, 0);
  EXPECT_EQ(b.qs[2] >> 4, 0);
}

// Blocks whose amax is under 2^-125 give ggml a negative exponent, which its cast to uint8_t
// wraps on x86 (232..255); such blocks read back as zeros there, and here.
TEST(QuantMxfp4, TinyBlocksWrapTheExponentAsGgmlDoes) {
  const std::pair<float, int> cases[] = {{std::ldexp(1.0f, -126), 255}, {std::ldexp(1.0f, -127), 254},
                                         {std::ldexp(1.0f, -149), 232}, {std::ldexp(1.0f, -125), 0}};
  for (const auto& [amax, e] : cases) {
    std::vector<float> x(kQK, 0.0f);
    x[3] = amax;
    const auto q = quantize(x);
    EXPECT_EQ(block_at(q, 0).e, e) << amax;
  }
  std::vector<float> x(kQK, 0.0f);
  x[3] = std::ldexp(1.0f, -130);
  for (const float v : dequantize(quantize(x))) EXPECT_EQ(v, 0.0f);
}

// Each value reads back as the level nearest to it at the block's scale (the quantizer's
// whole rule), and at most 4 d off (12 is the top level and amax < 16 d).
TEST(QuantMxfp4, RoundTripTakesTheNearestLevel) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kQK * 256);
  for (size_t i = 0; i < x.size(); ++i) x[i] = normal(rng) * std::ldexp(1.0f, static_cast<int>(i / kQK % 40) - 20);
  const auto q = quantize(x);
  const auto y = dequantize(q);
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = e8m0_to_fp32_half(block_at(q, i / kQK).e);
    for (const int8_t level : kMxfp4Values) {
      ASSERT_LE(std::fabs(x[i] - y[i]), std::fabs(x[i] - level * d)) << i;
    }
    ASSERT_LE(std::fabs(x[i] - y[i]), 4.0f * d) << i;
  }
}

std::vector<KernelIsa> runnable_isas() {
  std::vector<KernelIsa> isas;
  for (int i = 0; i < kKernelIsaCount; ++i)
    if (kernel_isa_runs(static_cast<KernelIsa>(i))) isas.push_back(static_cast<KernelIsa>(i));
  return isas;
}

// Random blocks: exponents around 1 (so products stay finite), every nibble, -0 included.
std::vector<uint8_t> random_blocks(int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> exponent(100, 150), byte(0, 255);
  std::vector<uint8_t> out(static_cast<size_t>(cols / kQK) * sizeof(BlockMXFP4));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i % sizeof(BlockMXFP4) == 0 ? exponent(rng) : byte(rng));
  return out;
}

TEST(QuantMxfp4, KernelsPairWithQ8_0) {
  const WeightKernels* k = find_weight_kernels(GgmlType::MXFP4);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->activation, GgmlType::Q8_0);
  EXPECT_EQ(k->interleaved, nullptr);
  const WeightMatrix w{GgmlType::MXFP4, 256, 64, 8 * 17, nullptr};
  EXPECT_EQ(interleaved_bytes(w), 0u) << "MXFP4 is used as plain rows";
}

// The scalar reference equals the dot product of the dequantized operands (in double, up to
// float rounding), and every SIMD tile equals the scalar reference for every token count.
TEST(QuantMxfp4, TilesEqualScalarReference) {
  const WeightKernels& k = *find_weight_kernels(GgmlType::MXFP4);
  for (const int64_t cols : {32, 64, 96, 160, 288, 1024, 2880}) {
    const auto weights = random_blocks(cols, 3 + static_cast<uint32_t>(cols));
    std::vector<float> w(static_cast<size_t>(cols));
    mxfp4().dequantize(weights.data(), w.data(), cols);
    const uint64_t stride = activation_row_bytes(k, cols);
    std::vector<uint8_t> acts(stride * kMaxTileTokens);
    std::vector<double> magnitude(kMaxTileTokens);
    std::mt19937 rng(static_cast<uint32_t>(cols));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int t = 0; t < kMaxTileTokens; ++t) {
      std::vector<float> x(static_cast<size_t>(cols));
      for (auto& v : x) v = normal(rng);
      k.quantize(x.data(), acts.data() + t * stride, cols);
      std::vector<float> a(static_cast<size_t>(cols));
      ggml_type_traits(GgmlType::Q8_0).dequantize(acts.data() + t * stride, a.data(), cols);
      double exact = 0.0;
      for (int64_t i = 0; i < cols; ++i) {
        exact += static_cast<double>(w[i]) * a[i];
        magnitude[t] += std::fabs(static_cast<double>(w[i]) * a[i]);
      }
      const float scalar = k.vec_dot(cols, weights.data(), acts.data() + t * stride);
      ASSERT_NEAR(scalar, exact, 2e-6 * magnitude[t]) << "cols " << cols << " t " << t;
    }
    for (const KernelIsa isa : runnable_isas()) {
      const DotTileFn tile = dot_tile_for(k, isa);
      if (isa != KernelIsa::Scalar) {
        EXPECT_NE(tile, k.tiles[0]) << "no " << kernel_isa_name(isa) << " kernel";
      }
      for (int tokens = 1; tokens <= kMaxTileTokens; ++tokens) {
        std::vector<float> out(static_cast<size_t>(tokens) * 2, -1.0f);
        tile(cols, weights.data(), acts.data(), stride, tokens, out.data(), 2);
        for (int t = 0; t < tokens; ++t) {
          const float scalar = k.vec_dot(cols, weights.data(), acts.data() + t * stride);
          ASSERT_NEAR(out[t * 2], scalar, 2e-6 * magnitude[t])
              << kernel_isa_name(isa) << " cols " << cols << " tokens " << tokens << " t " << t;
        }
      }
    }
  }
}

// matmul on MXFP4 weights: quantized activations give the scalar reference per row; float32
// activations give the product with the dequantized weights.
TEST(QuantMxfp4, MatmulWithQuantizedAndFloatActivations) {
  ThreadPool pool(2);
  const int64_t cols = 320, rows = 19, n_tokens = 5;
  const uint64_t row_bytes = *ggml_row_bytes(GgmlType::MXFP4, cols);
  const auto bytes = random_blocks(cols * rows, 77);
  const WeightMatrix w{GgmlType::MXFP4, cols, rows, row_bytes, bytes.data()};
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(cols * n_tokens));
  for (auto& v : x) v = normal(rng);
  std::vector<float> dequantized(static_cast<size_t>(cols * rows));
  mxfp4().dequantize(bytes.data(), dequantized.data(), cols * rows);
  const WeightKernels& k = *find_weight_kernels(GgmlType::MXFP4);
  for (const KernelIsa isa : runnable_isas()) {
    set_kernel_isa(isa);
    std::vector<float> y_quantized(static_cast<size_t>(rows * n_tokens)), y_float(y_quantized.size());
    matmul(w, x.data(), n_tokens, y_quantized.data(), pool, ActivationPrecision::quantized);
    matmul(w, x.data(), n_tokens, y_float.data(), pool, ActivationPrecision::float32);
    for (int64_t t = 0; t < n_tokens; ++t) {
      std::vector<uint8_t> act(activation_row_bytes(k, cols));
      k.quantize(x.data() + t * cols, act.data(), cols);
      for (int64_t r = 0; r < rows; ++r) {
        double exact = 0.0, magnitude = 0.0;
        for (int64_t i = 0; i < cols; ++i) {
          const double p = static_cast<double>(dequantized[r * cols + i]) * x[t * cols + i];
          exact += p;
          magnitude += std::fabs(p);
        }
        const float reference = k.vec_dot(cols, w.row(r), act.data());
        const size_t at = static_cast<size_t>(t * rows + r);
        if (isa == KernelIsa::Scalar) {
          EXPECT_EQ(y_quantized[at], reference);
        }
        EXPECT_NEAR(y_quantized[at], reference, 2e-6 * magnitude) << kernel_isa_name(isa);
        EXPECT_NEAR(y_float[at], exact, 2e-6 * magnitude) << kernel_isa_name(isa);
        // 8-bit activations: within a few percent of the float product's scale.
        EXPECT_NEAR(y_quantized[at], exact, 0.02 * magnitude) << kernel_isa_name(isa);
      }
    }
  }
  set_kernel_isa(best_kernel_isa());
}

// --tensor-type and recipe rules name MXFP4 like any other type; rows that are not whole
// 32-value blocks fall back to F16.
TEST(QuantMxfp4, RecipesAcceptTheType) {
  const auto recipe = parse_recipe(
      nlohmann::json::parse(R"({"name": "fp4", "base": "Q8_0", "rules": [{"tensor": "ffn_up", "type": "MXFP4"}]})"),
      "fp4.json");
  QuantOptions options;
  options.recipe = &recipe;
  options.tensor_types.emplace_back(NamePattern("ffn_gate", "test"), GgmlType::MXFP4);
  const std::vector<PlanInput> tensors = {{"blk.0.ffn_up.weight", {2880, 64}, GgmlType::F16},
                                          {"blk.0.ffn_gate.weight", {2880, 64}, GgmlType::F16},
                                          {"blk.0.ffn_down.weight", {64, 2880}, GgmlType::F16},
                                          {"blk.1.ffn_gate.weight", {40, 8}, GgmlType::F16}};
  const auto plan = plan_quantization(tensors, ModelShape{"llama", 2, 4, 4, 0, false}, options);
  ASSERT_EQ(plan.size(), 4u);
  for (const auto& t : plan) {
    if (t.name == "blk.1.ffn_gate.weight") {
      EXPECT_EQ(t.type, GgmlType::F16);
      EXPECT_TRUE(t.fell_back);
    } else if (t.name == "blk.0.ffn_down.weight") {
      EXPECT_EQ(t.type, GgmlType::Q8_0);
    } else {
      EXPECT_EQ(t.type, GgmlType::MXFP4) << t.name;
      EXPECT_EQ(t.n_bytes, 2880u / 32 * 17 * 64) << t.name;
    }
  }
}

}  // namespace
}  // namespace lp
