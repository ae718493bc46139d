// The engine's small pieces against hand-checked values: sampling rules, RoPE, norms.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "core/float_convert.h"
#include "core/thread_pool.h"
#include "engine/attention.h"
#include "engine/ops.h"
#include "kernels/half_vectors.h"
#include "kernels/kv_rows.h"
#include "kernels/kernel_table.h"
#include "engine/rope.h"
#include "engine/sampler.h"

namespace lp {
namespace {

SamplingSettings greedy() {
  SamplingSettings s;
  s.temperature = 0.0;
  return s;
}

TEST(EngineSampler, GreedyPicksTheLargestLogitAndTheLowestIdOnTies) {
  Sampler sampler(greedy());
  const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(sampler.sample(logits, {}), 1);
  EXPECT_EQ(argmax(logits), 1);
}

TEST(EngineSampler, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingSettings s = greedy();
  s.repeat_penalty = 2.0;
  Sampler sampler(s);
  // Token 0 (3.0) was seen: 3.0 / 2 = 1.5 < 2.0, so token 1 wins.
  EXPECT_EQ(sampler.sample(std::vector<float>{3.0f, 2.0f, 0.0f}, std::vector<int32_t>{0, 0}), 1);
  // Token 2 (-0.1) seen becomes -0.2 and token 1 (-0.15) wins.
  EXPECT_EQ(sampler.sample(std::vector<float>{-1.0f, -0.15f, -0.1f}, std::vector<int32_t>{2}), 1);
}

TEST(EngineSampler, PresencePenaltyIsSubtractedOncePerDistinctToken) {
  SamplingSettings s = greedy();
  s.presence_penalty = 0.6;
  Sampler sampler(s);
  // 1.0 - 0.6 = 0.4 < 0.5 even though token 0 appears three times (once, not thrice).
  EXPECT_EQ(sampler.sample(std::vector<float>{1.0f, 0.5f}, std::vector<int32_t>{0, 0, 0}), 1);
  s.presence_penalty = 0.4;
  Sampler milder(s);
  EXPECT_EQ(milder.sample(std::vector<float>{1.0f, 0.5f}, std::vector<int32_t>{0, 0, 0}), 0);
}

TEST(EngineSampler, TopKOneIsGreedyAtAnyTemperature) {
  SamplingSettings s;
  s.temperature = 5.0;
  s.top_k = 1;
  s.seed = 7;
  Sampler sampler(s);
  const std::vector<float> logits = {0.1f, 0.3f, 0.2f};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sampler.sample(logits, {}), 1);
}

TEST(EngineSampler, MinPDropsTokensBelowTheFractionOfTheTopProbability) {
  SamplingSettings s;
  s.temperature = 1.0;
  s.top_k = 0;
  s.top_p = 1.0;
  s.min_p = 0.5;  // p1/p0 = e^-0.5 = 0.61 kept, p2/p0 = e^-3 dropped
  s.seed = 3;
  Sampler sampler(s);
  std::map<int32_t, int> counts;
  for (int i = 0; i < 2000; ++i) ++counts[sampler.sample(std::vector<float>{0.0f, -0.5f, -3.0f}, {})];
  EXPECT_EQ(counts[2], 0);
  // Renormalized over {0, 1}: P(0) = 1 / (1 + e^-0.5) = 0.622.
  EXPECT_NEAR(counts[0] / 2000.0, 0.622, 0.04);
}

TEST(EngineSampler, TopPKeepsTheSmallestSetReachingTheMass) {
  SamplingSettings s;
  s.temperature = 1.0;
  s.top_k = 0;
  s.min_p = 0.0;
  s.top_p = 0.5;  // the first token alone holds 0.665 of the mass
  s.seed = 11;
  Sampler sampler(s);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sampler.sample(std::vector<float>{1.0f, 0.0f, -1.0f}, {}), 0);
}

TEST(EngineSampler, TheSameSeedGivesTheSameTokens) {
  SamplingSettings s;
  s.temperature = 1.0;
  s.top_k = 0;
  s.top_p = 1.0;
  s.min_p = 0.0;
  s.seed = 42;
  Sampler a(s), b(s);
  const std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f};
  std::vector<int32_t> ta, tb;
  for (int i = 0; i < 100; ++i) {
    ta.push_back(a.sample(logits, {}));
    tb.push_back(b.sample(logits, {}));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_GT(std::set<int32_t>(ta.begin(), ta.end()).size(), 3u);  // it really samples
}

TEST(EngineRope, PositionZeroIsTheIdentityAndRotationKeepsPairNorms) {
  const RopeSettings settings{.base = 10000.0, .dims = 8};
  const Rope rope(settings);
  std::vector<float> c(4), s(4);
  rope.angles(0, c.data(), s.data());
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto original = x;
  rope.apply(x.data(), 1, 8, c.data(), s.data());
  EXPECT_EQ(x, original);
  rope.angles(5, c.data(), s.data());
  rope.apply(x.data(), 1, 8, c.data(), s.data());
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(std::hypot(x[2 * i], x[2 * i + 1]), std::hypot(original[2 * i], original[2 * i + 1]), 1e-5);
  }
}

TEST(EngineRope, InterleavedAndNeoxRotateTheSamePairsAtHandCheckedAngles) {
  // Pair 0 has frequency 1, pair 1 has base^(-2/4) = 0.01 (base 10000, 4 dims).
  const Rope normal(RopeSettings{.base = 10000.0, .dims = 4});
  const Rope neox(RopeSettings{.base = 10000.0, .dims = 4, .neox = true});
  std::vector<float> c(2), s(2);
  normal.angles(3, c.data(), s.data());
  EXPECT_NEAR(c[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(s[1], std::sin(0.03), 1e-6);
  std::vector<float> a = {1, 0, 0, 1};  // interleaved pairs (1,0) and (0,1)
  std::vector<float> b = {1, 0, 0, 1};  // halves: pairs (b0,b2)=(1,0) and (b1,b3)=(0,1)
  normal.apply(a.data(), 1, 4, c.data(), s.data());
  neox.apply(b.data(), 1, 4, c.data(), s.data());
  EXPECT_NEAR(a[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(a[1], std::sin(3.0), 1e-6);
  EXPECT_NEAR(a[2], -std::sin(0.03), 1e-6);
  EXPECT_NEAR(a[3], std::cos(0.03), 1e-6);
  EXPECT_NEAR(b[0], std::cos(3.0), 1e-6);
  EXPECT_NEAR(b[2], std::sin(3.0), 1e-6);
  EXPECT_NEAR(b[1], -std::sin(0.03), 1e-6);
  EXPECT_NEAR(b[3], std::cos(0.03), 1e-6);
}

TEST(EngineRope, FrequencyFactorsAndLinearScalingSlowTheRotation) {
  const std::vector<float> factors = {4.0f, 1.0f};
  const Rope scaled(RopeSettings{.base = 10000.0, .dims = 4, .freq_factors = factors});
  const Rope linear(RopeSettings{.base = 10000.0, .dims = 4, .position_scale = 2.0});
  std::vector<float> c(2), s(2);
  scaled.angles(8, c.data(), s.data());
  EXPECT_NEAR(c[0], std::cos(2.0), 1e-6);  // 8 * 1 / 4
  linear.angles(8, c.data(), s.data());
  EXPECT_NEAR(c[0], std::cos(4.0), 1e-6);  // 8 / 2
}

TEST(EngineRope, YarnFrequenciesAndAttentionFactorEqualTransformers) {
  // transformers 5.23 ROPE_INIT_FUNCTIONS["yarn"] for head_dim 16, theta 1e4, factor 4,
  // original_max_position_embeddings 64.
  const double expected[8] = {1.0, 0.23717081546783447, 0.04999999701976776, 0.007905694656074047,
                              0.0024999999441206455, 0.0007905694656074047, 0.0002500000118743628, 7.905694656074047e-05};
  const Rope yarn(RopeSettings{.base = 10000.0, .dims = 16, .attn_factor = 1.138629436111989, .yarn_factor = 4.0,
                               .yarn_original_context = 64});
  std::vector<float> c(8), s(8);
  yarn.angles(1, c.data(), s.data());
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(std::atan2(s[i], c[i]), expected[i], 1e-6 * expected[i] + 1e-9) << "pair " << i;
    EXPECT_NEAR(std::hypot(s[i], c[i]), 1.138629436111989, 1e-6);
  }
}

TEST(EngineOps, RmsNormLogSoftmaxAndGelu) {
  const std::vector<float> x = {3.0f, 4.0f};
  const std::vector<float> w = {1.0f, 2.0f};
  std::vector<float> out(2);
  rms_norm(x.data(), w.data(), out.data(), 2, 0.0f);
  const double rms = std::sqrt(12.5);
  EXPECT_NEAR(out[0], 3.0 / rms, 1e-6);
  EXPECT_NEAR(out[1], 8.0 / rms, 1e-6);
  const std::vector<float> logits = {0.0f, std::log(3.0f)};
  log_softmax(logits.data(), out.data(), 2);
  EXPECT_NEAR(out[0], std::log(0.25), 1e-6);
  EXPECT_NEAR(out[1], std::log(0.75), 1e-6);
  EXPECT_NEAR(gelu_tanh(1.0f), 0.8411920, 1e-6);  // torch gelu(1, approximate='tanh')
  EXPECT_NEAR(silu(1.0f), 0.7310586, 1e-6);
}

// The scalar version and the SIMD one this build has (AVX2/F16C, NEON), on lengths around the
// vector width.
TEST(EngineOps, HalfVectorOpsMatchFloatInEveryVersion) {
  struct Version {
    const char* name;
    float (*dot)(const float*, const uint16_t*, int64_t);
    void (*axpy)(float, const uint16_t*, float*, int64_t);
    void (*to_half)(const float*, uint16_t*, int64_t);
  };
  std::vector<Version> versions = {{"scalar", half_vectors_scalar::dot_f32_f16, half_vectors_scalar::axpy_f16,
                                    half_vectors_scalar::f32_to_f16_row}};
#if defined(LP_X86_KERNELS)
  if (best_kernel_isa() >= KernelIsa::Avx2) {
    versions.push_back({"avx2", half_vectors_avx2::dot_f32_f16, half_vectors_avx2::axpy_f16, half_vectors_avx2::f32_to_f16_row});
  }
#endif
#if defined(LP_ARM_KERNELS)
  versions.push_back({"neon", half_vectors_neon::dot_f32_f16, half_vectors_neon::axpy_f16, half_vectors_neon::f32_to_f16_row});
#endif
  for (const auto& v : versions) {
    for (int n : {1, 7, 8, 15, 16, 17, 64, 129}) {
      std::vector<float> a(n), b(n), back(n);
      std::vector<uint16_t> bh(n), converted(n);
      for (int i = 0; i < n; ++i) {
        a[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
        b[i] = 0.5f * static_cast<float>(i % 5) - 1.0f;  // exact in half precision
        bh[i] = f32_to_f16(b[i]);
      }
      const double exact = std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
      EXPECT_NEAR(v.dot(a.data(), bh.data(), n), exact, 1e-5) << v.name << " n=" << n;
      std::vector<float> y(n, 1.0f);
      v.axpy(2.0f, bh.data(), y.data(), n);
      for (int i = 0; i < n; ++i) EXPECT_FLOAT_EQ(y[i], 1.0f + 2.0f * b[i]) << v.name;
      // Rounding to half: the same bits as the scalar reference conversion, including ties.
      for (int i = 0; i < n; ++i) a[i] = 1.0f + static_cast<float>(i) * 0.00048828125f * 0.5f + 1e-3f * static_cast<float>(i % 3);
      v.to_half(a.data(), converted.data(), n);
      for (int i = 0; i < n; ++i) EXPECT_EQ(converted[i], f32_to_f16(a[i])) << v.name << " value " << a[i];
    }
  }
}

// The row loops are built once per instruction set (kernels/row_ops.h): each set this CPU runs,
// made the active one in turn.
std::vector<KernelIsa> row_loop_isas() {
  std::vector<KernelIsa> isas;
  for (int i = 0; i < kKernelIsaCount; ++i) {
    if (kernel_isa_runs(static_cast<KernelIsa>(i))) isas.push_back(static_cast<KernelIsa>(i));
  }
  return isas;
}

struct IsaGuard {
  explicit IsaGuard(KernelIsa isa) { set_kernel_isa(isa); }
  ~IsaGuard() { set_kernel_isa(saved); }
  KernelIsa saved = active_kernel_isa();
};

void on_every_row_loop_isa(void (*check)()) {
  for (KernelIsa isa : row_loop_isas()) {
    const IsaGuard guard(isa);
    SCOPED_TRACE(kernel_isa_name(isa));
    check();
  }
}

void check_row_exp_and_gated_activations_match_the_scalar_functions() {
  std::vector<float> x;
  for (float v = -100.0f; v <= 100.0f; v += 0.0137f) x.push_back(v);
  std::vector<float> e(x.size()), up(x.size(), 1.5f), act(x.size());
  exp_row(x.data(), e.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] < -87.3f) {
      EXPECT_EQ(e[i], 0.0f) << x[i];
    } else if (x[i] <= 88.3f) {
      EXPECT_NEAR(e[i], std::exp(x[i]), 3e-7 * std::exp(x[i])) << x[i];
    }
  }
  // Against the exact functions in double (both are x * sigmoid(z): silu z = x, gelu_tanh z =
  // 2 sqrt(2/pi) (x + 0.044715 x^3)), relatively, and against the scalar forms absolutely
  // (0.5 x (1 + tanh) rounds to 0 where the row form keeps a tiny value).
  auto sigmoid_times = [](double x, double z) { return x / (1.0 + std::exp(-z)); };
  silu_mul(x.data(), up.data(), act.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double exact = 1.5 * sigmoid_times(x[i], x[i]);
    EXPECT_NEAR(act[i], exact, 1e-6 * std::abs(exact) + 1e-36) << x[i];  // exp clamped past 88.3: |x| e^-88.3 < 1e-36
    EXPECT_NEAR(act[i], silu(x[i]) * 1.5f, 1e-6 * std::abs(exact) + 1e-30) << x[i];
  }
  gelu_tanh_mul(x.data(), up.data(), up.data(), static_cast<int64_t>(x.size()));  // in place
  for (size_t i = 0; i < x.size(); ++i) {
    const double z = 2.0 * 0.7978845608028654 * (x[i] + 0.044715 * x[i] * x[i] * x[i]);
    const double exact = 1.5 * sigmoid_times(x[i], z);
    // z is computed in float, one rounding per step (x^3, the sum, the products: fewer where
    // the build fuses multiply-adds), each moving exp(-z) by up to |z| * 6e-8 relatively.
    EXPECT_NEAR(up[i], exact, (2e-6 + 2e-7 * std::abs(z)) * std::abs(exact) + 1e-36) << x[i];
    EXPECT_NEAR(up[i], gelu_tanh(x[i]) * 1.5f, 1e-6 * std::abs(exact) + 1e-6) << x[i];
  }
}

TEST(EngineOps, RowExpAndGatedActivationsMatchTheScalarFunctions) {
  on_every_row_loop_isa(check_row_exp_and_gated_activations_match_the_scalar_functions);
}

void check_row_dot_axpy_and_scale_on_lengths_around_the_vector_width() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t n : {1, 15, 16, 17, 64, 100}) {
    std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (auto& v : a) v = u(rng);
    for (auto& v : b) v = u(rng);
    double dot = 0;
    for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(a[i]) * b[i];
    EXPECT_NEAR(dot_row(a.data(), b.data(), n), dot, 1e-5) << n;
    std::vector<float> y = b;
    axpy_row(0.5f, a.data(), y.data(), n);
    scale_row(y.data(), 2.0f, n);
    for (int64_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(y[i], (b[i] + 0.5f * a[i]) * 2.0f);
  }
}

TEST(EngineOps, RowDotAxpyAndScaleOnLengthsAroundTheVectorWidth) {
  on_every_row_loop_isa(check_row_dot_axpy_and_scale_on_lengths_around_the_vector_width);
}

// The online softmax's row steps against plain loops: the scaled row and its maximum exactly,
// the exponentials as exp_row gives them and their sum.
void check_softmax_row_steps_equal_plain_loops() {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-30.0f, 30.0f);
  for (int64_t n : {1, 15, 16, 17, 64, 100}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = u(rng);
    std::vector<float> y = x;
    const float max = scale_max_row(y.data(), 0.125f, n);
    float expected_max = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], x[i] * 0.125f);
      expected_max = std::max(expected_max, y[i]);
    }
    EXPECT_EQ(max, expected_max) << n;
    std::vector<float> shifted(y.size()), e(y.size());
    for (int64_t i = 0; i < n; ++i) shifted[i] = y[i] - max;
    exp_row(shifted.data(), e.data(), n);
    const float sum = exp_shifted_sum_row(y.data(), max, n);
    double expected_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], e[i]) << n << " at " << i;
      expected_sum += e[i];
    }
    EXPECT_NEAR(sum, expected_sum, 1e-6 * expected_sum) << n;
  }
}

TEST(EngineOps, SoftmaxRowStepsEqualPlainLoops) {
  on_every_row_loop_isa(check_softmax_row_steps_equal_plain_loops);
}

void check_attention_tile_kernels_equal_plain_sums() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t d : {16, 64, 80, 128, 200}) {
    // Scores: 4 queries against 64 keys stored transposed.
    std::vector<float> kt(static_cast<size_t>(d * 64)), q(static_cast<size_t>(4 * d)), scores(4 * 64);
    for (auto& v : kt) v = u(rng);
    for (auto& v : q) v = u(rng);
    const float* qs[4] = {&q[0], &q[d], &q[2 * d], &q[3 * d]};
    attention_scores_4x64(kt.data(), qs, d, scores.data());
    for (int r = 0; r < 4; ++r) {
      for (int j = 0; j < 64; ++j) {
        double e = 0;
        for (int64_t i = 0; i < d; ++i) e += static_cast<double>(qs[r][i]) * kt[i * 64 + j];
        ASSERT_NEAR(scores[r * 64 + j], e, 1e-4) << d << " " << r << " " << j;
      }
    }
    // Values: 4 rows of 37 weights over 37 value rows of d (stride d + 3), added to what is there.
    const int64_t n = 37, stride = d + 3;
    std::vector<float> p(4 * 64), v(static_cast<size_t>(n * stride)), out(static_cast<size_t>(4 * d));
    for (auto& x : p) x = u(rng);
    for (auto& x : v) x = u(rng);
    for (auto& x : out) x = u(rng);
    const std::vector<float> before = out;
    float* outs[4] = {&out[0], &out[d], &out[2 * d], &out[3 * d]};
    attention_values_4(p.data(), 64, v.data(), stride, n, outs, d);
    for (int r = 0; r < 4; ++r) {
      for (int64_t c = 0; c < d; ++c) {
        double e = before[r * d + c];
        for (int64_t j = 0; j < n; ++j) e += static_cast<double>(p[r * 64 + j]) * v[j * stride + c];
        ASSERT_NEAR(out[r * d + c], e, 1e-4) << d << " " << r << " " << c;
      }
    }
    // The float16 forms, on the same values rounded to float16: the same sums.
    std::vector<uint16_t> kt_half(kt.size()), v_half(v.size());
    f32_to_f16_row(kt.data(), kt_half.data(), static_cast<int64_t>(kt.size()));
    f32_to_f16_row(v.data(), v_half.data(), static_cast<int64_t>(v.size()));
    attention_scores_4x64_f16(kt_half.data(), qs, d, scores.data());
    for (int r = 0; r < 4; ++r) {
      for (int j = 0; j < 64; ++j) {
        double e = 0;
        for (int64_t i = 0; i < d; ++i) e += static_cast<double>(qs[r][i]) * f16_to_f32(kt_half[static_cast<size_t>(i * 64 + j)]);
        ASSERT_NEAR(scores[r * 64 + j], e, 1e-4) << "f16 " << d << " " << r << " " << j;
      }
    }
    out = before;
    attention_values_4_f16(p.data(), 64, v_half.data(), stride, n, outs, d);
    for (int r = 0; r < 4; ++r) {
      for (int64_t c = 0; c < d; ++c) {
        double e = before[r * d + c];
        for (int64_t j = 0; j < n; ++j) e += static_cast<double>(p[r * 64 + j]) * f16_to_f32(v_half[static_cast<size_t>(j * stride + c)]);
        ASSERT_NEAR(out[r * d + c], e, 1e-4) << "f16 " << d << " " << r << " " << c;
      }
    }
  }
}

TEST(EngineOps, AttentionTileKernelsEqualPlainSums) {
  on_every_row_loop_isa(check_attention_tile_kernels_equal_plain_sums);
}

// Plain softmax attention, one query head at a time, in double.
std::vector<float> naive_attention(const AttentionShape& s, const std::vector<float>& q, int64_t n, int64_t n_past,
                                   const std::vector<float>& k, const std::vector<float>& v) {
  std::vector<float> out(static_cast<size_t>(n * s.n_head * s.head_dim_v));
  const int64_t group = s.n_head / s.n_head_kv, ks = s.n_head_kv * s.head_dim, vs = s.n_head_kv * s.head_dim_v;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t h = 0; h < s.n_head; ++h) {
      const int64_t pos = n_past + t, start = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
      std::vector<double> p;
      for (int64_t j = start; j <= pos; ++j) {
        double d = 0;
        for (int64_t i = 0; i < s.head_dim; ++i) d += q[(t * s.n_head + h) * s.head_dim + i] * k[j * ks + (h / group) * s.head_dim + i];
        d *= s.scale;
        if (s.softcap > 0) d = s.softcap * std::tanh(d / s.softcap);
        p.push_back(d);
      }
      const double max = *std::max_element(p.begin(), p.end());
      double sum = 0;
      for (double& x : p) sum += (x = std::exp(x - max));
      for (int64_t i = 0; i < s.head_dim_v; ++i) {
        double o = 0;
        for (int64_t j = start; j <= pos; ++j) o += p[j - start] / sum * v[j * vs + (h / group) * s.head_dim_v + i];
        out[(t * s.n_head + h) * s.head_dim_v + i] = static_cast<float>(o);
      }
    }
  }
  return out;
}

// Batches (one tile and across tiles), single-token decode split into position blocks (few
// KV heads, more threads), sliding windows, soft-capping, float16 and float32 caches.
TEST(EngineAttention, FusedAttentionEqualsPlainSoftmaxAttention) {
  struct Case {
    int64_t n, n_past, n_head, n_head_kv, window;
    float softcap;
    unsigned threads;
  };
  for (const Case& c : {Case{3, 70, 6, 2, 0, 0.0f, 2}, Case{1, 200, 6, 2, 0, 0.0f, 3}, Case{1, 150, 4, 1, 0, 0.0f, 2},
                        Case{5, 40, 4, 4, 7, 0.0f, 2}, Case{2, 100, 8, 2, 0, 5.0f, 1}, Case{1, 0, 2, 1, 0, 0.0f, 2},
                        Case{37, 30, 6, 2, 0, 0.0f, 2}, Case{70, 0, 4, 1, 20, 0.0f, 3}}) {
    const AttentionShape s{c.n_head, c.n_head_kv, 16, 16, 0.25f, c.softcap, c.window};
    const int64_t positions = c.n_past + c.n, row = c.n_head_kv * 16;
    std::mt19937 rng(7);
    std::normal_distribution<float> g(0.0f, 1.5f);
    std::vector<float> q(static_cast<size_t>(c.n * c.n_head * 16)), k(static_cast<size_t>(positions * row)), v(k.size());
    for (auto* vec : {&q, &k, &v}) for (auto& x : *vec) x = g(rng);
    std::vector<uint16_t> k_half(k.size()), v_half(v.size());
    f32_to_f16_row(k.data(), k_half.data(), static_cast<int64_t>(k.size()));
    f32_to_f16_row(v.data(), v_half.data(), static_cast<int64_t>(v.size()));
    std::vector<float> k_back(k.size()), v_back(v.size());
    f16_to_f32_row(k_half.data(), k_back.data(), static_cast<int64_t>(k.size()));
    f16_to_f32_row(v_half.data(), v_back.data(), static_cast<int64_t>(v.size()));

    ThreadPool pool(c.threads);
    CachedAttention attention(s, pool.size());
    std::vector<float> out(static_cast<size_t>(c.n * c.n_head * 16));
    const std::vector<float> expected_f32 = naive_attention(s, q, c.n, c.n_past, k, v);
    // Position-major rows (all heads of a position together): strides in bytes.
    auto position_major = [&](GgmlType type, const void* kd, const void* vd, int64_t value_bytes) {
      return KvLayerView{.type = type, .k = static_cast<const uint8_t*>(kd), .v = static_cast<const uint8_t*>(vd),
                         .k_stride = row * value_bytes, .v_stride = row * value_bytes,
                         .k_head_stride = 16 * value_bytes, .v_head_stride = 16 * value_bytes};
    };
    attention.run(s, q.data(), c.n, c.n_past, position_major(GgmlType::F32, k.data(), v.data(), 4), out.data(), pool);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected_f32[i], 2e-5) << "f32 case n_past " << c.n_past << " at " << i;
    const std::vector<float> expected_f16 = naive_attention(s, q, c.n, c.n_past, k_back, v_back);
    attention.run(s, q.data(), c.n, c.n_past, position_major(GgmlType::F16, k_half.data(), v_half.data(), 2), out.data(), pool);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected_f16[i], 2e-5) << "f16 case n_past " << c.n_past << " at " << i;
    // The session's layout: each head's positions together (one conversion per tile).
    std::vector<uint16_t> k_heads(k_half.size()), v_heads(v_half.size());
    for (int64_t j = 0; j < positions; ++j) {
      for (int64_t h = 0; h < c.n_head_kv; ++h) {
        for (int64_t i = 0; i < 16; ++i) {
          k_heads[static_cast<size_t>((h * positions + j) * 16 + i)] = k_half[static_cast<size_t>(j * row + h * 16 + i)];
          v_heads[static_cast<size_t>((h * positions + j) * 16 + i)] = v_half[static_cast<size_t>(j * row + h * 16 + i)];
        }
      }
    }
    attention.run(s, q.data(), c.n, c.n_past,
                  KvLayerView{.type = GgmlType::F16, .k = reinterpret_cast<const uint8_t*>(k_heads.data()),
                              .v = reinterpret_cast<const uint8_t*>(v_heads.data()), .k_stride = 32, .v_stride = 32,
                              .k_head_stride = positions * 32, .v_head_stride = positions * 32},
                  out.data(), pool);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected_f16[i], 2e-5) << "head-major case n_past " << c.n_past << " at " << i;
    // The session's F16 layout: keys in transposed tiles of 64 positions (kernels/kv_rows.h).
    const int64_t tiled_positions = kv_key_positions(GgmlType::F16, positions);
    std::vector<uint16_t> k_tiles(static_cast<size_t>(c.n_head_kv * tiled_positions * 16), 0x7e00);  // NaN where nothing is stored
    for (int64_t h = 0; h < c.n_head_kv; ++h) {
      for (int64_t j = 0; j < positions; ++j) {
        uint16_t* tile = &k_tiles[static_cast<size_t>((h * tiled_positions + j / kKeyTile * kKeyTile) * 16)];
        store_key_in_tile(&k[static_cast<size_t>(j * row + h * 16)], tile, j % kKeyTile, 16);
      }
    }
    attention.run(s, q.data(), c.n, c.n_past,
                  KvLayerView{.type = GgmlType::F16, .k = reinterpret_cast<const uint8_t*>(k_tiles.data()),
                              .v = reinterpret_cast<const uint8_t*>(v_heads.data()), .k_stride = kKeyTile * 32, .v_stride = 32,
                              .k_head_stride = tiled_positions * 32, .v_head_stride = positions * 32, .key_tiles = true},
                  out.data(), pool);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], expected_f16[i], 2e-5) << "tiled keys case n_past " << c.n_past << " at " << i;
  }
}

// A quantized cache (llama.cpp's q8_0 / q4_0): attention over the rows as stored equals plain
// attention over their dequantized values, in the session's head-major layout, for a batch
// across tiles and a decoded token split into position blocks.
TEST(EngineAttention, QuantizedCacheEqualsAttentionOverItsDequantizedValues) {
  constexpr int64_t kDim = 64, kHeadsKv = 2, kHeads = 6;
  for (GgmlType type : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    for (auto [n, n_past] : {std::pair<int64_t, int64_t>{5, 90}, {1, 300}}) {
      const AttentionShape s{kHeads, kHeadsKv, kDim, kDim, 0.125f, 0.0f, 0};
      const int64_t positions = n_past + n, row_bytes = static_cast<int64_t>(*ggml_row_bytes(type, kDim));
      std::mt19937 rng(11);
      std::normal_distribution<float> g(0.0f, 1.0f);
      std::vector<float> q(static_cast<size_t>(n * kHeads * kDim)), k(static_cast<size_t>(positions * kHeadsKv * kDim)), v(k.size());
      for (auto* vec : {&q, &k, &v}) for (auto& x : *vec) x = g(rng);
      // Stored head-major; the expected result reads the same rows dequantized, position-major.
      std::vector<uint8_t> k_rows(static_cast<size_t>(positions * kHeadsKv * row_bytes)), v_rows(k_rows.size());
      std::vector<float> k_back(k.size()), v_back(v.size());
      for (int64_t j = 0; j < positions; ++j) {
        for (int64_t h = 0; h < kHeadsKv; ++h) {
          const size_t from = static_cast<size_t>((j * kHeadsKv + h) * kDim), to = static_cast<size_t>((h * positions + j) * row_bytes);
          kv_row_from_f32(type, &k[from], &k_rows[to], kDim);
          kv_row_from_f32(type, &v[from], &v_rows[to], kDim);
          ggml_type_traits(type).dequantize(&k_rows[to], &k_back[from], kDim);
          ggml_type_traits(type).dequantize(&v_rows[to], &v_back[from], kDim);
        }
      }
      ThreadPool pool(2);
      CachedAttention attention(s, pool.size());
      std::vector<float> out(static_cast<size_t>(n * kHeads * kDim));
      attention.run(s, q.data(), n, n_past,
                    KvLayerView{.type = type, .k = k_rows.data(), .v = v_rows.data(), .k_stride = row_bytes, .v_stride = row_bytes,
                                .k_head_stride = positions * row_bytes, .v_head_stride = positions * row_bytes},
                    out.data(), pool);
      const std::vector<float> expected = naive_attention(s, q, n, n_past, k_back, v_back);
      for (size_t i = 0; i < out.size(); ++i) {
        ASSERT_NEAR(out[i], expected[i], 2e-5) << ggml_type_traits(type).name << " n_past " << n_past << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace lp
