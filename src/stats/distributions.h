#pragma once
// The few distribution functions the statistics need (normal, Student's t, binomial), so the
// tool needs no statistics library; each is tested against scipy's values.
#include <cstdint>

namespace lp::stats {

double normal_cdf(double x);
// Inverse of normal_cdf for p in (0, 1); ±infinity at 0 and 1.
double normal_quantile(double p);
// Regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1].
double incomplete_beta(double a, double b, double x);
// P(T <= t) for Student's t with `df` degrees of freedom (df > 0, need not be whole).
double student_t_cdf(double t, double df);
// P(X <= k) for X ~ Binomial(n, p).
double binomial_cdf(uint64_t k, uint64_t n, double p);

}  // namespace lp::stats
