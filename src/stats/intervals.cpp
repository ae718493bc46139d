#include "stats/intervals.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "stats/descriptive.h"
#include "stats/distributions.h"

namespace lp::stats {

Interval wilson_interval(uint64_t successes, uint64_t n, double confidence) {
  if (n == 0) return {0.0, 1.0};
  const double z = normal_quantile(0.5 + confidence / 2);
  const auto dn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / dn;
  const double z2 = z * z;
  const double center = (p + z2 / (2 * dn)) / (1 + z2 / dn);
  const double half = z / (1 + z2 / dn) * std::sqrt(p * (1 - p) / dn + z2 / (4 * dn * dn));
  // At 0 or n successes the bound is exactly 0 or 1; the formula leaves rounding dust there.
  return {successes == 0 ? 0.0 : std::max(0.0, center - half), successes == n ? 1.0 : std::min(1.0, center + half)};
}

Interval bootstrap_interval(std::span<const double> values,
                            const std::function<double(std::span<const double>)>& statistic, double confidence,
                            int resamples, uint64_t seed) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (values.empty() || resamples < 1) return {nan, nan};
  std::mt19937_64 rng(seed);  // the engine's sequence is fixed by the standard
  const uint64_t n = values.size();
  std::vector<double> sample(n), stats(static_cast<size_t>(resamples));
  for (auto& s : stats) {
    // Modulo bias is n / 2^64: nothing next to the resampling noise itself.
    for (auto& x : sample) x = values[rng() % n];
    s = statistic(sample);
  }
  std::sort(stats.begin(), stats.end());
  const double alpha = 1 - confidence;
  return {percentile_sorted(stats, alpha / 2), percentile_sorted(stats, 1 - alpha / 2)};
}

Interval bootstrap_mean_interval(std::span<const double> values, double confidence, int resamples, uint64_t seed) {
  return bootstrap_interval(
      values,
      [](std::span<const double> s) {
        double sum = 0;
        for (double v : s) sum += v;
        return sum / static_cast<double>(s.size());
      },
      confidence, resamples, seed);
}

}  // namespace lp::stats
