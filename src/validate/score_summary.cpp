#include "validate/score_summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "stats/intervals.h"

namespace lp::validate {

void ScoreAccumulator::add(const TokenScore& s) {
  nll_.add(s.nll);
  if (!with_reference_) return;
  nll_ref_.add(s.nll_ref);
  sum_nll_nll_ref_ += s.nll * s.nll_ref;
  kld_.add(s.kld);
  p_diff_.add(s.p_diff);
  p_diff_sq_.add(s.p_diff * s.p_diff);
  same_top_ += s.same_top ? 1 : 0;
  kld_values_.push_back(s.kld);
  p_diff_values_.push_back(s.p_diff);
}

PerplexitySummary ScoreAccumulator::perplexity() const {
  PerplexitySummary p;
  p.tokens = nll_.n;
  p.ln_ppl = nll_.mean();
  const double ppl = std::exp(p.ln_ppl.value);
  p.ppl = {ppl, ppl * p.ln_ppl.se};  // d exp(x) = exp(x) dx
  return p;
}

namespace {

struct RatioParts {
  stats::Estimate ln_q, ln_base, ln_ratio;
  double cov = 0;
};

RatioParts ratio_parts(const stats::MomentSums& q, const stats::MomentSums& base, double sum_qb) {
  RatioParts r;
  r.ln_q = q.mean();
  r.ln_base = base.mean();
  r.cov = stats::covariance_of_means(q.sum, base.sum, sum_qb, q.n);
  const double var = r.ln_q.se * r.ln_q.se + r.ln_base.se * r.ln_base.se - 2 * r.cov;
  r.ln_ratio = {r.ln_q.value - r.ln_base.value, var > 0 ? std::sqrt(var) : 0.0};
  return r;
}

double median_sorted(const std::vector<double>& v) { return stats::percentile_sorted(v, 0.5); }

}  // namespace

KldSummary ScoreAccumulator::kld() const {
  KldSummary k;
  k.tokens = nll_.n;
  if (!with_reference_ || k.tokens == 0) return k;
  const RatioParts r = ratio_parts(nll_, nll_ref_, sum_nll_nll_ref_);
  const double ppl = std::exp(r.ln_q.value), ppl_base = std::exp(r.ln_base.value);
  k.ppl = {ppl, ppl * r.ln_q.se};
  k.ppl_base = {ppl_base, ppl_base * r.ln_base.se};
  const double denom = r.ln_q.se * r.ln_base.se;
  k.ln_ppl_correlation = denom > 0 ? r.cov / denom : 1.0;
  k.ln_ppl_ratio = r.ln_ratio;
  k.ppl_ratio = {std::exp(r.ln_ratio.value), std::exp(r.ln_ratio.value) * r.ln_ratio.se};
  const double ppl_cov = ppl * ppl_base * r.cov;
  const double diff_var = k.ppl.se * k.ppl.se + k.ppl_base.se * k.ppl_base.se - 2 * ppl_cov;
  k.ppl_diff = {ppl - ppl_base, diff_var > 0 ? std::sqrt(diff_var) : 0.0};

  k.kld = kld_.mean();
  std::vector<double> sorted = kld_values_;
  std::sort(sorted.begin(), sorted.end());
  k.kld_max = sorted.back();
  k.kld_min = sorted.front();
  k.kld_median = median_sorted(sorted);
  for (double pct : {99.9, 99.0, 95.0, 90.0, 10.0, 5.0, 1.0, 0.1}) {
    k.kld_percentiles.emplace_back(pct, stats::percentile_sorted(sorted, pct / 100));
  }

  const double n = static_cast<double>(k.tokens);
  const double top = static_cast<double>(same_top_) / n;
  k.same_top = {top, k.tokens > 1 ? std::sqrt(top * (1 - top) / (n - 1)) : 0.0};
  const stats::Interval w = stats::wilson_interval(same_top_, k.tokens);
  k.same_top_wilson_low = w.low;
  k.same_top_wilson_high = w.high;

  k.p_diff = p_diff_.mean();
  const stats::Estimate mse = p_diff_sq_.mean();
  const double rms = std::sqrt(mse.value);
  k.p_diff_rms = {rms, rms > 0 ? 0.5 / rms * mse.se : 0.0};  // d sqrt(x) = dx / (2 sqrt(x))
  sorted = p_diff_values_;
  std::sort(sorted.begin(), sorted.end());
  k.p_diff_max = sorted.back();
  k.p_diff_min = sorted.front();
  k.p_diff_median = median_sorted(sorted);
  for (double pct : {99.9, 99.0, 95.0, 90.0, 75.0, 25.0, 10.0, 5.0, 1.0, 0.1}) {
    k.p_diff_percentiles.emplace_back(pct, stats::percentile_sorted(sorted, pct / 100));
  }
  return k;
}

std::string ScoreAccumulator::kld_progress_line(int64_t chunk) const {
  const RatioParts r = ratio_parts(nll_, nll_ref_, sum_nll_nll_ref_);
  const double ppl = std::exp(r.ln_q.value);
  const stats::Estimate k = kld_.mean();
  const stats::Estimate mse = p_diff_sq_.mean();
  const double rms = std::sqrt(mse.value);
  const double n = static_cast<double>(nll_.n);
  const double top = static_cast<double>(same_top_) / n;
  return fmt::format("{:4d}    {:9.4f} ± {:9.4f}    {:10.5f} ± {:10.5f}    {:10.5f} ± {:10.5f}    {:6.3f} ± {:6.3f} %    "
                     "{:6.3f} ± {:6.3f} %",
                     chunk, ppl, ppl * r.ln_q.se, r.ln_ratio.value, r.ln_ratio.se, k.value, k.se, 100 * rms,
                     rms > 0 ? 100 * 0.5 / rms * mse.se : 0.0, 100 * top,
                     n > 1 ? 100 * std::sqrt(top * (1 - top) / (n - 1)) : 0.0);
}

nlohmann::json estimate_json(const stats::Estimate& e) {
  return {{"value", e.value}, {"se", e.se}, {"ci95", {e.value - 1.959963984540054 * e.se, e.value + 1.959963984540054 * e.se}}};
}

nlohmann::json perplexity_json(const PerplexitySummary& s) {
  nlohmann::json ppl = estimate_json(s.ppl);
  // A log-normal interval: exp of the NLL mean's interval, never below zero.
  const double z = 1.959963984540054;
  ppl["ci95"] = {std::exp(s.ln_ppl.value - z * s.ln_ppl.se), std::exp(s.ln_ppl.value + z * s.ln_ppl.se)};
  return {{"tokens", s.tokens}, {"ppl", ppl}, {"mean_nll", estimate_json(s.ln_ppl)}};
}

namespace {
nlohmann::json percentiles_json(const std::vector<std::pair<double, double>>& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [pct, v] : p) j[fmt::format("{:g}", pct)] = v;
  return j;
}
}  // namespace

nlohmann::json kld_json(const KldSummary& s) {
  nlohmann::json same_top = estimate_json(s.same_top);
  same_top["wilson95"] = {s.same_top_wilson_low, s.same_top_wilson_high};
  return {
      {"tokens", s.tokens},
      {"kl_divergence",
       {{"mean", estimate_json(s.kld)}, {"median", s.kld_median}, {"max", s.kld_max}, {"min", s.kld_min},
        {"percentiles", percentiles_json(s.kld_percentiles)}}},
      {"same_top_p", same_top},
      {"delta_p",
       {{"mean", estimate_json(s.p_diff)}, {"rms", estimate_json(s.p_diff_rms)}, {"median", s.p_diff_median},
        {"max", s.p_diff_max}, {"min", s.p_diff_min}, {"percentiles", percentiles_json(s.p_diff_percentiles)}}},
      {"perplexity",
       {{"ppl_q", estimate_json(s.ppl)}, {"ppl_base", estimate_json(s.ppl_base)},
        {"ln_ppl_correlation", s.ln_ppl_correlation}, {"ln_ppl_ratio", estimate_json(s.ln_ppl_ratio)},
        {"ppl_ratio", estimate_json(s.ppl_ratio)}, {"ppl_diff", estimate_json(s.ppl_diff)}}},
  };
}

std::string perplexity_text(const PerplexitySummary& s) {
  return fmt::format("Final estimate: PPL = {:.4f} +/- {:.5f}\n", s.ppl.value, s.ppl.se);
}

std::string kld_text(const KldSummary& s) {
  std::string t;
  auto line = [&t](const std::string& l) { t += l + "\n"; };
  line("====== Perplexity statistics ======");
  line(fmt::format("Mean PPL(Q)                   : {:10.6f} ± {:10.6f}", s.ppl.value, s.ppl.se));
  line(fmt::format("Mean PPL(base)                : {:10.6f} ± {:10.6f}", s.ppl_base.value, s.ppl_base.se));
  line(fmt::format("Cor(ln(PPL(Q)), ln(PPL(base))): {:6.2f}%", 100 * s.ln_ppl_correlation));
  line(fmt::format("Mean ln(PPL(Q)/PPL(base))     : {:10.6f} ± {:10.6f}", s.ln_ppl_ratio.value, s.ln_ppl_ratio.se));
  line(fmt::format("Mean PPL(Q)/PPL(base)         : {:10.6f} ± {:10.6f}", s.ppl_ratio.value, s.ppl_ratio.se));
  line(fmt::format("Mean PPL(Q)-PPL(base)         : {:10.6f} ± {:10.6f}", s.ppl_diff.value, s.ppl_diff.se));
  line("");
  line("====== KL divergence statistics ======");
  line(fmt::format("Mean    KLD: {:10.6f} ± {:10.6f}", s.kld.value, s.kld.se));
  line(fmt::format("Maximum KLD: {:10.6f}", s.kld_max));
  auto pct_label = [](double p) { return fmt::format("{:4.1f}%", p); };
  for (const auto& [pct, v] : s.kld_percentiles) {
    if (pct == 10.0) line(fmt::format("Median  KLD: {:10.6f}", s.kld_median));
    line(fmt::format("{}   KLD: {:10.6f}", pct_label(pct), v));
  }
  line(fmt::format("Minimum KLD: {:10.6f}", s.kld_min));
  line("");
  line("====== Token probability statistics ======");
  line(fmt::format("Mean    Δp: {:6.3f} ± {:5.3f} %", 100 * s.p_diff.value, 100 * s.p_diff.se));
  line(fmt::format("Maximum Δp: {:6.3f}%", 100 * s.p_diff_max));
  for (const auto& [pct, v] : s.p_diff_percentiles) {
    if (pct == 25.0) line(fmt::format("Median  Δp: {:6.3f}%", 100 * s.p_diff_median));
    line(fmt::format("{}   Δp: {:6.3f}%", pct_label(pct), 100 * v));
  }
  line(fmt::format("Minimum Δp: {:6.3f}%", 100 * s.p_diff_min));
  line(fmt::format("RMS Δp    : {:6.3f} ± {:5.3f} %", 100 * s.p_diff_rms.value, 100 * s.p_diff_rms.se));
  line(fmt::format("Same top p: {:6.3f} ± {:5.3f} %", 100 * s.same_top.value, 100 * s.same_top.se));
  return t;
}

}  // namespace lp::validate
