// Compute kernels: the scalar reference dot products against dequantized operands in
// double, every SIMD tile kernel against the scalar reference for every type and odd
// shapes, matmul against per-row dot products, and refusals of types with no kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/float_convert.h"
#include "core/ggml_types.h"
#include "core/thread_pool.h"
#include "kernels/activation_quant.h"
#include "kernels/kernel_table.h"
#include "kernels/kquant_scales.h"
#include "kernels/matmul.h"
#include "kernels/panel_gemm.h"
#include "quant/block_layouts.h"

namespace lp {
namespace {

const std::vector<GgmlType>& kernel_types() {
  static const std::vector<GgmlType> types = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                                              GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                              GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                              GgmlType::Q6_K, GgmlType::MXFP4, GgmlType::MLX_U8};
  return types;
}

const char* name_of(GgmlType type) { return ggml_type_traits(type).name.data(); }

// Values like a layer's: mostly normal, a few outliers that set block scales.
std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_int_distribution<int> pick(0, 63);
  std::vector<float> v(n);
  for (auto& x : v) x = normal(rng) * (pick(rng) == 0 ? 8.0f : 1.0f);
  return v;
}

// Values of one magnitude with random signs: every activation quantizes to +-127 and every
// weight to its type's extreme levels (Q8_0 +-127, Q4_0 -8 and 7, Q6_K 0 and 63 stored...),
// so that a kernel whose pairs of products overflow int16 (vpmaddubsw, the AVX2 stand-in for
// VNNI's vpdpbusd) gives wrong sums here, where random values would rarely reach that far.
std::vector<float> extreme_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1) != 0 ? scale : -scale;
  return v;
}

// One magnitude and (almost) one sign: every weight and activation of one sign except one value
// in 32, which keeps both signs in every block so the types with a minimum still use their
// whole range. Then nearly all products in a sum have the same sign, the worst case for the
// AVX2 kernels that add several vpmaddubsw results in int16 lanes before widening them: a
// sum that left int16 would show here. Positive values take Q4_K's and Q4_0's extreme levels
// (15, and -8 against activations 127), negative ones Q6_K's (63 stored, against -127).
std::vector<float> one_sign_values(size_t n, float sign, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (i % 32 == 7 ? -sign : sign) * scale;
  return v;
}
std::vector<float> positive_values(size_t n, uint32_t, float scale = 1.0f) { return one_sign_values(n, 1.0f, scale); }
std::vector<float> negative_values(size_t n, uint32_t, float scale = 1.0f) { return one_sign_values(n, -1.0f, scale); }

using ValuesFn = std::vector<float> (*)(size_t, uint32_t, float);

// Rows of `cols` values quantized to `type` with the tool's own quantizer.
std::vector<uint8_t> quantized_rows(GgmlType type, const std::vector<float>& values, int64_t cols) {
  const auto& traits = ggml_type_traits(type);
  const uint64_t row_bytes = *ggml_row_bytes(type, static_cast<uint64_t>(cols));
  const int64_t rows = static_cast<int64_t>(values.size()) / cols;
  std::vector<uint8_t> out(row_bytes * static_cast<uint64_t>(rows));
  for (int64_t r = 0; r < rows; ++r) traits.quantize(values.data() + r * cols, out.data() + r * row_bytes, cols, nullptr);
  return out;
}

// Rows of `tokens` activations (x holds them one after another) as `quantize` writes them,
// `stride` bytes apart: float32 bytes where it is nullptr (float weights).
std::vector<uint8_t> activation_rows(QuantizeActivationsFn quantize, const float* x, int64_t tokens, int64_t cols,
                                     uint64_t stride) {
  std::vector<uint8_t> out(stride * static_cast<uint64_t>(tokens));
  for (int64_t t = 0; t < tokens; ++t) {
    if (quantize) quantize(x + t * cols, out.data() + t * stride, cols);
    else std::memcpy(out.data() + t * stride, x + t * cols, stride);
  }
  return out;
}

// One activation row in the kernels' activation type, by the scalar reference quantizer.
std::vector<uint8_t> activation_row(const WeightKernels& kernels, const float* x, int64_t cols) {
  return activation_rows(kernels.quantize, x, 1, cols, activation_row_bytes(kernels, cols));
}

std::vector<float> dequantized_activations(const WeightKernels& kernels, const std::vector<uint8_t>& act, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(cols));
  switch (kernels.activation) {
    case GgmlType::F32: std::memcpy(out.data(), act.data(), out.size() * sizeof(float)); break;
    case GgmlType::Q8_1: dequantize_activations_q8_1(act.data(), out.data(), cols); break;
    default: ggml_type_traits(kernels.activation).dequantize(act.data(), out.data(), cols);
  }
  return out;
}

// What the dot product means, in double: dequantized weights times dequantized activations,
// plus (Q4_1, Q5_1, MLX_U8) the difference between the activation block's stored s and d * sum(q),
// which ggml uses for the offset term in place of the exact sum. Also returns the sum of
// the terms' magnitudes, the scale against which rounding is measured.
struct Reference {
  double value = 0.0;
  double magnitude = 0.0;
};

Reference reference_dot(GgmlType type, const WeightKernels& kernels, const uint8_t* weight_row,
                        const std::vector<uint8_t>& act, int64_t cols) {
  std::vector<float> w(static_cast<size_t>(cols));
  ggml_type_traits(type).dequantize(weight_row, w.data(), cols);
  const auto a = dequantized_activations(kernels, act, cols);
  Reference ref;
  for (int64_t i = 0; i < cols; ++i) {
    ref.value += static_cast<double>(w[i]) * a[i];
    ref.magnitude += std::fabs(static_cast<double>(w[i]) * a[i]);
  }
  if (kernels.activation == GgmlType::Q8_1) {
    const auto* blocks = reinterpret_cast<const BlockQ8_1*>(act.data());
    const uint64_t block_bytes = ggml_type_traits(type).block_bytes;
    for (int64_t b = 0; b < cols / kQK; ++b) {
      // The block's offset: Q4_1 and Q5_1 keep m (fp16) right after d; MLX_U8 its float bias after the scale.
      double m = 0.0;
      if (type == GgmlType::MLX_U8) {
        float bias;
        std::memcpy(&bias, weight_row + b * block_bytes + 4, sizeof bias);
        m = bias;
      } else {
        uint16_t m_bits;
        std::memcpy(&m_bits, weight_row + b * block_bytes + 2, sizeof m_bits);
        m = f16_to_f32(m_bits);
      }
      int sum = 0;
      for (int j = 0; j < kQK; ++j) sum += blocks[b].qs[j];
      const double d = f16_to_f32(blocks[b].d), s = f16_to_f32(blocks[b].s);
      ref.value += m * (s - d * sum);
      ref.magnitude += std::fabs(m * s);
    }
  }
  return ref;
}

TEST(KernelScalar, VecDotEqualsDequantizedOperandsInDouble) {
  const int64_t cols = 1024;
  for (const GgmlType type : kernel_types()) {
    const WeightKernels* kernels = find_weight_kernels(type);
    ASSERT_NE(kernels, nullptr) << name_of(type);
    for (uint32_t seed = 1; seed <= 4; ++seed) {
      const auto weights = quantized_rows(type, random_values(cols, seed, 0.05f), cols);
      const auto x = random_values(cols, 100 + seed);
      const auto act = activation_row(*kernels, x.data(), cols);
      const Reference ref = reference_dot(type, *kernels, weights.data(), act, cols);
      const float got = kernels->vec_dot(cols, weights.data(), act.data());
      // Float sums of exact integer block sums: a few float roundings of the total's scale.
      EXPECT_NEAR(got, ref.value, 2e-6 * ref.magnitude) << name_of(type) << " seed " << seed;
    }
  }
}

TEST(KernelScalar, ZeroActivationsGiveZero) {
  const int64_t cols = 512;
  const std::vector<float> zeros(cols, 0.0f);
  for (const GgmlType type : kernel_types()) {
    const WeightKernels* kernels = find_weight_kernels(type);
    const auto weights = quantized_rows(type, random_values(cols, 7), cols);
    const auto act = activation_row(*kernels, zeros.data(), cols);
    EXPECT_EQ(kernels->vec_dot(cols, weights.data(), act.data()), 0.0f) << name_of(type);
  }
}

TEST(KernelActivations, Q8KMatchesTheBlockQuantizer) {
  const int64_t n = 1024;
  const auto x = random_values(n, 3);
  std::vector<uint8_t> ours(*ggml_row_bytes(GgmlType::Q8_K, n)), quant(ours.size());
  quantize_activations_q8_k(x.data(), ours.data(), n);
  ggml_type_traits(GgmlType::Q8_K).quantize(x.data(), quant.data(), n, nullptr);
  EXPECT_EQ(ours, quant);
}

TEST(KernelActivations, Q8_0AndQ8_1RoundToNearestStep) {
  const int64_t n = 256;
  auto x = random_values(n, 4);
  x[5] = 0.0f;
  std::vector<uint8_t> q0(*ggml_row_bytes(GgmlType::Q8_0, n)), q1(*ggml_row_bytes(GgmlType::Q8_1, n));
  quantize_activations_q8_0(x.data(), q0.data(), n);
  quantize_activations_q8_1(x.data(), q1.data(), n);
  std::vector<float> y0(n), y1(n);
  ggml_type_traits(GgmlType::Q8_0).dequantize(q0.data(), y0.data(), n);
  dequantize_activations_q8_1(q1.data(), y1.data(), n);
  const auto* blocks = reinterpret_cast<const BlockQ8_1*>(q1.data());
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = f16_to_f32(blocks[b].d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      const int64_t i = b * kQK + j;
      // q is rounded against amax / 127 but read back with its fp16 rounding: up to
      // 127 * 2^-11 of a step more than half a step.
      EXPECT_LE(std::fabs(y0[i] - x[i]), 0.57f * d) << i;
      EXPECT_EQ(y0[i], y1[i]) << i;
      sum += blocks[b].qs[j];
    }
    EXPECT_NEAR(f16_to_f32(blocks[b].s), d * sum, std::fabs(d * sum) * 1e-3 + 1e-6);
  }
}

TEST(KernelScales, WordUnpackersEqualTheByteReference) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int trial = 0; trial < 1000; ++trial) {
    uint8_t packed[12];
    for (auto& b : packed) b = static_cast<uint8_t>(byte(rng));
    const ScaleMinWords words = unpack_scales_mins_k4_words(packed);
    uint8_t scales[8], mins[8];
    std::memcpy(scales, &words.scales_low, 4);
    std::memcpy(scales + 4, &words.scales_high, 4);
    std::memcpy(mins, &words.mins_low, 4);
    std::memcpy(mins + 4, &words.mins_high, 4);
    for (int j = 0; j < 8; ++j) {
      uint8_t s, m;
      unpack_scale_min_k4(j, packed, s, m);
      ASSERT_EQ(scales[j], s) << j;
      ASSERT_EQ(mins[j], m) << j;
    }
    int8_t fast[16], reference[16];
    std::memcpy(fast, unpack_scales_q3_k_words(packed).words, 16);
    unpack_scales_q3_k(packed, reference);
    for (int j = 0; j < 16; ++j) ASSERT_EQ(fast[j], reference[j]) << j;
  }
}

// Every instruction set this CPU runs, scalar first.
std::vector<KernelIsa> runnable_isas() {
  std::vector<KernelIsa> isas;
  for (int i = 0; i < kKernelIsaCount; ++i)
    if (kernel_isa_runs(static_cast<KernelIsa>(i))) isas.push_back(static_cast<KernelIsa>(i));
  return isas;
}

TEST(KernelSimd, TilesEqualScalarReferenceForEveryTypeAndTokenCount) {
  // 288 and 96: an odd number of 32-value blocks (kernels that take blocks in pairs); 93: a
  // float row with a tail after the last whole vector.
  for (const int64_t cols : {93, 96, 256, 288, 768, 2304}) {
    for (const GgmlType type : kernel_types()) {
      if (cols % ggml_type_traits(type).block_size != 0) continue;
      const WeightKernels* kernels = find_weight_kernels(type);
      const auto weights = quantized_rows(type, random_values(cols, 11 + static_cast<uint32_t>(cols), 0.05f), cols);
      const uint64_t stride = activation_row_bytes(*kernels, cols);
      std::vector<uint8_t> acts(stride * kMaxTileTokens);
      std::vector<Reference> refs;
      for (int t = 0; t < kMaxTileTokens; ++t) {
        const auto x = random_values(cols, 50 + t);
        const auto act = activation_row(*kernels, x.data(), cols);
        std::memcpy(acts.data() + t * stride, act.data(), stride);
        refs.push_back(reference_dot(type, *kernels, weights.data(), act, cols));
      }
      for (const KernelIsa isa : runnable_isas()) {
        const DotTileFn tile = dot_tile_for(*kernels, isa);
        if (isa != KernelIsa::Scalar) {
          EXPECT_NE(tile, kernels->tiles[0]) << name_of(type) << " has no " << kernel_isa_name(isa) << " kernel";
        }
        for (int tokens = 1; tokens <= kMaxTileTokens; ++tokens) {
          std::vector<float> out(static_cast<size_t>(tokens) * 3, -1.0f);
          tile(cols, weights.data(), acts.data(), stride, tokens, out.data(), 3);
          for (int t = 0; t < tokens; ++t) {
            const float scalar = kernels->vec_dot(cols, weights.data(), acts.data() + t * stride);
            EXPECT_NEAR(out[t * 3], scalar, 2e-6 * refs[t].magnitude)
                << name_of(type) << " " << kernel_isa_name(isa) << " cols " << cols << " tokens " << tokens << " t " << t;
          }
        }
      }
    }
  }
}

// The panel kernels (prefill) of every instruction set this CPU runs against the scalar
// reference for every panel height, token counts around the kernels' token groups (4 and 6
// for the K-quants, 4 and 8 for the 32-value types) and odd numbers of super-blocks.
// Counts the (type, set, width) panels checked in `panels_seen` (a void function: ASSERT_*).
void check_panels(std::initializer_list<int64_t> widths, ValuesFn values, int& panels_seen) {
  for (const int64_t cols : widths) {
    for (const GgmlType type : kernel_types()) {
      if (cols % ggml_type_traits(type).block_size != 0) continue;
      const WeightKernels* kernels = find_weight_kernels(type);
      for (const KernelIsa isa : runnable_isas()) {
        const PanelGemmFn panel = panel_for(*kernels, isa);
        if (panel == nullptr) continue;
        ++panels_seen;
        const int64_t rows = kPanelRows;
        const auto weights = quantized_rows(type, values(static_cast<size_t>(cols * rows), 60 + static_cast<uint32_t>(cols), 0.05f), cols);
        const uint64_t row_bytes = *ggml_row_bytes(type, static_cast<uint64_t>(cols));
        const uint64_t stride = activation_row_bytes(*kernels, cols);
        const int64_t max_tokens = 19;  // 13 and 19: remainders after whole token groups (6 or 8)
        std::vector<uint8_t> acts(stride * max_tokens);
        std::vector<float> xs;
        std::vector<double> magnitude(static_cast<size_t>(max_tokens * rows));
        for (int64_t t = 0; t < max_tokens; ++t) {
          const auto x = values(static_cast<size_t>(cols), 70 + static_cast<uint32_t>(t), 1.0f);
          xs.insert(xs.end(), x.begin(), x.end());
          const auto act = activation_row(*kernels, x.data(), cols);
          std::memcpy(acts.data() + t * stride, act.data(), stride);
          for (int64_t r = 0; r < rows; ++r)
            magnitude[static_cast<size_t>(t * rows + r)] = reference_dot(type, *kernels, weights.data() + r * row_bytes, act, cols).magnitude;
        }
        // The panel reads its own batch quantizer's rows (panel_gemm.h); the reference, the plain ones.
        const auto panel_acts =
            activation_rows(panel_quantizer_for(*kernels, isa), xs.data(), max_tokens, cols, stride);
        for (int n_rows = 1; n_rows <= kPanelRows; ++n_rows) {
          for (const int64_t n_tokens : {1, 4, 5, 6, 7, 8, 13, 19}) {
            const int64_t out_stride = 11;  // rows of the output are further apart than the panel is high
            std::vector<float> out(static_cast<size_t>(n_tokens * out_stride), -1.0f);
            panel(cols, weights.data(), row_bytes, n_rows, panel_acts.data(), stride, n_tokens, out.data(), out_stride);
            for (int64_t t = 0; t < n_tokens; ++t) {
              for (int64_t r = 0; r < out_stride; ++r) {
                const float got = out[static_cast<size_t>(t * out_stride + r)];
                if (r >= n_rows) {
                  ASSERT_EQ(got, -1.0f) << name_of(type) << " wrote past its rows: r " << r << " of " << n_rows;
                  continue;
                }
                const float scalar = kernels->vec_dot(cols, weights.data() + r * row_bytes, acts.data() + t * stride);
                ASSERT_NEAR(got, scalar, 2e-6 * magnitude[static_cast<size_t>(t * rows + r)])
                    << name_of(type) << " " << kernel_isa_name(isa) << " cols " << cols << " rows " << n_rows
                    << " tokens " << n_tokens << " t " << t << " r " << r;
              }
            }
          }
        }
      }
    }
  }
}

TEST(KernelSimd, PanelsEqualScalarReferenceForEveryRowAndTokenCount) {
  // 93: a float row whose length is not a multiple of the 8-column transpose.
  int panels_seen = 0;
  check_panels({93, 96, 256, 288, 768, 2304}, random_values, panels_seen);
  // F16 (6 widths), the 32-value types (5 each) and Q2_K..Q6_K (3 each) have AVX-512 panels;
  // AVX2 has the same but F16.
  const int avx2 = 5 * 5 + 3 * 5, avx512 = 6 + avx2;
  if (best_kernel_isa() == KernelIsa::Avx512) {
    EXPECT_EQ(panels_seen, avx2 + avx512);
  }
  if (best_kernel_isa() == KernelIsa::Avx2) {
    EXPECT_EQ(panels_seen, avx2);
  }
}

TEST(KernelSimd, PanelsEqualScalarReferenceAtTheExtremesOfLevelsAndActivations) {
  int panels_seen = 0;
  check_panels({256, 288}, extreme_values, panels_seen);
  if (best_kernel_isa() == KernelIsa::Avx2 || best_kernel_isa() == KernelIsa::Avx512) {
    EXPECT_GT(panels_seen, 0);
  }
}

TEST(KernelSimd, PanelsEqualScalarReferenceWhenEveryProductHasOneSign) {
  int panels_seen = 0;
  check_panels({256, 288}, positive_values, panels_seen);
  check_panels({256, 288}, negative_values, panels_seen);
  if (best_kernel_isa() == KernelIsa::Avx2 || best_kernel_isa() == KernelIsa::Avx512) {
    EXPECT_GT(panels_seen, 0);
  }
}

TEST(KernelSimd, ReportsTheInstructionSets) {
  std::printf("kernels: best %s, active %s\n", kernel_isa_name(best_kernel_isa()), kernel_isa_name(active_kernel_isa()));
  EXPECT_LE(active_kernel_isa(), best_kernel_isa());
}

TEST(KernelSimd, ForcingScalarSelectsTheReference) {
  const KernelIsa before = active_kernel_isa();
  set_kernel_isa(KernelIsa::Scalar);
  EXPECT_EQ(active_kernel_isa(), KernelIsa::Scalar);
  set_kernel_isa(KernelIsa::Avx512);
  EXPECT_EQ(active_kernel_isa(), best_kernel_isa());
  set_kernel_isa(before);
}

TEST(KernelSimd, QuantizersGiveTheScalarBytes) {
  const int64_t n = 1024;
  auto x = random_values(n, 9);
  // Exact ties for roundf: a block whose amax is 127 has d = 1, so x.5 values are halfway.
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) - 15.5f;
  x[31] = 127.0f;
  for (int j = 32; j < 64; ++j) x[j] = 0.0f;  // an all-zero block
  for (int j = 256; j < 512; ++j) x[j] = j == 300 ? -3.0f : (j == 400 ? 3.0f : 0.25f);  // Q8_K: first extreme wins
  for (const KernelIsa isa : runnable_isas()) {
    for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q4_K}) {
      const WeightKernels* kernels = find_weight_kernels(type);
      const QuantizeActivationsFn quantize = quantizer_for(*kernels, isa);
      if (isa != KernelIsa::Scalar) {
        EXPECT_NE(quantize, kernels->quantizers[0]) << kernel_isa_name(isa) << " has no SIMD quantizer";
      }
      std::vector<uint8_t> expected(activation_row_bytes(*kernels, n)), got(expected.size(), 0xAA);
      kernels->quantize(x.data(), expected.data(), n);
      quantize(x.data(), got.data(), n);
      EXPECT_EQ(got, expected) << ggml_type_traits(kernels->activation).name << " " << kernel_isa_name(isa);
    }
  }
}

// A panel's own batch quantizer (panel_gemm.h) writes the plain rows with every value made
// unsigned (a + 128, i.e. a ^ 0x80) and the blocks' d (and s) unchanged; kernels without one
// read the plain rows. Where the 32-value panels take their values so: with VNNI (AVX-512)
// all five types, on AVX2 all but Q8_0 (whose products there stay signed).
TEST(KernelSimd, PanelBatchQuantizersFlipThePlainValues) {
  const int64_t n = 256;
  const auto x = random_values(n, 12);
  int flipped_types = 0;
  for (const KernelIsa isa : runnable_isas()) {
    for (const GgmlType type : kernel_types()) {
      const WeightKernels& kernels = *find_weight_kernels(type);
      const QuantizeActivationsFn plain = quantizer_for(kernels, isa), batch = panel_quantizer_for(kernels, isa);
      if (batch == plain) continue;
      ++flipped_types;
      const bool q8_1 = kernels.activation == GgmlType::Q8_1;
      ASSERT_TRUE(q8_1 || kernels.activation == GgmlType::Q8_0) << name_of(type);
      std::vector<uint8_t> expected(activation_row_bytes(kernels, n)), got(expected.size());
      plain(x.data(), expected.data(), n);
      batch(x.data(), got.data(), n);
      const size_t block = q8_1 ? sizeof(BlockQ8_1) : sizeof(BlockQ8_0), values_at = block - 32;
      for (size_t i = 0; i < expected.size(); ++i)
        if (i % block >= values_at) expected[i] ^= 0x80;
      EXPECT_EQ(got, expected) << name_of(type) << " " << kernel_isa_name(isa);
      const InterleavedFormat* format = kernels.interleaved;
      if (format != nullptr && interleaved_gemm_for(kernels, isa) != format->scalar) {
        EXPECT_EQ(interleaved_quantizer_for(kernels, isa, kPanelMinTokens), batch) << name_of(type) << " batches";
        EXPECT_EQ(interleaved_quantizer_for(kernels, isa, kPanelMinTokens - 1), plain) << name_of(type) << " decode";
      }
    }
  }
  if (best_kernel_isa() == KernelIsa::Avx512) EXPECT_EQ(flipped_types, 5 + 4) << "AVX-512: five types, AVX2: four";
}

// matmul over the pool against one scalar dot product per (token, row), for odd shapes.
void check_matmul(GgmlType type, int64_t cols, int64_t rows, int64_t n_tokens, ThreadPool& pool, KernelIsa isa) {
  const WeightKernels* kernels = find_weight_kernels(type);
  const auto bytes = quantized_rows(type, random_values(static_cast<size_t>(cols * rows), 21, 0.05f), cols);
  const WeightMatrix w{type, cols, rows, *ggml_row_bytes(type, static_cast<uint64_t>(cols)), bytes.data()};
  const auto x = random_values(static_cast<size_t>(cols * n_tokens), 22);
  std::vector<float> y(static_cast<size_t>(rows * n_tokens), -7.0f);
  set_kernel_isa(isa);
  matmul(w, x.data(), n_tokens, y.data(), pool);
  set_kernel_isa(best_kernel_isa());
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto act = activation_row(*kernels, x.data() + t * cols, cols);
    for (int64_t r = 0; r < rows; ++r) {
      const Reference ref = reference_dot(type, *kernels, w.row(r), act, cols);
      const float expected = kernels->vec_dot(cols, w.row(r), act.data());
      const float got = y[static_cast<size_t>(t * rows + r)];
      if (isa == KernelIsa::Scalar) {
        ASSERT_EQ(got, expected) << name_of(type) << " t " << t << " r " << r;
      } else {
        ASSERT_NEAR(got, expected, 2e-6 * ref.magnitude) << name_of(type) << " " << kernel_isa_name(isa) << " t " << t << " r " << r;
      }
    }
  }
}

TEST(KernelMatmul, EqualsPerRowDotProductsForOddShapes) {
  ThreadPool pool(3);
  for (const KernelIsa isa : runnable_isas()) {
    for (const GgmlType type : kernel_types()) {
      // 17 and 40 tokens take the panel kernels where the type has them (kPanelMinTokens).
      for (const int64_t n_tokens : {1, 3, 4, 5, 17, 40}) check_matmul(type, 512, 37, n_tokens, pool, isa);
    }
  }
}

TEST(KernelMatmul, SingleThreadAndFewRows) {
  ThreadPool pool(1);
  check_matmul(GgmlType::Q4_K, 256, 1, 2, pool, best_kernel_isa());
  check_matmul(GgmlType::Q8_0, 64, 3, 9, pool, best_kernel_isa());
  ThreadPool wide(4);
  check_matmul(GgmlType::F16, 96, 2, 1, wide, best_kernel_isa());
}

TEST(KernelMatmul, F32IsAccurateToFloatRounding) {
  ThreadPool pool(2);
  const int64_t cols = 4096, rows = 8;
  const auto weights = random_values(static_cast<size_t>(cols * rows), 31);
  const auto x = random_values(static_cast<size_t>(cols), 32);
  const WeightMatrix w{GgmlType::F32, cols, rows, static_cast<uint64_t>(cols) * 4,
                       reinterpret_cast<const uint8_t*>(weights.data())};
  std::vector<float> y(rows);
  matmul(w, x.data(), 1, y.data(), pool);
  for (int64_t r = 0; r < rows; ++r) {
    double exact = 0.0, magnitude = 0.0;
    for (int64_t i = 0; i < cols; ++i) {
      exact += static_cast<double>(weights[r * cols + i]) * x[i];
      magnitude += std::fabs(static_cast<double>(weights[r * cols + i]) * x[i]);
    }
    EXPECT_NEAR(y[r], exact, 1e-6 * magnitude + 1e-6 * std::fabs(exact)) << r;
  }
}

TEST(KernelMatmul, SameInputEqualsSeparateCalls) {
  ThreadPool pool(3);
  const int64_t cols = 512;
  const std::vector<std::pair<GgmlType, int64_t>> shapes = {
      {GgmlType::Q4_K, 40}, {GgmlType::Q8_0, 7}, {GgmlType::F32, 3}, {GgmlType::Q4_1, 300}, {GgmlType::Q6_K, 1},
      // MXFP4 reads plain Q8_0 rows where the Q8_0 panel (VNNI) reads its own: one input, two quantizers.
      {GgmlType::MXFP4, 9}};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<WeightMatrix> weights;
  for (const auto& [type, rows] : shapes) {
    bytes.push_back(quantized_rows(type, random_values(static_cast<size_t>(cols * rows), 40 + static_cast<uint32_t>(rows), 0.05f), cols));
    weights.push_back(WeightMatrix{type, cols, rows, *ggml_row_bytes(type, cols), bytes.back().data()});
  }
  for (const int64_t n_tokens : {int64_t{1}, int64_t{5}, kPanelMinTokens + 1}) {
    const auto x = random_values(static_cast<size_t>(cols * n_tokens), 41);
    std::vector<std::vector<float>> together(weights.size()), separate(weights.size());
    std::vector<MatmulOutput> outputs;
    for (size_t i = 0; i < weights.size(); ++i) {
      together[i].assign(static_cast<size_t>(weights[i].rows * n_tokens), -1.0f);
      separate[i].assign(together[i].size(), -2.0f);
      outputs.push_back({&weights[i], together[i].data()});
      matmul(weights[i], x.data(), n_tokens, separate[i].data(), pool);
    }
    matmul_same_input(outputs, x.data(), n_tokens, pool);
    for (size_t i = 0; i < weights.size(); ++i) EXPECT_EQ(together[i], separate[i]) << name_of(weights[i].type);
  }
  const WeightMatrix narrow{GgmlType::F32, 256, 1, 1024, bytes[0].data()};
  const std::vector<float> x(512);
  std::vector<float> y0(40), y1(1);
  const std::vector<MatmulOutput> mismatched = {{&weights[0], y0.data()}, {&narrow, y1.data()}};
  EXPECT_THROW(matmul_same_input(mismatched, x.data(), 1, pool), InputError);
}

// Products with inputs of their own (a mixture's down projections), some inputs shared, in
// one pass: each equals its own matmul, for plain and interleaved weights.
TEST(KernelMatmul, TasksEqualSeparateCalls) {
  ThreadPool pool(3);
  const std::vector<std::tuple<GgmlType, int64_t, int64_t>> shapes = {
      {GgmlType::Q4_K, 256, 40}, {GgmlType::Q8_0, 64, 16}, {GgmlType::Q4_K, 256, 8}, {GgmlType::F32, 96, 3},
      {GgmlType::MXFP4, 128, 9}};
  std::vector<std::vector<uint8_t>> bytes, copies;
  std::vector<WeightMatrix> weights;
  for (const auto& [type, cols, rows] : shapes) {
    bytes.push_back(quantized_rows(type, random_values(static_cast<size_t>(cols * rows), 60 + static_cast<uint32_t>(rows), 0.05f), cols));
    WeightMatrix w{type, cols, rows, *ggml_row_bytes(type, static_cast<uint64_t>(cols)), bytes.back().data()};
    if (const uint64_t size = interleaved_bytes(w)) w = interleave_rows(w, copies.emplace_back(size).data());
    weights.push_back(w);
  }
  for (const int64_t n_tokens : {int64_t{1}, int64_t{3}, kPanelMinTokens + 2}) {
    // Tasks 0 and 2 share one input (the same Q8_K rows, quantized once).
    std::vector<std::vector<float>> inputs;
    for (size_t i = 0; i < weights.size(); ++i) inputs.push_back(random_values(static_cast<size_t>(weights[i].cols * n_tokens), 70 + static_cast<uint32_t>(i)));
    inputs[2] = inputs[0];
    std::vector<std::vector<float>> together(weights.size()), separate(weights.size());
    std::vector<MatmulTask> tasks;
    for (size_t i = 0; i < weights.size(); ++i) {
      together[i].assign(static_cast<size_t>(weights[i].rows * n_tokens), -1.0f);
      separate[i].assign(together[i].size(), -2.0f);
      const float* x = i == 2 ? inputs[0].data() : inputs[i].data();
      tasks.push_back({&weights[i], x, together[i].data()});
      matmul(weights[i], x, n_tokens, separate[i].data(), pool);
    }
    matmul_tasks(tasks, n_tokens, pool);
    for (size_t i = 0; i < weights.size(); ++i) EXPECT_EQ(together[i], separate[i]) << name_of(weights[i].type) << " " << i;
  }
}

// ---- Row-interleaved weights (interleaved_gemm.h) ----

// A type's rows regrouped by its interleaved format, with the plain rows beside them.
struct InterleavedCase {
  std::vector<uint8_t> plain, interleaved;
  WeightMatrix plain_matrix, matrix;
};

InterleavedCase interleaved_case(GgmlType type, int64_t cols, int64_t rows, uint32_t seed, ValuesFn values = random_values) {
  InterleavedCase c;
  c.plain = quantized_rows(type, values(static_cast<size_t>(cols * rows), seed, 0.05f), cols);
  c.plain_matrix = WeightMatrix{type, cols, rows, *ggml_row_bytes(type, static_cast<uint64_t>(cols)), c.plain.data()};
  const InterleavedFormat& format = *find_weight_kernels(type)->interleaved;
  c.interleaved.resize(format.group_bytes(cols) * static_cast<uint64_t>(rows / kInterleavedRows));
  c.matrix = interleave_rows(c.plain_matrix, c.interleaved.data());
  return c;
}

const GgmlType kInterleavedTypes[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                      GgmlType::Q6_K, GgmlType::Q4_0, GgmlType::Q8_0};

TEST(KernelInterleaved, RowsReadBackAsTheTypesOwnDequantization) {
  for (const GgmlType type : kInterleavedTypes) {
    const InterleavedCase c = interleaved_case(type, 768, 16, 81);
    ASSERT_TRUE(c.matrix.interleaved());
    std::vector<float> expected(768), got(768);
    for (int64_t r = 0; r < 16; ++r) {
      ggml_type_traits(type).dequantize(c.plain_matrix.row(r), expected.data(), 768);
      weight_row_to_float(c.matrix, r, got.data());
      ASSERT_EQ(std::memcmp(expected.data(), got.data(), got.size() * sizeof(float)), 0) << name_of(type) << " row " << r;
    }
  }
}

// The scalar product (the format's reference) against the type's scalar vec_dot on the plain
// rows, and every SIMD product against it, for decode, small batches and panel-sized ones.
void check_interleaved_products(GgmlType type, ValuesFn values) {
  const WeightKernels& kernels = *find_weight_kernels(type);
  ASSERT_NE(kernels.interleaved, nullptr) << name_of(type);
  for (const int64_t cols : {256, 768, 2304}) {
    const InterleavedCase c = interleaved_case(type, cols, kInterleavedRows, 90 + static_cast<uint32_t>(cols), values);
    const uint64_t stride = activation_row_bytes(kernels, cols);
    const int64_t max_tokens = 23;
    std::vector<uint8_t> acts(stride * max_tokens);
    std::vector<float> xs;
    std::vector<double> magnitude(static_cast<size_t>(max_tokens * kInterleavedRows));
    for (int64_t t = 0; t < max_tokens; ++t) {
      const auto x = values(static_cast<size_t>(cols), 95 + static_cast<uint32_t>(t), 1.0f);
      xs.insert(xs.end(), x.begin(), x.end());
      const auto act = activation_row(kernels, x.data(), cols);
      std::memcpy(acts.data() + t * stride, act.data(), stride);
      for (int r = 0; r < kInterleavedRows; ++r)
        magnitude[static_cast<size_t>(t * kInterleavedRows + r)] =
            reference_dot(type, kernels, c.plain_matrix.row(r), act, cols).magnitude;
    }
    for (const KernelIsa isa : runnable_isas()) {
      const InterleavedGemmFn gemm = interleaved_gemm_for(kernels, isa);
      if (isa == KernelIsa::Avx2 || isa == KernelIsa::Avx512) {
        EXPECT_NE(gemm, kernels.interleaved->scalar) << name_of(type) << " has a " << kernel_isa_name(isa) << " product";
      }
      for (const int64_t n_tokens : {int64_t{1}, int64_t{2}, kPanelMinTokens - 1, kPanelMinTokens, max_tokens}) {
        const int64_t out_stride = 11;
        std::vector<float> out(static_cast<size_t>(n_tokens * out_stride), -1.0f);
        // The product reads its own quantizer's rows for this batch (panel_gemm.h).
        const auto gemm_acts =
            activation_rows(interleaved_quantizer_for(kernels, isa, n_tokens), xs.data(), n_tokens, cols, stride);
        gemm(cols, c.matrix.group(0), gemm_acts.data(), stride, n_tokens, out.data(), out_stride);
        for (int64_t t = 0; t < n_tokens; ++t)
          for (int64_t r = 0; r < out_stride; ++r) {
            const float got = out[static_cast<size_t>(t * out_stride + r)];
            if (r >= kInterleavedRows) {
              ASSERT_EQ(got, -1.0f) << "wrote past the group's rows";
              continue;
            }
            const float scalar = kernels.vec_dot(cols, c.plain_matrix.row(r), acts.data() + t * stride);
            ASSERT_NEAR(got, scalar, 2e-6 * magnitude[static_cast<size_t>(t * kInterleavedRows + r)])
                << name_of(type) << " " << kernel_isa_name(isa) << " cols " << cols << " tokens " << n_tokens << " t " << t
                << " r " << r;
          }
      }
    }
  }
}

TEST(KernelInterleaved, ProductsEqualTheScalarReference) {
  for (const GgmlType type : kInterleavedTypes) check_interleaved_products(type, random_values);
}

TEST(KernelInterleaved, ProductsEqualTheScalarReferenceAtTheExtremesOfLevelsAndActivations) {
  for (const GgmlType type : kInterleavedTypes) check_interleaved_products(type, extreme_values);
}

TEST(KernelInterleaved, ProductsEqualTheScalarReferenceWhenEveryProductHasOneSign) {
  for (const GgmlType type : kInterleavedTypes) check_interleaved_products(type, positive_values);
  for (const GgmlType type : kInterleavedTypes) check_interleaved_products(type, negative_values);
}

// matmul on the interleaved matrix equals matmul on the plain rows: within rounding for
// 8-bit activations, exactly for float activations (the same dequantized rows).
TEST(KernelInterleaved, MatmulEqualsThePlainRows) {
  ThreadPool pool(3);
  const int64_t cols = 512, rows = 40;
  for (const GgmlType type : kInterleavedTypes) {
    const InterleavedCase c = interleaved_case(type, cols, rows, 99);
    for (const int64_t n_tokens : {int64_t{1}, int64_t{3}, kPanelMinTokens + 1}) {
      const auto x = random_values(static_cast<size_t>(cols * n_tokens), 100);
      for (const auto precision : {ActivationPrecision::quantized, ActivationPrecision::float32}) {
        std::vector<float> plain(static_cast<size_t>(rows * n_tokens)), interleaved(plain.size());
        matmul(c.plain_matrix, x.data(), n_tokens, plain.data(), pool, precision);
        matmul(c.matrix, x.data(), n_tokens, interleaved.data(), pool, precision);
        for (size_t i = 0; i < plain.size(); ++i) {
          if (precision == ActivationPrecision::float32) ASSERT_EQ(interleaved[i], plain[i]) << name_of(type) << " " << i;
          else ASSERT_NEAR(interleaved[i], plain[i], 1e-4 * (1.0 + std::fabs(plain[i]))) << name_of(type) << " " << n_tokens << " tokens, " << i;
        }
      }
    }
  }
}

TEST(KernelInterleaved, OnlyTypesAndShapesThatPayAreInterleaved) {
  const WeightMatrix q4k{GgmlType::Q4_K, 256, 16, 144, nullptr};
  const WeightMatrix ragged{GgmlType::Q4_K, 256, 12, 144, nullptr};
  const WeightMatrix q5_0{GgmlType::Q5_0, 256, 16, 176, nullptr};
  EXPECT_EQ(interleaved_bytes(ragged), 0u) << "12 rows are not whole groups of 8";
  EXPECT_EQ(interleaved_bytes(q5_0), 0u) << "Q5_0 has no interleaved format";
  const KernelIsa before = active_kernel_isa();
  set_kernel_isa(KernelIsa::Scalar);
  EXPECT_EQ(interleaved_bytes(q4k), 0u) << "the scalar product is slower than the plain rows";
  set_kernel_isa(before);
  if (best_kernel_isa() == KernelIsa::Avx512 && before == KernelIsa::Avx512) {
    EXPECT_EQ(interleaved_bytes(q4k), 16u * 144u) << "interleaved rows take the bytes the plain rows take";
  }
  if (best_kernel_isa() == KernelIsa::Avx512 || best_kernel_isa() == KernelIsa::Avx2) {
    set_kernel_isa(KernelIsa::Avx2);
    EXPECT_EQ(interleaved_bytes(q4k), 16u * 144u) << "AVX2 has interleaved products too";
    set_kernel_isa(before);
  }
}

TEST(KernelMatmul, TypesWithoutKernelsAreRefused) {
  ThreadPool pool(1);
  std::vector<uint8_t> bytes(1024);
  std::vector<float> x(256), y(1);
  const WeightMatrix iq{GgmlType::IQ2_XXS, 256, 1, 66, bytes.data()};
  EXPECT_THROW(matmul(iq, x.data(), 1, y.data(), pool), InputError);
  const WeightMatrix q8k{GgmlType::Q8_K, 256, 1, 292, bytes.data()};
  EXPECT_THROW(matmul(q8k, x.data(), 1, y.data(), pool), InputError);
  const WeightMatrix ragged{GgmlType::Q4_0, 250, 1, 144, bytes.data()};
  EXPECT_THROW(matmul(ragged, x.data(), 1, y.data(), pool), InputError);
}

}  // namespace
}  // namespace lp
