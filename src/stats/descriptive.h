#pragma once
// Means with their standard error and percentiles: the summaries every validate metric is
// reported with. The formulas are the ones llama-perplexity prints, so our numbers read the
// same as the tool people compare against.
#include <cstdint>
#include <span>
#include <vector>

namespace lp::stats {

// A measured value and its uncertainty (one standard error, Gaussian assumption).
struct Estimate {
  double value = 0.0;
  double se = 0.0;
};

// Count, sum and sum of squares: enough for a mean and its standard error, and mergeable
// across threads and chunks without keeping the values.
struct MomentSums {
  uint64_t n = 0;
  double sum = 0.0;
  double sum2 = 0.0;

  void add(double x) {
    ++n;
    sum += x;
    sum2 += x * x;
  }
  void merge(const MomentSums& o) {
    n += o.n;
    sum += o.sum;
    sum2 += o.sum2;
  }
  // mean ± sqrt(population variance / (n - 1)), which is the sample standard error
  // s / sqrt(n); the error is 0 for fewer than two values or a non-positive variance
  // (rounding on constant data).
  Estimate mean() const;
};

// Sample covariance of the means of two paired series (cov(x, y) / n), from the sums
// llama-perplexity keeps: Σx, Σy, Σxy. 0 for fewer than two pairs.
double covariance_of_means(double sum_x, double sum_y, double sum_xy, uint64_t n);

Estimate mean_with_se(std::span<const double> values);

// The `fraction` quantile of ascending `sorted` values, interpolated linearly between the
// closest ranks (position fraction * (n - 1)): numpy's default and llama-perplexity's.
// fraction <= 0 gives the minimum, >= 1 the maximum. Empty input gives NaN.
double percentile_sorted(std::span<const double> sorted, double fraction);
double percentile(std::vector<double> values, double fraction);  // sorts a copy

}  // namespace lp::stats
