#pragma once
// The statistics of a perplexity / KL-divergence run, accumulated token by token in text
// order, with the formulas llama-perplexity prints (tools/perplexity/perplexity.cpp,
// kl_divergence): means with standard errors, the PPL ratio's error through the covariance
// of the two NLL series, RMS Δp's error by the delta method, "same top p" as a binomial
// proportion, and percentiles over every scored token.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stats/descriptive.h"
#include "validate/token_scoring.h"

namespace lp::validate {

struct KldSummary {
  uint64_t tokens = 0;
  stats::Estimate ppl, ppl_base, ln_ppl_ratio, ppl_ratio, ppl_diff;
  double ln_ppl_correlation = 0.0;
  stats::Estimate kld;
  double kld_max = 0, kld_min = 0, kld_median = 0;
  std::vector<std::pair<double, double>> kld_percentiles;  // (percent, value): 99.9 99 95 90 10 5 1 0.1
  stats::Estimate same_top;                                // fraction
  double same_top_wilson_low = 0, same_top_wilson_high = 0;
  stats::Estimate p_diff, p_diff_rms;                      // fractions (not percent)
  double p_diff_max = 0, p_diff_min = 0, p_diff_median = 0;
  std::vector<std::pair<double, double>> p_diff_percentiles;  // 99.9 99 95 90 75 25 10 5 1 0.1
};

struct PerplexitySummary {
  uint64_t tokens = 0;
  stats::Estimate ln_ppl;  // mean NLL in nats
  stats::Estimate ppl;     // exp(mean NLL) ± ppl · se(NLL), as llama-perplexity
};

class ScoreAccumulator {
 public:
  explicit ScoreAccumulator(bool with_reference) : with_reference_(with_reference) {}

  void add(const TokenScore& s);
  bool with_reference() const { return with_reference_; }
  uint64_t count() const { return nll_.n; }

  PerplexitySummary perplexity() const;
  KldSummary kld() const;  // only with a reference
  // The per-chunk progress values llama-perplexity prints in its KLD table.
  std::string kld_progress_line(int64_t chunk) const;

 private:
  bool with_reference_;
  stats::MomentSums nll_, nll_ref_, kld_, p_diff_, p_diff_sq_;  // p_diff_sq_: Σ Δp², Σ Δp⁴
  double sum_nll_nll_ref_ = 0.0;
  uint64_t same_top_ = 0;
  std::vector<double> kld_values_, p_diff_values_;
};

// JSON of an estimate: {"value", "se", "ci95": [low, high]} with a normal interval.
nlohmann::json estimate_json(const stats::Estimate& e);
nlohmann::json perplexity_json(const PerplexitySummary& s);
nlohmann::json kld_json(const KldSummary& s);

// llama-perplexity's final text blocks.
std::string perplexity_text(const PerplexitySummary& s);
std::string kld_text(const KldSummary& s);

}  // namespace lp::validate
