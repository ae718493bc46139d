#pragma once
// Comparing two models on the same items (McNemar for right/wrong answers, paired t-test for
// continuous scores) and the smallest difference a study of a given size can detect
// (TR125 §16: normal approximation, alpha 0.05, power 0.8).
#include <cstdint>
#include <span>

namespace lp::stats {

struct McNemarResult {
  uint64_t only_a = 0;   // items model A got right and B wrong
  uint64_t only_b = 0;   // items B got right and A wrong
  double chi2 = 0.0;     // (|b - c| - 1)² / (b + c): Edwards' continuity correction
  double p_chi2 = 1.0;   // its two-sided p-value (chi-square, 1 degree of freedom)
  double p_exact = 1.0;  // exact two-sided binomial p-value: valid for any count, the one to use
};
// Only discordant pairs matter; no discordant pair gives chi2 0 and p-values 1.
McNemarResult mcnemar(uint64_t only_a, uint64_t only_b);

struct PairedTResult {
  uint64_t n = 0;
  double mean_difference = 0.0;  // mean of a - b
  double t = 0.0;
  double df = 0.0;
  double p_value = 1.0;  // two-sided
  double cohens_dz = 0.0;  // mean difference / standard deviation of the differences
};
// a and b must be the same length (InputError otherwise); fewer than two pairs or identical
// differences (zero spread) give t = 0 and p = 1 unless the mean difference is non-zero,
// then t = ±inf and p = 0.
PairedTResult paired_t_test(std::span<const double> a, std::span<const double> b);

// Smallest difference between two accuracies near `p`, each measured on n items, detectable
// by a two-sided test at `alpha` with `power`: (z_{1-α/2} + z_power) · sqrt(2 p (1 - p) / n).
// TR125: 485 items at p = 0.5 give 9.0 percentage points.
double mde_two_proportions(uint64_t n_per_group, double p = 0.5, double alpha = 0.05, double power = 0.8);
// The same for a continuous metric, in standard deviations (Cohen's d): (z + z) · sqrt(2 / n).
// TR125: 250 generations give d = 0.251.
double mde_cohens_d(uint64_t n_per_group, double alpha = 0.05, double power = 0.8);

}  // namespace lp::stats
