#include "validate/mc_report.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>

#include "core/sha256.h"
#include "stats/intervals.h"
#include "validate/paired_comparison.h"

namespace lp::validate {
namespace {

// Every right/wrong score the scorings that ran give each question, by metric name.
using BinaryScores = std::vector<std::pair<std::string, std::vector<bool>>>;

BinaryScores binary_scores(const std::vector<McQuestion>& qs, const McOutcomes& o) {
  BinaryScores out;
  auto add = [&](const char* name, auto right) {
    std::vector<bool> v(qs.size());
    for (size_t i = 0; i < qs.size(); ++i) v[i] = right(i);
    out.emplace_back(name, std::move(v));
  };
  if (!o.loglikelihood.empty()) {
    add("acc", [&](size_t i) { return o.loglikelihood[i].chosen == qs[i].answer; });
    add("acc_norm", [&](size_t i) { return o.loglikelihood[i].chosen_norm == qs[i].answer; });
  }
  if (!o.generation.empty()) {
    add("raw_exact_match", [&](size_t i) { return o.generation[i].raw_correct; });
    add("rescored_acc", [&](size_t i) { return o.generation[i].rescored_correct; });
  }
  return out;
}

uint64_t count(const std::vector<bool>& v) { return static_cast<uint64_t>(std::count(v.begin(), v.end(), true)); }

nlohmann::json generation_json(const McOutcomes& o, const BinaryScores& scores) {
  uint64_t unextracted = 0, tokens = 0;
  nlohmann::json rules = nlohmann::json::object();
  for (const auto& g : o.generation) {
    unextracted += !g.extracted.option.has_value();
    tokens += static_cast<uint64_t>(g.tokens);
    rules[g.extracted.rule] = rules.value(g.extracted.rule, 0) + 1;
  }
  const uint64_t n = o.generation.size();
  nlohmann::json j = {{"max_new_tokens", kMcAnswerTokens},
                      {"unextracted", unextracted},
                      {"rules", rules},
                      {"mean_tokens", n > 0 ? static_cast<double>(tokens) / static_cast<double>(n) : 0.0}};
  for (const auto& [name, v] : scores) {
    if (name == "raw_exact_match" || name == "rescored_acc") j[name] = accuracy_json(count(v), v.size());
  }
  return j;
}

nlohmann::json sample_scores_json(const McQuestion& q, size_t i, const McOutcomes& o) {
  nlohmann::json j = nlohmann::json::object();
  if (!o.loglikelihood.empty()) {
    const McResult& r = o.loglikelihood[i];
    nlohmann::json choices = nlohmann::json::array();
    for (size_t c = 0; c < r.choices.size(); ++c) {
      const size_t len = utf8_length(q.choice_texts[c]);
      choices.push_back({{"continuation", q.continuations[c]},
                         {"logprob", r.choices[c].logprob},
                         {"tokens", r.choices[c].tokens},
                         {"norm", r.choices[c].logprob / static_cast<double>(len > 0 ? len : 1)},
                         {"greedy", r.choices[c].greedy}});
    }
    j.update({{"context_tokens", r.context_tokens},
              {"truncated_tokens", r.truncated_tokens},
              {"choices", choices},
              {"chosen", r.chosen},
              {"chosen_norm", r.chosen_norm},
              {"correct", r.chosen == q.answer},
              {"correct_norm", r.chosen_norm == q.answer}});
  }
  if (!o.generation.empty()) {
    const McGenerated& g = o.generation[i];
    j.update({{"generation_prompt_sha256", sha256_hex(mc_generation_prompt(q))},
              {"generated", g.text},
              {"generated_tokens", g.tokens},
              {"extracted", g.extracted.option ? nlohmann::json(*g.extracted.option) : nlohmann::json(nullptr)},
              {"extraction_rule", g.extracted.rule},
              {"raw_correct", g.raw_correct},
              {"rescored_correct", g.rescored_correct}});
  }
  return j;
}

std::string accuracy_line(const std::string& name, const nlohmann::json& acc) {
  return fmt::format("{:<16} {:6.2f}%  [{:6.2f}, {:6.2f}]  ({} correct)", name, 100.0 * acc["value"].get<double>(),
                     100.0 * acc["wilson95"][0].get<double>(), 100.0 * acc["wilson95"][1].get<double>(),
                     acc["correct"].get<uint64_t>());
}

// The accuracies of one model's task metrics, one line each.
std::string accuracy_lines(const nlohmann::json& m, const std::string& indent) {
  std::string out;
  for (const char* k : {"acc", "acc_norm"}) {
    if (m.contains(k)) out += indent + accuracy_line(k, m[k]) + "\n";
  }
  if (m.contains("generation")) {
    const auto& g = m["generation"];
    for (const char* k : {"raw_exact_match", "rescored_acc"}) out += indent + accuracy_line(k, g[k]) + "\n";
    out += indent + fmt::format("(generated answers: {:.1f} tokens on average, {} without a letter)\n",
                                g["mean_tokens"].get<double>(), g["unextracted"].get<uint64_t>());
  }
  return out;
}

}  // namespace

nlohmann::json accuracy_json(uint64_t correct, uint64_t n) {
  const auto w = stats::wilson_interval(correct, n);
  return {{"value", n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0},
          {"correct", correct},
          {"wilson95", {w.low, w.high}}};
}

nlohmann::json mc_task_json(const std::vector<McQuestion>& questions, const McOutcomes& outcomes) {
  const BinaryScores scores = binary_scores(questions, outcomes);
  nlohmann::json j = {{"questions", questions.size()}};
  for (const auto& [name, v] : scores) {
    if (name == "acc" || name == "acc_norm") j[name] = accuracy_json(count(v), v.size());
  }
  if (!outcomes.loglikelihood.empty()) {
    uint64_t truncated = 0;
    for (const auto& r : outcomes.loglikelihood) truncated += r.truncated_tokens > 0;
    j["truncated_questions"] = truncated;
  }
  if (!outcomes.generation.empty()) j["generation"] = generation_json(outcomes, scores);

  // Per subject: every score but raw exact match (rescored accuracy is the one TR125 reads).
  std::map<std::string, std::vector<size_t>> subjects;
  for (size_t i = 0; i < questions.size(); ++i) {
    if (!questions[i].subject.empty()) subjects[questions[i].subject].push_back(i);
  }
  if (!subjects.empty()) {
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [subject, items] : subjects) {
      nlohmann::json one = {{"questions", items.size()}};
      for (const auto& [name, v] : scores) {
        if (name == "raw_exact_match") continue;
        uint64_t right = 0;
        for (size_t i : items) right += v[i];
        one[name] = accuracy_json(right, items.size());
      }
      s[subject] = one;
    }
    j["subjects"] = s;
  }
  return j;
}

nlohmann::json mc_comparison_json(const std::vector<McQuestion>& questions, const McOutcomes& model,
                                  const McOutcomes& reference) {
  nlohmann::json j = nlohmann::json::object();
  const BinaryScores a = binary_scores(questions, model), b = binary_scores(questions, reference);
  for (size_t k = 0; k < a.size() && k < b.size(); ++k) j[a[k].first] = paired_binary_json(a[k].second, b[k].second);
  if (!model.loglikelihood.empty() && !reference.loglikelihood.empty()) {
    std::vector<double> lm, lr;
    for (size_t i = 0; i < questions.size(); ++i) {
      lm.push_back(model.loglikelihood[i].choices[questions[i].answer].logprob);
      lr.push_back(reference.loglikelihood[i].choices[questions[i].answer].logprob);
    }
    j["answer_logprob"] = paired_continuous_json(lm, lr);
  }
  return j;
}

nlohmann::json mc_sample_json(const McQuestion& q, size_t i, const McOutcomes& model, const McOutcomes* reference) {
  nlohmann::json j = {{"task", q.task},
                      {"id", q.id},
                      {"subject", q.subject.empty() ? nlohmann::json(nullptr) : nlohmann::json(q.subject)},
                      {"prompt_sha256", sha256_hex(q.context)},
                      {"answer", q.answer}};
  j.update(sample_scores_json(q, i, model));
  if (reference) j["reference"] = sample_scores_json(q, i, *reference);
  return j;
}

std::string mc_task_text(const std::string& task, const nlohmann::json& m) {
  std::string out =
      fmt::format("{}: {} questions, accuracy with Wilson 95% interval\n", task, m["questions"].get<uint64_t>());
  out += accuracy_lines(m, "  ");
  if (m.contains("reference")) {
    out += "  reference:\n" + accuracy_lines(m["reference"], "    ");
    out += "  model - reference (McNemar exact p; minimum detectable effect):\n";
    for (const auto& [name, c] : m["comparison"].items()) {
      if (name == "answer_logprob") {
        out += fmt::format("    {:<16} {:+.4f} nats per question, paired t p = {:.3g}\n", name,
                           c["mean_difference"].get<double>(), c["paired_t"]["p_value"].get<double>());
      } else {
        out += fmt::format("    {:<16} {:+6.2f} pp  p = {:.3g}  (MDE {:.1f} pp)\n", name,
                           c["difference_pp"].get<double>(), c["mcnemar"]["p_exact"].get<double>(),
                           c["mde_pp"].get<double>());
      }
    }
  }
  if (m.contains("subjects")) {
    const bool ll = m.contains("acc");
    out += fmt::format("  per subject ({}):\n", ll ? "acc" : "rescored_acc");
    for (const auto& [name, s] : m["subjects"].items()) {
      out += fmt::format("    {:<40} {:3}  {:6.2f}%\n", name, s["questions"].get<uint64_t>(),
                         100.0 * s[ll ? "acc" : "rescored_acc"]["value"].get<double>());
    }
  }
  return out;
}

}  // namespace lp::validate
