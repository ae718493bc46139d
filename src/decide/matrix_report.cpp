#include "decide/matrix_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/units.h"
#include "decide/admission.h"
#include "decide/matrix_records.h"
#include "decide/matrix_suite.h"
#include "decide/memory_model.h"
#include "decide/quality_tiers.h"
#include "decide/token_cost.h"
#include "decide/weighted_score.h"
#include "model/model_summary.h"
#include "version.h"

namespace lp::decide {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr double kZ95 = 1.959963984540054;
// The memory budgets the decision matrix answers for (GiB), as TR125's VRAM tiers and seed
// 000's phone classes.
constexpr double kMemoryTiersGb[] = {4, 6, 8, 16, 24};

// A count or size read from a record: a whole number from 0 (a negative or fractional JSON
// number converted to an unsigned integer is undefined behaviour in nlohmann's get<>).
uint64_t record_count(const json& v) {
  if (!v.is_number_unsigned()) fail("a matrix record holds {} where a count or size belongs", v.dump());
  return v.get<uint64_t>();
}

struct MeanInterval {
  double mean = 0, low = 0, high = 0;
};

// Mean of paired differences (or of values) with a normal 95% interval.
MeanInterval mean_interval(const std::vector<double>& x) {
  MeanInterval m;
  if (x.empty()) return m;
  double s = 0;
  for (double v : x) s += v;
  m.mean = s / static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - m.mean) * (v - m.mean);
  const double se = x.size() > 1 ? std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size())) : 0.0;
  m.low = m.mean - kZ95 * se;
  m.high = m.mean + kZ95 * se;
  return m;
}

// Records come from other machines and may be edited: every read of a record field goes
// through at(), which throws (turned into an InputError below) where a const json's
// operator[] would read past the end of its map.

// The newest record of each (step, level).
using RecordIndex = std::map<std::pair<std::string, std::string>, json>;

RecordIndex index_records(const std::vector<json>& records) {
  RecordIndex index;
  std::string source;
  for (const json& r : records) {
    const std::string sha = r.at("inputs").value("source_sha256", "");
    if (source.empty()) source = sha;
    if (sha != source) fail("the records are of two different models (source {} and {})", source.substr(0, 12), sha.substr(0, 12));
    auto& slot = index[{r.at("step").get<std::string>(), r.at("level").get<std::string>()}];
    if (slot.is_null() || r.value("finished_utc", "") > slot.value("finished_utc", "")) slot = r;
  }
  return index;
}

const json* find(const RecordIndex& index, const std::string& step, const std::string& level) {
  const auto it = index.find({step, level});
  return it == index.end() ? nullptr : &it->second.at("result");
}

json est(const json& e) { return {{"value", e.at("value")}, {"ci95", e.at("ci95")}}; }

json accuracy(const json& task) {
  if (!task.contains("generation")) return nullptr;
  const json& a = task.at("generation").at("rescored_acc");
  return {{"value", a.at("value")}, {"correct", a.at("correct")}, {"questions", task.at("questions")}};
}

// Per question of the level's mc record: rescored correct (1/0), keyed by task and id.
std::map<std::string, double> per_question(const json& mc) {
  std::map<std::string, double> out;
  for (const json& q : mc.value("per_question", json::array())) out[q.at(0).get<std::string>() + "/" + q.at(1).get<std::string>()] = q.at(2).get<double>();
  return out;
}

// Per problem of the level's code record: passed (1/0), keyed by task id.
std::map<std::string, double> per_problem(const json& code) {
  std::map<std::string, double> out;
  for (const json& p : code.value("per_problem", json::array())) out[p.at(0).get<std::string>()] = p.at(1).get<double>();
  return out;
}

// HumanEval pass@1 of a level, and its change from the baseline paired on the same problems:
// the mean per-problem difference with its normal 95% interval, and McNemar's discordant counts.
json code_json(const json& code, const std::map<std::string, double>& base_problems) {
  const json& h = code.at("metrics").at("humaneval");
  json c = {{"pass_at_1", h.at("pass@1").at("value")},
            {"wilson95", h.at("pass@1").at("wilson95")},
            {"problems", h.at("problems")},
            {"delta_pp", nullptr}};
  std::vector<double> diffs;
  uint64_t only_level = 0, only_baseline = 0;
  for (const auto& [task, v] : per_problem(code)) {
    const auto it = base_problems.find(task);
    if (it == base_problems.end()) continue;
    diffs.push_back(100.0 * (v - it->second));
    only_level += v > it->second;
    only_baseline += v < it->second;
  }
  if (!diffs.empty()) {
    const MeanInterval d = mean_interval(diffs);
    c["delta_pp"] = {{"value", d.mean}, {"ci95", {d.low, d.high}}, {"paired_problems", diffs.size()},
                     {"only_level", only_level}, {"only_baseline", only_baseline}};
  }
  return c;
}

struct LevelRow {
  std::string level;
  json j;
  std::optional<QualityTier> tier;
  std::optional<double> benchmark_pp, pooled_accuracy, tg_tps, ttft_ms;
  uint64_t file_bytes = 0;
  uint64_t predicted_peak = 0;
};

}  // namespace

namespace {

json build_report(const MatrixReportInputs& in) {
  const std::vector<json> records = read_records(in.record_dirs);
  if (records.empty()) {
    std::string dirs;
    for (const auto& d : in.record_dirs) dirs += (dirs.empty() ? "" : ", ") + d.string();
    fail("{} holds no matrix records", dirs);
  }
  if (in.tier_rule != "tr125" && in.tier_rule != "benchmark") fail("unknown tier rule \"{}\" (tr125 or benchmark)", in.tier_rule);
  const RecordIndex index = index_records(records);
  std::string baseline;
  json suite_inputs, reference_record;
  std::vector<std::string> levels;
  for (const auto& [key, r] : index) {
    if (key.first == "reference") baseline = key.second, reference_record = r;
    if (key.first == "model") levels.push_back(key.second);
  }
  if (baseline.empty()) fail("the records hold no reference step: the baseline was never measured");
  std::sort(levels.begin(), levels.end(),
            [](const std::string& a, const std::string& b) { return level_precision_rank(a) < level_precision_rank(b); });

  const KeyMetricAverage key = default_key_metric_average();
  const MetricValues perfect = {{"rouge_l", 1.0}, {"bleu", 1.0}, {"length_ratio", 1.0}};
  const auto base_questions = find(index, "mc", baseline) ? per_question(*find(index, "mc", baseline)) : std::map<std::string, double>{};
  const json* base_bench = find(index, "bench", baseline);
  const auto base_problems = find(index, "code", baseline) ? per_problem(*find(index, "code", baseline)) : std::map<std::string, double>{};

  std::set<std::string> machines_seen;
  json machines = json::array();
  std::vector<LevelRow> rows;
  json source_model;
  std::optional<double> base_cost;
  for (const std::string& level : levels) {
    LevelRow row;
    row.level = level;
    json& j = row.j;
    j["level"] = level;
    j["is_baseline"] = level == baseline;
    const json& file = (*find(index, "model", level)).at("file");
    j["file"] = file;
    // A narrow model's lower levels can fall back to the same tensors (gguf_same_model.h); the
    // sweep then measured the model once and copied its records (they say from which level).
    const auto mc_record = index.find({"mc", level});
    j["same_model_as"] = mc_record != index.end() && mc_record->second.contains("same_model_as")
                             ? mc_record->second.at("same_model_as")
                             : json(nullptr);
    row.file_bytes = record_count(file.at("bytes"));
    j["bits_per_weight"] = nullptr;
    j["memory"] = {{"predicted_peak_bytes", nullptr}};
    std::error_code ec;
    if (fs::exists(file.at("path").get<std::string>(), ec)) {
      const ModelSummary s = summarize_model(file.at("path").get<std::string>());
      j["bits_per_weight"] = s.bits_per_weight();
      if (source_model.is_null())
        source_model = {{"name", s.name}, {"architecture", s.hparams.architecture}, {"parameters", s.parameter_count},
                        {"active_parameters", s.active_parameter_count}};
      int64_t ctx = in.deploy_ctx;
      if (s.hparams.context_length > 0) ctx = std::min<int64_t>(ctx, static_cast<int64_t>(s.hparams.context_length));
      row.predicted_peak = estimate_memory(s, {.ctx_size = ctx}).total();
      j["memory"]["predicted_peak_bytes"] = row.predicted_peak;
    }

    // Text: the baseline's perplexity is its reference run's.
    const json* text = level == baseline ? &reference_record.at("result") : find(index, "text", level);
    j["perplexity"] = text ? est((*text).at("metrics").at("perplexity").at("ppl")) : json(nullptr);
    j["kld_mean"] = text && (*text).at("metrics").contains("kld") ? (*text).at("metrics").at("kld").at("kl_divergence").at("mean").at("value") : json(nullptr);
    j["same_top_p"] = text && (*text).at("metrics").contains("kld") ? (*text).at("metrics").at("kld").at("same_top_p").at("value") : json(nullptr);

    // Benchmarks: rescored accuracy per task and pooled; the delta paired on the same questions.
    j["accuracy"] = {{"mmlu", nullptr}, {"arc_challenge", nullptr}, {"pooled", nullptr}};
    j["benchmark_delta_pp"] = nullptr;
    QualityDeltas deltas;
    QualityDeltaIntervals intervals;
    if (const json* mc = find(index, "mc", level)) {
      uint64_t correct = 0, questions = 0;
      for (const char* task : {"mmlu", "arc_challenge"}) {
        if (!(*mc).at("metrics").contains(task)) continue;
        const json a = accuracy((*mc).at("metrics").at(task));
        j["accuracy"][task] = a;
        if (!a.is_null()) correct += record_count(a["correct"]), questions += record_count(a["questions"]);
      }
      if (questions > 0) {
        row.pooled_accuracy = static_cast<double>(correct) / static_cast<double>(questions);
        j["accuracy"]["pooled"] = {{"value", *row.pooled_accuracy}, {"correct", correct}, {"questions", questions}};
      }
      std::vector<double> diffs;
      for (const auto& [q, v] : per_question(*mc))
        if (const auto it = base_questions.find(q); it != base_questions.end()) diffs.push_back(100.0 * (v - it->second));
      if (!diffs.empty()) {
        const MeanInterval d = mean_interval(diffs);
        row.benchmark_pp = d.mean;
        deltas.benchmark_pp = d.mean;
        intervals.benchmark_pp = DeltaInterval{d.low, d.high};
        j["benchmark_delta_pp"] = {{"value", d.mean}, {"ci95", {d.low, d.high}}, {"paired_questions", diffs.size()}};
      }
    }

    // Generation: the key-metric average of the level's answers scored against the baseline's
    // (the baseline against itself is a perfect copy: 1 on every metric).
    j["generation"] = nullptr;
    if (level == baseline) {
      deltas.generation_pct = 0.0;
      intervals.generation_pct = DeltaInterval{0.0, 0.0};
      j["generation"] = {{"key_metric", 1.0}, {"delta_pct", {{"value", 0.0}, {"ci95", {0.0, 0.0}}}}};
    } else if (const json* gen = find(index, "gen", level)) {
      const json& o = (*gen).at("metrics").at("gen").at("overall");
      MetricValues values;
      for (const auto& m : key.metrics) values[m] = o.at(m).at("mean").get<double>();
      const double delta = generation_delta_pct(key, values, perfect);
      std::vector<double> per_prompt;
      for (const json& p : gen->value("per_prompt", json::array())) {
        MetricValues v;
        for (size_t i = 0; i < key.metrics.size(); ++i) v[key.metrics[i]] = p.at(1 + i).get<double>();
        per_prompt.push_back(generation_delta_pct(key, v, perfect));
      }
      const MeanInterval m = mean_interval(per_prompt);
      deltas.generation_pct = delta;
      json ci = nullptr;
      if (!per_prompt.empty()) {
        intervals.generation_pct = DeltaInterval{m.low, m.high};
        ci = {m.low, m.high};
      }
      j["generation"] = {{"key_metric", key_metric_value(key, values)}, {"delta_pct", {{"value", delta}, {"ci95", ci}}}};
    }

    // Code (HumanEval, where the suite or --code ran it): reported beside the tier, not in it:
    // TR125's tiers are defined on benchmark and generation deltas only.
    j["code"] = nullptr;
    if (const json* code = find(index, "code", level)) j["code"] = code_json(*code, base_problems);

    j["tier"] = nullptr;
    if (in.tier_rule == "benchmark" && deltas.benchmark_pp) {
      deltas.generation_pct.reset();
      intervals.generation_pct.reset();
    }
    if (deltas.benchmark_pp || deltas.generation_pct) {
      const TierDecision t = classify_quality(deltas);
      row.tier = t.tier;
      j["tier"] = {{"name", tier_name(t.tier)}, {"explanation", t.explanation},
                   {"benchmark_tier", t.benchmark ? json(tier_name(*t.benchmark)) : json(nullptr)},
                   {"generation_tier", t.generation ? json(tier_name(*t.generation)) : json(nullptr)}};
      if (intervals.benchmark_pp || intervals.generation_pct) {
        const TierRange r = classify_quality_range(intervals);
        j["tier"].update({{"at_lower", tier_name(r.at_lower)}, {"at_upper", tier_name(r.at_upper)}, {"unsettled", r.unsettled()}});
      }
    }

    // Speed and memory, measured.
    j["speed"] = nullptr;
    j["cost"] = nullptr;
    if (const json* b = find(index, "bench", level)) {
      json speed = {{"pp_tps", nullptr}, {"tg_tps", nullptr}, {"peak_rss_bytes", nullptr}};
      for (const json& r : (*b).at("bench")) {
        speed[record_count(r.at("n_prompt")) > 0 ? "pp_tps" : "tg_tps"] = r.at("avg_ts");
        speed["peak_rss_bytes"] = r.at("peak_rss_bytes");
      }
      const json& t = (*b).at("run").at("timings");
      speed["ttft_ms"] = 1000.0 * t.at("time_to_first_token_seconds").get<double>();
      speed["load_ms"] = 1000.0 * t.at("load_seconds").get<double>();
      j["speed"] = speed;
      if (!speed["tg_tps"].is_null()) row.tg_tps = speed["tg_tps"].get<double>();
      row.ttft_ms = speed["ttft_ms"].get<double>();
      const std::string machine = (*b).at("hardware").dump();
      if (machines_seen.insert(machine).second) machines.push_back((*b).at("hardware"));
      if (row.tg_tps && *row.tg_tps > 0) {
        const double cost = cost_per_million_tokens(in.usd_per_hour, *row.tg_tps);
        if (level == baseline) base_cost = cost;
        j["cost"] = {{"usd_per_million", cost}, {"savings_pct", nullptr}};
      }
    }
    rows.push_back(std::move(row));
  }
  (void)base_bench;
  for (auto& row : rows)
    if (base_cost && !row.j["cost"].is_null())
      row.j["cost"]["savings_pct"] = savings_pct(row.j["cost"]["usd_per_million"].get<double>(), *base_cost);

  // Memory tiers: the best level that fits (PASS or MARGINAL on the predicted peak) and is at
  // least acceptable: the best tier, then the highest accuracy, then the smaller file.
  struct Budget {
    std::string name;
    double gib;
  };
  std::vector<Budget> budgets;
  for (double g : kMemoryTiersGb) budgets.push_back({fmt::format("{:g} GB", g), g});
  auto better = [](const LevelRow* a, const LevelRow* b) {
    if (*a->tier != *b->tier) return *a->tier < *b->tier;
    if (a->pooled_accuracy.value_or(0) != b->pooled_accuracy.value_or(0)) return a->pooled_accuracy.value_or(0) > b->pooled_accuracy.value_or(0);
    return a->file_bytes < b->file_bytes;
  };
  json memory_tiers = json::array();
  for (const Budget& budget : budgets) {
    const LevelRow* best = nullptr;
    Admission best_admission;
    for (const LevelRow& r : rows) {
      if (!r.tier || *r.tier > QualityTier::acceptable || r.predicted_peak == 0) continue;
      const Admission a = admit(static_cast<double>(r.predicted_peak) / kMiB, budget.gib * 1024.0);
      if (a.verdict == Verdict::fail) continue;
      if (!best || better(&r, best)) best = &r, best_admission = a;
    }
    json t = {{"name", budget.name}, {"usable_gb", budget.gib}, {"best", best ? json(best->level) : json(nullptr)},
              {"verdict", best ? json(verdict_name(best_admission.verdict)) : json(nullptr)}};
    t["reason"] = best ? fmt::format("{} ({}), predicted peak {:.0f} MiB at {} tokens of context, {:.0f}% headroom", best->level,
                                     tier_name(*best->tier), static_cast<double>(best->predicted_peak) / kMiB,
                                     in.deploy_ctx, best_admission.headroom_pct)
                       : std::string("no level that is at least acceptable fits");
    memory_tiers.push_back(t);
  }

  // Seed 000's weighted score per level; the smallest budget a level fits is its device class.
  const ScoreWeights weights = in.score_weights.is_null() ? ScoreWeights{} : score_weights_from_json(in.score_weights);
  json ranking = json::array();
  std::vector<std::pair<double, const LevelRow*>> scored;
  for (LevelRow& r : rows) {
    r.j["score"] = nullptr;
    if (!r.pooled_accuracy || !r.tg_tps || !r.ttft_ms || r.predicted_peak == 0) continue;
    double device = 0, headroom = 0;
    for (const Budget& b : budgets) {
      const Admission a = admit(static_cast<double>(r.predicted_peak) / kMiB, b.gib * 1024.0);
      if (a.verdict != Verdict::fail) {
        device = b.gib, headroom = a.headroom_pct;
        break;
      }
    }
    if (device == 0) continue;
    const WeightedScore w = weighted_score({.accuracy = 100.0 * *r.pooled_accuracy, .ttft_ms = *r.ttft_ms, .decode_tok_s = *r.tg_tps,
                                            .min_device_gb = device, .headroom_pct = headroom,
                                            .size_gb = static_cast<double>(r.file_bytes) / 1e9},
                                           weights);
    auto component = [](const ScoreComponent& c) { return json{{"points", c.points}, {"weight", c.weight}, {"working", c.working}}; };
    r.j["score"] = {{"total", w.total}, {"summary", w.summary},
                    {"components", {{"quality", component(w.quality)}, {"speed", component(w.speed)},
                                    {"memory", component(w.memory)}, {"size", component(w.size)}}}};
    scored.push_back({w.total, &r});
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [score, r] : scored) ranking.push_back({{"level", r->level}, {"score", score}, {"tier", r->tier ? json(tier_name(*r->tier)) : json(nullptr)}});
  const LevelRow* pick = nullptr;
  for (const auto& [score, r] : scored)
    if (!pick && r->tier && *r->tier <= QualityTier::acceptable) pick = r;
  json reasons = json::array();
  if (pick) {
    reasons.push_back(fmt::format("highest weighted score ({:.1f} = {}) among the levels that are at least acceptable",
                                  pick->j["score"]["total"].get<double>(), pick->j["score"]["summary"].get<std::string>()));
    reasons.push_back(fmt::format("quality tier {}: {}", tier_name(*pick->tier), pick->j["tier"]["explanation"].get<std::string>()));
    if (pick->j["tier"].value("unsettled", false))
      reasons.push_back(fmt::format("the sample does not settle the tier: its 95% interval reaches from {} to {}",
                                    pick->j["tier"]["at_lower"].get<std::string>(), pick->j["tier"]["at_upper"].get<std::string>()));
    reasons.push_back(fmt::format("{:.1f} MB file, {:.1f} tokens/s decode here, first token in {:.0f} ms",
                                  static_cast<double>(pick->file_bytes) / 1e6, *pick->tg_tps, *pick->ttft_ms));
    if (!pick->j["cost"].is_null() && !pick->j["cost"]["savings_pct"].is_null())
      reasons.push_back(fmt::format("${:.4f} per 1M tokens at ${}/hr, {:+.0f}% vs the baseline", pick->j["cost"]["usd_per_million"].get<double>(),
                                    in.usd_per_hour, pick->j["cost"]["savings_pct"].get<double>()));
  } else {
    reasons.push_back("no level with complete measurements is at least acceptable");
  }

  // The accuracy cliff, levels from highest to lowest precision.
  std::vector<LevelTier> tiers;
  std::vector<const LevelRow*> tiered;
  for (const LevelRow& r : rows)
    if (r.tier) tiers.push_back({r.level, *r.tier, r.benchmark_pp}), tiered.push_back(&r);
  json cliff = nullptr;
  if (const auto c = find_accuracy_cliff(tiers)) {
    cliff = {{"level", tiers[c->first_concerning].level},
             {"last_safe", c->last_safe ? json(tiers[*c->last_safe].level) : json(nullptr)},
             {"size_pp", c->size_pp ? json(*c->size_pp) : json(nullptr)}};
  }

  const json context = reference_record.value("context", json::object());
  const MatrixSuite& suite = matrix_suite(context.value("suite", "quick"));
  json thresholds = json::array();
  for (const auto& t : kTierThresholds)
    thresholds.push_back({{"tier", tier_name(t.tier)}, {"min_benchmark_pp", t.min_benchmark_pp}, {"min_generation_pct", t.min_generation_pct}});
  json levels_json = json::array();
  for (const auto& r : rows) levels_json.push_back(r.j);
  std::vector<std::string> dir_names;
  for (const auto& d : in.record_dirs) dir_names.push_back(d.string());
  if (source_model.is_null()) source_model = json::object();
  source_model["source_sha256"] = records.front().at("inputs").value("source_sha256", "");
  source_model["source"] = context.value("source", "");
  return {
      {"schema", "llama-pajamas/matrix-report/1"},
      {"tool", {{"name", "llama-pajamas"}, {"version", kVersion}}},
      {"model", source_model},
      {"suite", {{"name", suite.name}, {"ctx_size", suite.ctx_size}, {"ppl_chunks", suite.ppl_chunks}, {"mc_subset", suite.mc_subset},
                 {"mc_scoring", suite.mc_scoring}, {"gen_prompts", suite.gen_prompts_per_family * 5},
                 {"bench", {{"n_prompt", suite.bench_prompt}, {"n_gen", suite.bench_gen}, {"repetitions", suite.bench_repetitions}}},
                 {"deploy_ctx", in.deploy_ctx}}},
      {"baseline", {{"level", baseline}, {"why", context.value("baseline_why", "")}}},
      {"key_metric", {{"name", key.name}, {"metrics", key.metrics}, {"description", describe(key)},
                      {"caveat", "Ours scores each level's greedy answers against the baseline's greedy answers (the baseline "
                                 "scores 1 against itself); TR125 scored both against dataset references with BERTScore and "
                                 "SemScore. Greedy text diverges after the first token whose top choice changes, so the same "
                                 "quality loss moves ours further than TR125's: a generation tier worse than the benchmark "
                                 "tier (both are in the report) says the answers changed, not that they got worse."}}},
      {"tier_rule", {{"name", in.tier_rule}, {"thresholds", thresholds},
                     {"description", in.tier_rule == "benchmark"
                                         ? "the benchmark delta alone (pooled rescored MMLU + ARC-Challenge accuracy, percentage "
                                           "points vs the baseline, paired on the same questions) against TR125's thresholds; the "
                                           "generation delta is reported beside it"
                                         : "TR125: the worse of the benchmark delta (pooled rescored MMLU + ARC-Challenge accuracy, "
                                     "percentage points vs the baseline, paired on the same questions) and the generation delta "
                                     "(percent change of the key-metric average vs the baseline)"}}},
      {"machines", machines},
      {"cost", {{"usd_per_hour", in.usd_per_hour}, {"source", in.cost_source}}},
      {"levels", levels_json},
      {"accuracy_cliff", cliff},
      {"memory_tiers", memory_tiers},
      {"recommendation", {{"level", pick ? json(pick->level) : json(nullptr)}, {"reasons", reasons}, {"ranking", ranking}}},
      {"records", {{"dirs", dir_names}, {"count", records.size()}}},
  };
}

}  // namespace

json build_matrix_report(const MatrixReportInputs& in) {
  try {
    return build_report(in);
  } catch (const nlohmann::json::exception& e) {
    // A record with our schema but not the fields our steps write: edited or from another tool.
    std::string dirs;
    for (const auto& d : in.record_dirs) dirs += (dirs.empty() ? "" : ", ") + d.string();
    fail("{} holds a matrix record that is missing or mistypes a field ({})", dirs, e.what());
  }
}

}  // namespace lp::decide
