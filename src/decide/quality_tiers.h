#pragma once
// TR125's quality tiers (seeds/001, "Quality Tier System"): how much quality a quantized level
// loses against its model's baseline, in four steps. A level's tier is the worse of two signals:
// the benchmark delta (rescored accuracy, percentage points vs baseline) and the generation
// delta (percent change of a key-metric average vs baseline). The benchmark is TR125's primary
// gate, but it is not allowed to hide a generation collapse, nor the other way round (§9.6).
//
// Everything here is a pure function of numbers the matrix already holds; nothing reads files.
#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lp::decide {

// Ordered best to worst, so "worse of" is the larger enumerator.
enum class QualityTier { negligible = 0, acceptable = 1, concerning = 2, unacceptable = 3 };

std::string_view tier_name(QualityTier tier);  // "negligible", ... as TR125 prints them
// The inverse of tier_name; InputError naming the text when it is not one of the four.
QualityTier parse_tier(std::string_view name);
QualityTier worse(QualityTier a, QualityTier b);

// One row of TR125's tier table: a level is at least this good when its benchmark delta is
// >= min_benchmark_pp and (separately) its generation delta is >= min_generation_pct.
struct TierThreshold {
  QualityTier tier;
  double min_benchmark_pp;
  double min_generation_pct;
};
// The whole rule, in one place. Rows are tried best first; a delta below every row is
// unacceptable ("worse than above"). Thresholds are inclusive: exactly -3pp is negligible.
inline constexpr std::array<TierThreshold, 3> kTierThresholds = {{
    {QualityTier::negligible, -3.0, -3.0},
    {QualityTier::acceptable, -5.0, -8.0},
    {QualityTier::concerning, -10.0, -15.0},
}};

QualityTier benchmark_tier(double delta_pp);
QualityTier generation_tier(double delta_pct);

// Either delta may be missing (a record with only a benchmark, or only generation fidelity);
// the one present decides alone, and the decision says so. Both missing is an InputError.
struct QualityDeltas {
  std::optional<double> benchmark_pp;
  std::optional<double> generation_pct;
};

enum class TierBasis { both, benchmark_only, generation_only };

struct TierDecision {
  QualityTier tier = QualityTier::negligible;
  std::optional<QualityTier> benchmark;   // the tier the benchmark delta alone gives
  std::optional<QualityTier> generation;  // the tier the generation delta alone gives
  TierBasis basis = TierBasis::both;
  // One line for the report, e.g. "benchmark -2.5pp (negligible), generation -3.8%
  // (acceptable): generation decides" or "no generation delta: benchmark -4.1pp decides".
  std::string explanation;
};

TierDecision classify_quality(const QualityDeltas& deltas);

// A delta's 95% interval. A level is "unsettled" when its interval reaches into more than one
// tier: the measurement cannot tell which tier it is in (TR125 §16: at N=485 the benchmark
// cannot resolve differences under 9pp, so a -3pp point estimate alone proves little).
struct DeltaInterval {
  double lower = 0.0;
  double upper = 0.0;
};

struct QualityDeltaIntervals {
  std::optional<DeltaInterval> benchmark_pp;
  std::optional<DeltaInterval> generation_pct;
};

// The tiers at the two ends of an interval (combined as classify_quality combines point
// deltas: the worse of the two signals at each end). at_lower is never better than at_upper.
struct TierRange {
  QualityTier at_lower = QualityTier::negligible;
  QualityTier at_upper = QualityTier::negligible;
  bool unsettled() const { return at_lower != at_upper; }
};

TierRange benchmark_tier_range(DeltaInterval interval_pp);
TierRange generation_tier_range(DeltaInterval interval_pct);
// InputError when both intervals are missing, or an interval's lower bound exceeds its upper.
TierRange classify_quality_range(const QualityDeltaIntervals& intervals);

// TR125 §8.6's accuracy cliff: walking a model's levels from highest to lowest precision, the
// first one whose tier is concerning or worse. The level before it is the last safe one, and
// the cliff size is the benchmark delta given up in that one step.
struct LevelTier {
  std::string level;
  QualityTier tier = QualityTier::negligible;
  std::optional<double> benchmark_pp;
};

struct AccuracyCliff {
  size_t first_concerning = 0;      // index into the given levels
  std::optional<size_t> last_safe;  // none when the very first level is already concerning
  std::optional<double> size_pp;    // last safe delta - first concerning delta, when both known
};

// std::nullopt when no level is concerning or worse (the model has no cliff in this range).
std::optional<AccuracyCliff> find_accuracy_cliff(std::span<const LevelTier> levels_high_to_low);

// How the generation delta is formed from several metrics. TR125 §"Key Metric Average" says
// "percent change vs baseline" of the unweighted mean; its published §9 "vs baseline" column is
// in fact the mean of each metric's own percent change (llama3.2-1b Q4_K_M: Key Avg
// 0.5143 vs 0.4973 is +3.4%, the column says +4.9% = (2.9 + 0.2 + 11.6) / 3). Both are offered.
enum class DeltaForm {
  percent_change_of_mean,   // 100 * (mean(candidate) / mean(baseline) - 1)
  mean_of_percent_changes,  // mean over metrics of 100 * (candidate / baseline - 1)
};

// Which generation metrics make the key-metric average, so the tier rule can run on TR125's
// metrics (which need embedding models we do not ship) or on the ones `validate` computes.
struct KeyMetricAverage {
  std::string name;                  // short name, e.g. "lp-fidelity"
  std::vector<std::string> metrics;  // metric names as the validate record spells them
  DeltaForm form = DeltaForm::percent_change_of_mean;
};

// TR125's: BERTScore, coherence (SemScore), ROUGE-L, with the delta form its numbers use.
KeyMetricAverage tr125_key_metric_average();
// Ours, the default: ROUGE-L, BLEU and length ratio, all of which `validate` computes against
// the baseline's own greedy output; the delta is the percent change of their mean, as TR125's
// text defines it (a mean of per-metric changes lets the smallest, noisiest metric - BLEU
// near 0 - dominate).
KeyMetricAverage default_key_metric_average();
// One sentence the report prints, e.g. "key-metric average lp-fidelity: mean of rouge_l, bleu,
// length_ratio; delta = percent change of the mean vs baseline".
std::string describe(const KeyMetricAverage& key);

using MetricValues = std::map<std::string, double, std::less<>>;

// The unweighted mean of the key metrics; InputError naming a missing metric.
double key_metric_value(const KeyMetricAverage& key, const MetricValues& values);
// The generation delta in percent; InputError for a missing metric or a baseline value of 0
// (a percent change of nothing is undefined).
double generation_delta_pct(const KeyMetricAverage& key, const MetricValues& candidate, const MetricValues& baseline);

}  // namespace lp::decide
