#include "validate/shard_merge.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "validate/mc_report.h"
#include "validate/score_summary.h"

namespace lp::validate {
namespace {

using nlohmann::json;

// The accuracies a task's metrics hold, as counts: {"correct", n}.
void add_accuracy(json& into, const json& acc, uint64_t n) {
  if (!into.is_object()) into = json::object();
  into["correct"] = into.value("correct", uint64_t{0}) + acc.at("correct").get<uint64_t>();
  into["n"] = into.value("n", uint64_t{0}) + n;
}

json merge_mc_task(const std::vector<const json*>& parts, const std::vector<uint64_t>& tokens) {
  json sums = json::object(), subjects = json::object(), rules = json::object();
  uint64_t questions = 0, truncated = 0, unextracted = 0, generated = 0;
  bool has_truncated = false, has_generation = false;
  for (size_t k = 0; k < parts.size(); ++k) {
    const json& p = *parts[k];
    if (p.contains("reference")) fail("shards of a multiple-choice run with --reference do not merge: run it whole");
    const uint64_t n = p.at("questions").get<uint64_t>();
    questions += n;
    for (const char* a : {"acc", "acc_norm"})
      if (p.contains(a)) add_accuracy(sums[a], p[a], n);
    if (p.contains("truncated_questions")) has_truncated = true, truncated += p["truncated_questions"].get<uint64_t>();
    if (p.contains("generation")) {
      has_generation = true;
      const json& g = p["generation"];
      unextracted += g.at("unextracted").get<uint64_t>();
      for (const auto& [rule, c] : g.at("rules").items()) rules[rule] = rules.value(rule, uint64_t{0}) + c.get<uint64_t>();
      for (const char* a : {"raw_exact_match", "rescored_acc"}) add_accuracy(sums[a], g.at(a), n);
      generated += tokens[k];
    }
    const json part_subjects = p.value("subjects", json::object());
    for (const auto& [subject, s] : part_subjects.items()) {
      json& into = subjects[subject];
      if (!into.is_object()) into = json::object();
      const uint64_t sn = s.at("questions").get<uint64_t>();
      into["questions"] = into.value("questions", uint64_t{0}) + sn;
      for (const auto& [name, acc] : s.items())
        if (name != "questions") add_accuracy(into[name], acc, sn);
    }
  }
  const auto accuracy = [](const json& c) { return accuracy_json(c["correct"].get<uint64_t>(), c["n"].get<uint64_t>()); };
  json j = {{"questions", questions}};
  for (const char* a : {"acc", "acc_norm"})
    if (sums.contains(a)) j[a] = accuracy(sums[a]);
  if (has_truncated) j["truncated_questions"] = truncated;
  if (has_generation) {
    j["generation"] = {{"max_new_tokens", (*parts[0])["generation"]["max_new_tokens"]},
                       {"unextracted", unextracted},
                       {"rules", rules},
                       {"mean_tokens", questions > 0 ? static_cast<double>(generated) / static_cast<double>(questions) : 0.0},
                       {"raw_exact_match", accuracy(sums["raw_exact_match"])},
                       {"rescored_acc", accuracy(sums["rescored_acc"])}};
  }
  if (!subjects.empty()) {
    json s = json::object();
    for (const auto& [subject, c] : subjects.items()) {
      s[subject] = {{"questions", c["questions"]}};
      for (const auto& [name, acc] : c.items())
        if (name != "questions") s[subject][name] = accuracy(acc);
    }
    j["subjects"] = s;
  }
  for (const char* k : {"shots", "subset", "data"}) j[k] = (*parts[0]).at(k);
  return j;
}

// A record less what differs between the shards of one run.
json run_identity(json r) {
  for (const char* k : {"shard", "metrics", "started_utc", "elapsed_seconds", "hardware"}) r.erase(k);
  if (r.contains("settings")) {
    r["settings"].erase("samples");
    if (r["settings"].contains("multiple_choice")) r["settings"]["multiple_choice"].erase("samples");
  }
  return r;
}

json merge_shards(const std::vector<std::pair<std::string, json>>& records) {
  if (records.empty()) fail("validate-merge needs the records of every shard");
  std::vector<const std::pair<std::string, json>*> by_index;
  int64_t count = 0;
  for (const auto& r : records) {
    const json& shard = r.second.value("shard", json());
    if (!shard.is_object()) fail("{} is not the record of a validate --shard run", r.first);
    if (count == 0) count = shard.at("count").get<int64_t>(), by_index.assign(static_cast<size_t>(count), nullptr);
    const int64_t i = shard.at("index").get<int64_t>();
    if (shard.at("count").get<int64_t>() != count || i < 0 || i >= count) {
      fail("{} is shard {} of {}, not one of the {} shards of {}", r.first, i + 1, shard["count"].get<int64_t>(), count,
           records[0].first);
    }
    if (by_index[static_cast<size_t>(i)]) fail("{} and {} are both shard {} of {}", by_index[static_cast<size_t>(i)]->first, r.first, i + 1, count);
    if (run_identity(r.second) != run_identity(records[0].second)) {
      fail("{} and {} are shards of different runs (their model, reference or settings differ)", records[0].first, r.first);
    }
    by_index[static_cast<size_t>(i)] = &r;
  }
  for (int64_t i = 0; i < count; ++i)
    if (!by_index[static_cast<size_t>(i)]) fail("shard {} of {} is missing", i + 1, count);

  json merged = by_index[0]->second;
  merged.erase("shard");
  json& metrics = merged["metrics"];
  const json& first_shard = by_index[0]->second["shard"];
  if (first_shard.contains("text")) {
    const bool with_ref = first_shard["text"]["scores"].contains("kld");
    ScoreAccumulator acc(with_ref);
    for (const auto* r : by_index) {
      const json& s = r->second["shard"]["text"]["scores"];
      const json& nll = s.at("nll");
      for (size_t t = 0; t < nll.size(); ++t) {
        TokenScore score;
        score.nll = nll[t].get<double>();
        if (with_ref) {
          score.nll_ref = s["nll_ref"][t].get<double>();
          score.kld = s["kld"][t].get<double>();
          score.p_diff = s["p_diff"][t].get<double>();
          score.same_top = s["same_top"][t].get<int>() != 0;
        }
        acc.add(score);
      }
    }
    if (metrics.contains("perplexity")) metrics["perplexity"] = perplexity_json(acc.perplexity());
    if (metrics.contains("kld")) metrics["kld"] = kld_json(acc.kld());
    merged["settings"]["chunks"] = first_shard["text"]["windows_total"];
  }
  const json tasks = first_shard.value("mc", json::object());
  for (const auto& [task, _] : tasks.items()) {
    std::vector<const json*> parts;
    std::vector<uint64_t> tokens;
    for (const auto* r : by_index) {
      parts.push_back(&r->second["metrics"].at(task));
      tokens.push_back(r->second["shard"]["mc"][task]["generated_tokens"].get<uint64_t>());
    }
    metrics[task] = merge_mc_task(parts, tokens);
  }
  merged["merged_shards"] = count;
  return merged;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    if (slash != std::string::npos) {
      size_t used_i = 0, used_n = 0;
      const int64_t i = std::stoll(text.substr(0, slash), &used_i), n = std::stoll(text.substr(slash + 1), &used_n);
      if (used_i == slash && used_n == text.size() - slash - 1 && n >= 1 && i >= 1 && i <= n) return {i - 1, n};
    }
  } catch (const std::exception&) {
  }
  fail("--shard must be I/N with 1 <= I <= N (the I-th of N parts), not \"{}\"", text);
}

std::pair<int64_t, int64_t> shard_range(int64_t n, const Shard& s) {
  return {n * s.index / s.count, n * (s.index + 1) / s.count};
}

json token_scores_json(const std::vector<TokenScore>& scores, bool with_reference) {
  json nll = json::array(), nll_ref = json::array(), kld = json::array(), p_diff = json::array(), same = json::array();
  for (const TokenScore& s : scores) {
    nll.push_back(s.nll);
    if (!with_reference) continue;
    nll_ref.push_back(s.nll_ref);
    kld.push_back(s.kld);
    p_diff.push_back(s.p_diff);
    same.push_back(s.same_top ? 1 : 0);
  }
  if (!with_reference) return {{"nll", nll}};
  return {{"nll", nll}, {"nll_ref", nll_ref}, {"kld", kld}, {"p_diff", p_diff}, {"same_top", same}};
}

json merge_shard_records(const std::vector<std::pair<std::string, json>>& records) {
  try {
    return merge_shards(records);
  } catch (const json::exception&) {
    fail("{}: a shard record is missing or mistypes a field", records.empty() ? "" : records[0].first);
  }
}

}  // namespace lp::validate
