#include "validate/mc_report.h"

#include <fmt/core.h>

#include <map>

#include "core/sha256.h"
#include "stats/intervals.h"

namespace lp::validate {

nlohmann::json accuracy_json(uint64_t correct, uint64_t n) {
  const auto w = stats::wilson_interval(correct, n);
  return {{"value", n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0},
          {"correct", correct},
          {"wilson95", {w.low, w.high}}};
}

nlohmann::json mc_task_json(const std::vector<McQuestion>& questions, const std::vector<McResult>& results) {
  struct Count {
    uint64_t n = 0, acc = 0, norm = 0;
  };
  Count all;
  std::map<std::string, Count> subjects;
  uint64_t truncated = 0;
  for (size_t i = 0; i < questions.size(); ++i) {
    const bool a = results[i].chosen == questions[i].answer, b = results[i].chosen_norm == questions[i].answer;
    for (Count* c : {&all, questions[i].subject.empty() ? nullptr : &subjects[questions[i].subject]}) {
      if (!c) continue;
      ++c->n;
      c->acc += a;
      c->norm += b;
    }
    truncated += results[i].truncated_tokens > 0;
  }
  nlohmann::json j = {{"questions", all.n},
                      {"acc", accuracy_json(all.acc, all.n)},
                      {"acc_norm", accuracy_json(all.norm, all.n)},
                      {"truncated_questions", truncated}};
  if (!subjects.empty()) {
    nlohmann::json s = nlohmann::json::object();
    for (const auto& [name, c] : subjects) {
      s[name] = {{"questions", c.n}, {"acc", accuracy_json(c.acc, c.n)}, {"acc_norm", accuracy_json(c.norm, c.n)}};
    }
    j["subjects"] = s;
  }
  return j;
}

nlohmann::json mc_sample_json(const McQuestion& q, const McResult& r) {
  nlohmann::json choices = nlohmann::json::array();
  for (size_t i = 0; i < r.choices.size(); ++i) {
    const size_t len = utf8_length(q.choice_texts[i]);
    choices.push_back({{"continuation", q.continuations[i]},
                       {"logprob", r.choices[i].logprob},
                       {"tokens", r.choices[i].tokens},
                       {"norm", r.choices[i].logprob / static_cast<double>(len > 0 ? len : 1)},
                       {"greedy", r.choices[i].greedy}});
  }
  return {{"task", q.task},
          {"id", q.id},
          {"subject", q.subject.empty() ? nlohmann::json(nullptr) : nlohmann::json(q.subject)},
          {"prompt_sha256", sha256_hex(q.context)},
          {"context_tokens", r.context_tokens},
          {"truncated_tokens", r.truncated_tokens},
          {"answer", q.answer},
          {"choices", choices},
          {"chosen", r.chosen},
          {"chosen_norm", r.chosen_norm},
          {"correct", r.chosen == q.answer},
          {"correct_norm", r.chosen_norm == q.answer}};
}

std::string mc_task_text(const std::string& task, const nlohmann::json& m) {
  auto line = [](const std::string& name, const nlohmann::json& acc) {
    return fmt::format("{:<12} {:6.2f}%  [{:6.2f}, {:6.2f}]  ({} correct)", name, 100.0 * acc["value"].get<double>(),
                       100.0 * acc["wilson95"][0].get<double>(), 100.0 * acc["wilson95"][1].get<double>(),
                       acc["correct"].get<uint64_t>());
  };
  std::string out = fmt::format("{}: {} questions, accuracy with Wilson 95% interval\n", task, m["questions"].get<uint64_t>());
  out += "  " + line("acc", m["acc"]) + "\n  " + line("acc_norm", m["acc_norm"]) + "\n";
  if (m.contains("subjects")) {
    out += "  per subject (acc):\n";
    for (const auto& [name, s] : m["subjects"].items()) {
      out += fmt::format("    {:<40} {:3}  {:6.2f}%\n", name, s["questions"].get<uint64_t>(),
                         100.0 * s["acc"]["value"].get<double>());
    }
  }
  return out;
}

}  // namespace lp::validate
