// The statistics helpers against values computed by scipy 1.x (scipy.stats: norm, t, beta,
// binom, binomtest, ttest_rel, sem; numpy.percentile) or derived by hand where noted.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "stats/descriptive.h"
#include "stats/distributions.h"
#include "stats/hypothesis_tests.h"
#include "stats/intervals.h"

namespace lp::stats {
namespace {

const std::vector<double> kSample = {3.1, 2.7, 4.4, 5.0, 1.2, 3.3, 2.9, 4.1, 3.8, 2.2};

TEST(StatsDescriptive, MeanAndStandardErrorEqualScipySem) {
  const Estimate e = mean_with_se(kSample);
  EXPECT_NEAR(e.value, 3.27, 1e-12);
  EXPECT_NEAR(e.se, 0.35215211359739285, 1e-12);  // scipy.stats.sem
  MomentSums sums;
  for (double v : kSample) sums.add(v);
  EXPECT_NEAR(sums.mean().value, 3.27, 1e-12);
  EXPECT_NEAR(sums.mean().se, 0.35215211359739285, 1e-10);
}

TEST(StatsDescriptive, MomentSumsMergeAndDegenerateCases) {
  MomentSums a, b, all;
  for (size_t i = 0; i < kSample.size(); ++i) {
    (i < 4 ? a : b).add(kSample[i]);
    all.add(kSample[i]);
  }
  a.merge(b);
  EXPECT_EQ(a.n, all.n);
  EXPECT_DOUBLE_EQ(a.mean().value, all.mean().value);
  MomentSums one;
  one.add(2.5);
  EXPECT_EQ(one.mean().value, 2.5);
  EXPECT_EQ(one.mean().se, 0.0);
  MomentSums constant;
  for (int i = 0; i < 5; ++i) constant.add(0.1);
  EXPECT_EQ(constant.mean().se, 0.0);  // rounding must not give a NaN or a tiny spread
  EXPECT_EQ(MomentSums{}.mean().value, 0.0);
}

TEST(StatsDescriptive, CovarianceOfMeansByHand) {
  // x = 1,2,3; y = 2,4,7: cov = ((-1)(-2.333)+0+(1)(2.667))/2 = 2.5; of the means: 2.5/3.
  EXPECT_NEAR(covariance_of_means(6, 13, 1 * 2 + 2 * 4 + 3 * 7, 3), 2.5 / 3, 1e-12);
  EXPECT_EQ(covariance_of_means(1, 1, 1, 1), 0.0);
}

TEST(StatsDescriptive, PercentilesEqualNumpyLinear) {
  EXPECT_NEAR(percentile(kSample, 0.001), 1.209, 1e-12);
  EXPECT_NEAR(percentile(kSample, 0.10), 2.1, 1e-12);
  EXPECT_NEAR(percentile(kSample, 0.50), 3.2, 1e-12);
  EXPECT_NEAR(percentile(kSample, 0.90), 4.46, 1e-12);
  EXPECT_NEAR(percentile(kSample, 0.999), 4.9946, 1e-12);
  EXPECT_EQ(percentile(kSample, 0.0), 1.2);
  EXPECT_EQ(percentile(kSample, 1.0), 5.0);
  EXPECT_TRUE(std::isnan(percentile({}, 0.5)));
}

TEST(StatsDistributions, NormalEqualsScipy) {
  EXPECT_NEAR(normal_cdf(1.2345), 0.8914916766373298, 1e-14);
  EXPECT_NEAR(normal_cdf(-3.7), 0.00010779973347738823, 1e-17);
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile(0.8), 0.8416212335729143, 1e-12);
  EXPECT_NEAR(normal_quantile(0.001), -3.090232306167813, 1e-12);
  EXPECT_NEAR(normal_quantile(1e-10), -6.361340902404056, 1e-10);
  EXPECT_NEAR(normal_quantile(0.99999), 4.264890793923841, 1e-10);
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  EXPECT_TRUE(std::isinf(normal_quantile(0.0)));
}

TEST(StatsDistributions, StudentTBetaBinomialEqualScipy) {
  EXPECT_NEAR(student_t_cdf(2.1, 7), 0.9630644018935387, 1e-12);
  EXPECT_NEAR(student_t_cdf(-0.7, 3.5), 0.2638170711728394, 1e-12);
  EXPECT_NEAR(student_t_cdf(1.0, 1), 0.75, 1e-12);  // Cauchy: 1/2 + atan(1)/pi, by hand
  EXPECT_NEAR(student_t_cdf(-4.5, 120), 7.912789699298527e-06, 1e-15);
  EXPECT_NEAR(incomplete_beta(2.5, 4.0, 0.3), 0.3521975859067672, 1e-12);
  EXPECT_NEAR(incomplete_beta(0.5, 30, 0.01), 0.560665631094749, 1e-12);
  EXPECT_NEAR(binomial_cdf(3, 20, 0.5), 0.0012884140014648438, 1e-14);
  EXPECT_NEAR(binomial_cdf(40, 100, 0.37), 0.7669848629827298, 1e-12);
  EXPECT_EQ(binomial_cdf(20, 20, 0.5), 1.0);
}

TEST(StatsIntervals, WilsonEqualsScipyBinomtest) {
  Interval w = wilson_interval(37, 50);
  EXPECT_NEAR(w.low, 0.6044684273515115, 1e-12);
  EXPECT_NEAR(w.high, 0.8412847250644762, 1e-12);
  w = wilson_interval(0, 20);
  EXPECT_EQ(w.low, 0.0);
  EXPECT_NEAR(w.high, 0.16112515805281935, 1e-12);
  w = wilson_interval(2, 10, 0.90);
  EXPECT_NEAR(w.low, 0.06855798773753208, 1e-12);
  EXPECT_NEAR(w.high, 0.4592071943125121, 1e-12);
  w = wilson_interval(0, 0);
  EXPECT_EQ(w.low, 0.0);
  EXPECT_EQ(w.high, 1.0);
}

TEST(StatsIntervals, BootstrapMeanMatchesTheNormalIntervalAndIsReproducible) {
  // 400 values of a fixed sequence: the percentile bootstrap of the mean must be close to
  // mean ± 1.96 · sqrt(population variance / n), the large-sample limit.
  std::vector<double> v;
  for (int i = 0; i < 400; ++i) v.push_back(std::sin(i * 1.7) * 3 + (i % 7));
  double m = 0, var = 0;
  for (double x : v) m += x;
  m /= 400;
  for (double x : v) var += (x - m) * (x - m);
  const double half = 1.959963984540054 * std::sqrt(var / 400 / 400);
  const Interval b = bootstrap_mean_interval(v, 0.95, 20000, 7);
  EXPECT_NEAR(b.low, m - half, 0.05 * half);
  EXPECT_NEAR(b.high, m + half, 0.05 * half);
  const Interval again = bootstrap_mean_interval(v, 0.95, 20000, 7);
  EXPECT_EQ(b.low, again.low);
  EXPECT_EQ(b.high, again.high);
  const Interval other_seed = bootstrap_mean_interval(v, 0.95, 20000, 8);
  EXPECT_NE(b.low, other_seed.low);
  const std::vector<double> constant(50, 0.25);
  const Interval c = bootstrap_mean_interval(constant);
  EXPECT_EQ(c.low, 0.25);
  EXPECT_EQ(c.high, 0.25);
  EXPECT_TRUE(std::isnan(bootstrap_mean_interval({}).low));
}

TEST(StatsTests, McNemarEqualsScipy) {
  McNemarResult r = mcnemar(5, 15);
  EXPECT_NEAR(r.p_exact, 0.04138946533203125, 1e-12);  // binomtest(5, 20, 0.5)
  EXPECT_NEAR(r.chi2, 4.05, 1e-12);                    // (|5-15|-1)^2/20 by hand
  EXPECT_NEAR(r.p_chi2, 0.04417134490844271, 1e-12);   // chi2.sf(4.05, 1)
  r = mcnemar(45, 30);
  EXPECT_NEAR(r.p_exact, 0.10534226887460482, 1e-12);
  EXPECT_NEAR(r.p_chi2, 0.10596880912720207, 1e-12);
  r = mcnemar(0, 0);
  EXPECT_EQ(r.p_exact, 1.0);
  EXPECT_EQ(r.p_chi2, 1.0);
  EXPECT_EQ(mcnemar(3, 3).p_exact, 1.0);
}

TEST(StatsTests, PairedTTestEqualsScipyTtestRel) {
  const std::vector<double> a = {0.61, 0.72, 0.55, 0.80, 0.67, 0.59, 0.74, 0.70};
  const std::vector<double> b = {0.58, 0.70, 0.57, 0.71, 0.66, 0.52, 0.69, 0.71};
  const PairedTResult r = paired_t_test(a, b);
  EXPECT_EQ(r.n, 8u);
  EXPECT_EQ(r.df, 7.0);
  EXPECT_NEAR(r.t, 2.2228757209048475, 1e-10);
  EXPECT_NEAR(r.p_value, 0.06161522015770433, 1e-10);
  EXPECT_NEAR(r.cohens_dz, 0.7859052479933766, 1e-10);
  const std::vector<double> shifted = {1.0, 2.0, 3.0}, base = {0.5, 1.5, 2.5};
  EXPECT_EQ(paired_t_test(shifted, base).p_value, 0.0);  // constant non-zero difference
  EXPECT_EQ(paired_t_test(base, base).p_value, 1.0);
  EXPECT_THROW(paired_t_test(a, shifted), InputError);
}

TEST(StatsTests, MinimumDetectableEffectsEqualTr125Section16) {
  // TR125 §16.1: 485 benchmark items -> 9.0 pp; 250 generations -> d = 0.251.
  EXPECT_NEAR(mde_two_proportions(485), 0.08995348015564747, 1e-12);
  EXPECT_NEAR(mde_cohens_d(250), 0.2505813996983669, 1e-12);
  EXPECT_NEAR(mde_two_proportions(100, 0.3), 0.18156347343082574, 1e-12);
  EXPECT_TRUE(std::isinf(mde_cohens_d(0)));
}

}  // namespace
}  // namespace lp::stats
