#include "stats/hypothesis_tests.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "stats/distributions.h"

namespace lp::stats {

McNemarResult mcnemar(uint64_t only_a, uint64_t only_b) {
  McNemarResult r;
  r.only_a = only_a;
  r.only_b = only_b;
  const uint64_t n = only_a + only_b;
  if (n == 0) return r;
  const double diff = std::fabs(static_cast<double>(only_a) - static_cast<double>(only_b));
  r.chi2 = std::pow(std::max(0.0, diff - 1), 2) / static_cast<double>(n);
  // A chi-square with one degree of freedom is a squared standard normal.
  r.p_chi2 = 2 * (1 - normal_cdf(std::sqrt(r.chi2)));
  r.p_exact = std::min(1.0, 2 * binomial_cdf(std::min(only_a, only_b), n, 0.5));
  return r;
}

PairedTResult paired_t_test(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) fail("paired t-test: {} values against {}", a.size(), b.size());
  PairedTResult r;
  r.n = a.size();
  if (r.n == 0) return r;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] - b[i];
  const auto n = static_cast<double>(r.n);
  r.mean_difference = sum / n;
  if (r.n < 2) return r;
  double ss = 0;
  for (size_t i = 0; i < a.size(); ++i) ss += std::pow(a[i] - b[i] - r.mean_difference, 2);
  const double sd = std::sqrt(ss / (n - 1));
  r.df = n - 1;
  if (sd == 0) {
    if (r.mean_difference != 0) {
      r.t = std::copysign(std::numeric_limits<double>::infinity(), r.mean_difference);
      r.p_value = 0;
      r.cohens_dz = r.t;
    }
    return r;
  }
  r.t = r.mean_difference / (sd / std::sqrt(n));
  r.p_value = 2 * student_t_cdf(-std::fabs(r.t), r.df);
  r.cohens_dz = r.mean_difference / sd;
  return r;
}

namespace {
double z_sum(double alpha, double power) { return normal_quantile(1 - alpha / 2) + normal_quantile(power); }
}  // namespace

double mde_two_proportions(uint64_t n_per_group, double p, double alpha, double power) {
  if (n_per_group == 0) return std::numeric_limits<double>::infinity();
  return z_sum(alpha, power) * std::sqrt(2 * p * (1 - p) / static_cast<double>(n_per_group));
}

double mde_cohens_d(uint64_t n_per_group, double alpha, double power) {
  if (n_per_group == 0) return std::numeric_limits<double>::infinity();
  return z_sum(alpha, power) * std::sqrt(2.0 / static_cast<double>(n_per_group));
}

}  // namespace lp::stats
