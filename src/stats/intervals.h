#pragma once
// Confidence intervals for accuracies (Wilson) and for any statistic of a sample (bootstrap).
#include <cstdint>
#include <functional>
#include <span>

namespace lp::stats {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// Wilson score interval for `successes` out of `n` at two-sided `confidence`: unlike
// p ± z·se it stays inside [0, 1] and keeps its coverage near 0% and 100% accuracy, where
// quantized models on easy or hard subsets often are. n == 0 gives [0, 1].
Interval wilson_interval(uint64_t successes, uint64_t n, double confidence = 0.95);

// Percentile bootstrap: `resamples` samples of values drawn with replacement, `statistic` of
// each, and the (1-confidence)/2 and (1+confidence)/2 quantiles of those. Deterministic for a
// seed (our own index draw, not std::uniform_int_distribution, whose output differs between
// standard libraries), so a record can be reproduced. For paired comparisons pass the
// per-item differences. Empty values give NaNs.
Interval bootstrap_interval(std::span<const double> values,
                            const std::function<double(std::span<const double>)>& statistic,
                            double confidence = 0.95, int resamples = 10000, uint64_t seed = 1);
Interval bootstrap_mean_interval(std::span<const double> values, double confidence = 0.95, int resamples = 10000,
                                 uint64_t seed = 1);

}  // namespace lp::stats
