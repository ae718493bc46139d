#include "validate/paired_comparison.h"

#include <numeric>

#include "core/error.h"
#include "stats/hypothesis_tests.h"
#include "stats/intervals.h"
#include "validate/mc_report.h"

namespace lp::validate {
namespace {

constexpr double kAlpha = 0.05;

nlohmann::json t_json(const stats::PairedTResult& t) {
  return {{"t", t.t}, {"df", t.df}, {"p_value", t.p_value}, {"cohens_dz", t.cohens_dz}};
}

double mean(std::span<const double> v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

}  // namespace

nlohmann::json paired_binary_json(const std::vector<bool>& model, const std::vector<bool>& reference) {
  if (model.size() != reference.size()) fail("paired comparison of {} and {} items", model.size(), reference.size());
  uint64_t right_model = 0, right_reference = 0, only_model = 0, only_reference = 0;
  std::vector<double> a, b;
  for (size_t i = 0; i < model.size(); ++i) {
    right_model += model[i];
    right_reference += reference[i];
    only_model += model[i] && !reference[i];
    only_reference += !model[i] && reference[i];
    a.push_back(model[i] ? 1.0 : 0.0);
    b.push_back(reference[i] ? 1.0 : 0.0);
  }
  const uint64_t n = model.size();
  const auto m = stats::mcnemar(only_model, only_reference);
  const double p_ref = n > 0 ? static_cast<double>(right_reference) / static_cast<double>(n) : 0.5;
  return {{"items", n},
          {"model", accuracy_json(right_model, n)},
          {"reference", accuracy_json(right_reference, n)},
          {"difference_pp", n > 0 ? 100.0 * (static_cast<double>(right_model) - static_cast<double>(right_reference)) /
                                        static_cast<double>(n)
                                  : 0.0},
          {"mcnemar",
           {{"only_model", m.only_a}, {"only_reference", m.only_b}, {"chi2", m.chi2}, {"p_chi2", m.p_chi2},
            {"p_exact", m.p_exact}}},
          {"paired_t", t_json(stats::paired_t_test(a, b))},
          // At the reference's accuracy (TR125 uses 0.5, the widest case).
          {"mde_pp", n > 0 ? 100.0 * stats::mde_two_proportions(n, p_ref > 0.0 && p_ref < 1.0 ? p_ref : 0.5) : 0.0},
          {"significant", m.p_exact < kAlpha}};
}

nlohmann::json paired_continuous_json(std::span<const double> model, std::span<const double> reference) {
  if (model.size() != reference.size()) fail("paired comparison of {} and {} items", model.size(), reference.size());
  std::vector<double> diff(model.size());
  for (size_t i = 0; i < model.size(); ++i) diff[i] = model[i] - reference[i];
  const auto t = stats::paired_t_test(model, reference);
  const auto ci = stats::bootstrap_mean_interval(diff);
  return {{"items", model.size()},
          {"model_mean", mean(model)},
          {"reference_mean", mean(reference)},
          {"mean_difference", mean(diff)},
          {"difference_bootstrap95", {ci.low, ci.high}},
          {"paired_t", t_json(t)},
          {"mde_cohens_d", model.empty() ? 0.0 : stats::mde_cohens_d(model.size())},
          {"significant", t.p_value < kAlpha}};
}

}  // namespace lp::validate
