#include "stats/descriptive.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lp::stats {

Estimate MomentSums::mean() const {
  if (n == 0) return {};
  const double m = sum / static_cast<double>(n);
  double var = sum2 / static_cast<double>(n) - m * m;  // population variance
  const double se = (n > 1 && var > 0) ? std::sqrt(var / static_cast<double>(n - 1)) : 0.0;
  return {m, se};
}

double covariance_of_means(double sum_x, double sum_y, double sum_xy, uint64_t n) {
  if (n < 2) return 0.0;
  const auto dn = static_cast<double>(n);
  return (sum_xy / dn - (sum_x / dn) * (sum_y / dn)) / (dn - 1);
}

Estimate mean_with_se(std::span<const double> values) {
  // Two passes: the sums formula loses digits when the mean is large against the spread.
  if (values.empty()) return {};
  double sum = 0;
  for (double v : values) sum += v;
  const double m = sum / static_cast<double>(values.size());
  if (values.size() < 2) return {m, 0.0};
  double ss = 0;
  for (double v : values) ss += (v - m) * (v - m);
  const auto n = static_cast<double>(values.size());
  return {m, std::sqrt(ss / (n - 1) / n)};
}

double percentile_sorted(std::span<const double> sorted, double fraction) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  const double pos = fraction * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(pos);
  const double w = pos - static_cast<double>(i);
  const size_t j = std::min(i + 1, sorted.size() - 1);
  return (1 - w) * sorted[i] + w * sorted[j];
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return percentile_sorted(values, fraction);
}

}  // namespace lp::stats
