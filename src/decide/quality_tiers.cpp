#include "decide/quality_tiers.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lp::decide {
namespace {

constexpr std::array<std::string_view, 4> kTierNames = {"negligible", "acceptable", "concerning", "unacceptable"};

// The same walk for both signals; only the column of the table differs.
template <class Column>
QualityTier tier_from_table(double delta, Column column) {
  for (const TierThreshold& row : kTierThresholds)
    if (delta >= column(row)) return row.tier;
  // Below every row, and NaN (no comparison holds): a delta we cannot trust is not deployable.
  return QualityTier::unacceptable;
}

void check_interval(const DeltaInterval& interval, std::string_view what) {
  if (!(interval.lower <= interval.upper))
    lp::fail("the {} interval [{}, {}] has its lower bound above its upper bound", what, interval.lower,
             interval.upper);
}

}  // namespace

std::string_view tier_name(QualityTier tier) { return kTierNames[static_cast<size_t>(tier)]; }

QualityTier parse_tier(std::string_view name) {
  for (size_t i = 0; i < kTierNames.size(); ++i)
    if (kTierNames[i] == name) return static_cast<QualityTier>(i);
  lp::fail("'{}' is not a quality tier (expected negligible, acceptable, concerning or unacceptable)", name);
}

QualityTier worse(QualityTier a, QualityTier b) { return std::max(a, b); }

QualityTier benchmark_tier(double delta_pp) {
  return tier_from_table(delta_pp, [](const TierThreshold& row) { return row.min_benchmark_pp; });
}

QualityTier generation_tier(double delta_pct) {
  return tier_from_table(delta_pct, [](const TierThreshold& row) { return row.min_generation_pct; });
}

TierDecision classify_quality(const QualityDeltas& deltas) {
  TierDecision d;
  const auto& b = deltas.benchmark_pp;
  const auto& g = deltas.generation_pct;
  if (!b && !g) lp::fail("a quality tier needs a benchmark delta or a generation delta, and this level has neither");
  if (b) d.benchmark = benchmark_tier(*b);
  if (g) d.generation = generation_tier(*g);
  if (b && g) {
    d.basis = TierBasis::both;
    d.tier = worse(*d.benchmark, *d.generation);
    const char* decides = *d.benchmark == *d.generation  ? "both agree"
                          : *d.benchmark > *d.generation ? "benchmark decides"
                                                         : "generation decides";
    d.explanation = fmt::format("benchmark {:+.1f}pp ({}), generation {:+.1f}% ({}): {}", *b, tier_name(*d.benchmark),
                                *g, tier_name(*d.generation), decides);
  } else if (b) {
    d.basis = TierBasis::benchmark_only;
    d.tier = *d.benchmark;
    d.explanation = fmt::format("no generation delta: benchmark {:+.1f}pp ({}) decides alone", *b, tier_name(d.tier));
  } else {
    d.basis = TierBasis::generation_only;
    d.tier = *d.generation;
    d.explanation = fmt::format("no benchmark delta: generation {:+.1f}% ({}) decides alone", *g, tier_name(d.tier));
  }
  return d;
}

TierRange benchmark_tier_range(DeltaInterval interval_pp) {
  check_interval(interval_pp, "benchmark delta");
  return {benchmark_tier(interval_pp.lower), benchmark_tier(interval_pp.upper)};
}

TierRange generation_tier_range(DeltaInterval interval_pct) {
  check_interval(interval_pct, "generation delta");
  return {generation_tier(interval_pct.lower), generation_tier(interval_pct.upper)};
}

TierRange classify_quality_range(const QualityDeltaIntervals& intervals) {
  const auto& b = intervals.benchmark_pp;
  const auto& g = intervals.generation_pct;
  if (!b && !g) lp::fail("a quality tier range needs a benchmark or a generation interval, and this level has neither");
  if (b && !g) return benchmark_tier_range(*b);
  if (g && !b) return generation_tier_range(*g);
  // Each end combined as point deltas are: the worse signal at the pessimistic end, and the
  // worse signal at the optimistic end.
  const TierRange rb = benchmark_tier_range(*b), rg = generation_tier_range(*g);
  return {worse(rb.at_lower, rg.at_lower), worse(rb.at_upper, rg.at_upper)};
}

std::optional<AccuracyCliff> find_accuracy_cliff(std::span<const LevelTier> levels_high_to_low) {
  for (size_t i = 0; i < levels_high_to_low.size(); ++i) {
    if (levels_high_to_low[i].tier < QualityTier::concerning) continue;
    AccuracyCliff cliff;
    cliff.first_concerning = i;
    if (i > 0) {
      cliff.last_safe = i - 1;
      const auto& safe = levels_high_to_low[i - 1].benchmark_pp;
      const auto& fall = levels_high_to_low[i].benchmark_pp;
      if (safe && fall) cliff.size_pp = *safe - *fall;
    }
    return cliff;
  }
  return std::nullopt;
}

KeyMetricAverage tr125_key_metric_average() {
  return {"tr125", {"bertscore", "coherence", "rouge_l"}, DeltaForm::mean_of_percent_changes};
}

KeyMetricAverage default_key_metric_average() {
  return {"lp-fidelity", {"rouge_l", "bleu", "length_ratio"}, DeltaForm::percent_change_of_mean};
}

std::string describe(const KeyMetricAverage& key) {
  const char* form = key.form == DeltaForm::percent_change_of_mean ? "percent change of the mean vs baseline"
                                                                   : "mean of each metric's percent change vs baseline";
  return fmt::format("key-metric average {}: mean of {}; delta = {}", key.name, fmt::join(key.metrics, ", "), form);
}

namespace {

double metric(const MetricValues& values, const std::string& name, std::string_view side) {
  const auto it = values.find(name);
  if (it == values.end()) lp::fail("the {} has no '{}' metric, which the key-metric average needs", side, name);
  return it->second;
}

void check_key(const KeyMetricAverage& key) {
  if (key.metrics.empty()) lp::fail("the key-metric average '{}' names no metrics", key.name);
}

}  // namespace

double key_metric_value(const KeyMetricAverage& key, const MetricValues& values) {
  check_key(key);
  double sum = 0;
  for (const auto& m : key.metrics) sum += metric(values, m, "level");
  return sum / static_cast<double>(key.metrics.size());
}

double generation_delta_pct(const KeyMetricAverage& key, const MetricValues& candidate, const MetricValues& baseline) {
  check_key(key);
  const auto n = static_cast<double>(key.metrics.size());
  if (key.form == DeltaForm::percent_change_of_mean) {
    double cand = 0, base = 0;
    for (const auto& m : key.metrics) {
      cand += metric(candidate, m, "level");
      base += metric(baseline, m, "baseline");
    }
    if (base == 0) lp::fail("the baseline's key-metric average '{}' is 0, so a percent change is undefined", key.name);
    return 100.0 * (cand / base - 1.0);
  }
  double sum = 0;
  for (const auto& m : key.metrics) {
    const double base = metric(baseline, m, "baseline");
    if (base == 0) lp::fail("the baseline's '{}' is 0, so its percent change is undefined", m);
    sum += 100.0 * (metric(candidate, m, "level") / base - 1.0);
  }
  return sum / n;
}

}  // namespace lp::decide
