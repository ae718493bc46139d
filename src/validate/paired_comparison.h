#pragma once
// A model against its reference on the same items (TR125 §16): for right/wrong scores the
// accuracy difference, McNemar's test on the discordant items and the paired t-test TR125
// runs on binary exact_match; for continuous scores the mean difference with a bootstrap
// interval and the paired t-test; each with the minimum detectable effect at alpha 0.05,
// power 0.8 for that many items.
//
// Binary:     {"items", "model": ACC, "reference": ACC, "difference_pp",
//              "mcnemar": {"only_model", "only_reference", "chi2", "p_chi2", "p_exact"},
//              "paired_t": T, "mde_pp", "significant" (McNemar exact p < 0.05)}
// Continuous: {"items", "model_mean", "reference_mean", "mean_difference",
//              "difference_bootstrap95": [low, high], "paired_t": T, "mde_cohens_d",
//              "significant" (t-test p < 0.05)}
// T = {"t", "df", "p_value", "cohens_dz"}. Differences are model minus reference.
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace lp::validate {

nlohmann::json paired_binary_json(const std::vector<bool>& model, const std::vector<bool>& reference);
nlohmann::json paired_continuous_json(std::span<const double> model, std::span<const double> reference);

}  // namespace lp::validate
