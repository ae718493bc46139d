// Block quantizers and dequantizers: error bounds, importance weighting, and layouts
// checked by hand. Bit-exact agreement with gguf-py's dequantizers is checked in
// tests/python/test_quant_blocks.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/float_convert.h"
#include "core/ggml_types.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

std::vector<GgmlType> quantized_types() {
  return {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K,
          GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_K};
}

std::vector<float> round_trip(GgmlType type, const std::vector<float>& x, const float* importance = nullptr,
                              int64_t row = 0) {
  const auto& t = ggml_type_traits(type);
  const int64_t n = row > 0 ? row : static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(*ggml_row_bytes(type, n));
  std::vector<float> y(x.size());
  for (size_t r = 0; r < x.size() / n; ++r) {
    t.quantize(x.data() + r * n, q.data(), n, importance);
    t.dequantize(q.data(), y.data() + r * n, n);
  }
  return y;
}

double weighted_squared_error(const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& w) {
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) e += w[i % w.size()] * (x[i] - y[i]) * (x[i] - y[i]);
  return e;
}

// llama.cpp's test-quantize-fns data and acceptance bounds (sqrt(sum of squares) / n).
TEST(QuantBlocks, ErrorWithinLlamaCppAcceptanceBounds) {
  const size_t n = 32 * 128;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 0.1f + 2.0f * std::cos(static_cast<float>(i));
  for (const auto type : quantized_types()) {
    const auto y = round_trip(type, x);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += (x[i] - y[i]) * (x[i] - y[i]);
    const double error = std::sqrt(sum) / n;
    const double bound = type == GgmlType::Q2_K ? 0.0075 : type == GgmlType::Q3_K ? 0.0040 : 0.002;
    EXPECT_LT(error, bound) << ggml_type_traits(type).name;
  }
}

TEST(QuantBlocks, MoreBitsLessError) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(256 * 64);
  for (auto& v : x) v = normal(rng);
  auto mse = [&](GgmlType t) {
    const auto y = round_trip(t, x);
    return weighted_squared_error(x, y, {1.0f});
  };
  EXPECT_LT(mse(GgmlType::Q3_K), mse(GgmlType::Q2_K));
  EXPECT_LT(mse(GgmlType::Q4_K), mse(GgmlType::Q3_K));
  EXPECT_LT(mse(GgmlType::Q5_K), mse(GgmlType::Q4_K));
  EXPECT_LT(mse(GgmlType::Q6_K), mse(GgmlType::Q5_K));
  EXPECT_LT(mse(GgmlType::Q8_0), mse(GgmlType::Q6_K));
  EXPECT_LT(mse(GgmlType::Q5_0), mse(GgmlType::Q4_0));
  EXPECT_LT(mse(GgmlType::Q5_1), mse(GgmlType::Q4_1));
}

// Quantizing with importance weights must lower the importance-weighted error.
TEST(QuantBlocks, ImportanceWeightsLowerWeightedError) {
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::gamma_distribution<float> gamma(0.5f, 2.0f);  // heavy-tailed, like activation statistics
  const int64_t row = 1024;
  std::vector<float> x(row * 32), importance(row);
  for (auto& v : x) v = normal(rng);
  for (auto& v : importance) v = gamma(rng);
  for (const auto type : quantized_types()) {
    if (type == GgmlType::Q8_K) continue;  // activations: no importance
    const double plain = weighted_squared_error(x, round_trip(type, x, nullptr, row), importance);
    const double weighted = weighted_squared_error(x, round_trip(type, x, importance.data(), row), importance);
    EXPECT_LT(weighted, plain * 0.98) << ggml_type_traits(type).name;
  }
}

TEST(QuantBlocks, ZerosAndConstantsAreExact) {
  for (const auto type : quantized_types()) {
    const std::vector<float> zeros(256, 0.0f);
    EXPECT_EQ(round_trip(type, zeros), zeros) << ggml_type_traits(type).name;
  }
  // A block of one value: the symmetric types hit it up to fp16 rounding of the scale.
  const std::vector<float> ones(256, 1.0f);
  for (const auto type : quantized_types()) {
    for (const float y : round_trip(type, ones)) EXPECT_NEAR(y, 1.0f, 1e-3f) << ggml_type_traits(type).name;
  }
}

TEST(QuantBlocks, FloatTypesRoundTrip) {
  const std::vector<float> x = {1.0f, -2.5f, 65504.0f, 1e-8f, 0.333f};
  EXPECT_EQ(round_trip(GgmlType::F32, x), x);
  const auto h = round_trip(GgmlType::F16, x);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(h[i], f16_to_f32(f32_to_f16(x[i])));
  const auto b = round_trip(GgmlType::BF16, x);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(b[i], bf16_to_f32(f32_to_bf16(x[i])));
}

// Layouts checked by hand against ggml-common.h.
TEST(QuantBlocks, Q4_0LayoutByHand) {
  BlockQ4_0 b{};
  b.d = f32_to_f16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  ggml_type_traits(GgmlType::Q4_0).dequantize(reinterpret_cast<const uint8_t*>(&b), y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * (j - 8));          // low nibbles: first half
    EXPECT_EQ(y[j + 16], 0.5f * (15 - j - 8)); // high nibbles: second half
  }
}

TEST(QuantBlocks, Q4_KLayoutByHand) {
  BlockQ4_K b{};
  b.d = f32_to_f16(1.0f);
  b.dmin = f32_to_f16(0.25f);
  const uint8_t scales[8] = {1, 2, 3, 4, 40, 50, 60, 63};
  const uint8_t mins[8] = {0, 1, 2, 3, 33, 44, 55, 62};
  pack_scale_min_k4(scales, mins, b.scales);
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    unpack_scale_min_k4(j, b.scales, s, m);
    EXPECT_EQ(s, scales[j]);
    EXPECT_EQ(m, mins[j]);
  }
  b.qs[32] = 0x5A;  // value 64 (sub-block 2, low nibble 0xA) and value 96 (sub-block 3, high nibble 0x5)
  float y[256];
  ggml_type_traits(GgmlType::Q4_K).dequantize(reinterpret_cast<const uint8_t*>(&b), y, 256);
  EXPECT_EQ(y[64], 3.0f * 10 - 0.25f * 2);
  EXPECT_EQ(y[96], 4.0f * 5 - 0.25f * 3);
  EXPECT_EQ(y[0], 0.0f);
}

TEST(QuantBlocks, Q3_KScalePackingRoundTrips) {
  int8_t scales[16], back[16];
  for (int j = 0; j < 16; ++j) scales[j] = static_cast<int8_t>(j * 4 - 32);
  uint8_t packed[12];
  pack_scales_q3_k(scales, packed);
  unpack_scales_q3_k(packed, back);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(back[j], scales[j]);
}

TEST(QuantBlocks, Q8_KBlockSums) {
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = std::sin(0.1f * i);
  BlockQ8_K b;
  ggml_type_traits(GgmlType::Q8_K).quantize(x.data(), reinterpret_cast<uint8_t*>(&b), 256, nullptr);
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int j = 0; j < 16; ++j) sum += b.qs[16 * g + j];
    EXPECT_EQ(b.bsums[g], sum);
  }
}

}  // namespace
}  // namespace lp
