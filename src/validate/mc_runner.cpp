#include "validate/mc_runner.h"

#include <fmt/core.h>

#include <cstdio>

#include "core/error.h"
#include "core/sha256.h"
#include "validate/mc_report.h"
#include "validate/mc_subset.h"

namespace lp::validate {
namespace {

nlohmann::json describe_data(const std::filesystem::path& root, const std::vector<std::filesystem::path>& files) {
  std::string lines;
  for (const auto& f : files) {
    lines += sha256_file(f) + "  " + std::filesystem::relative(f, root).generic_string() + "\n";
  }
  return {{"path", root.string()}, {"files", files.size()}, {"sha256", sha256_hex(lines)}};
}

std::vector<McQuestion> pick(std::vector<McQuestion> all, const std::string& name, size_t k) {
  std::vector<McQuestion> out;
  for (const size_t i : tr125_pick(name, all.size(), k)) out.push_back(std::move(all[i]));
  return out;
}

void score_question(const McQuestion& q, McSide& side) {
  if (side.loglikelihood) side.outcomes.loglikelihood.push_back(side.loglikelihood->score(q));
  if (side.generation) side.outcomes.generation.push_back(generate_mc_answer(*side.generation, q));
}

}  // namespace

McTask load_mc_task(const std::string& name, const std::filesystem::path& data_dir, const McSubset& subset, int shots) {
  McTask t;
  t.name = name;
  if (name == "mmlu") {
    const auto dir = data_dir / "mmlu";
    std::vector<std::filesystem::path> files;
    for (const std::string& subject : mmlu_subjects(dir)) {
      auto qs = load_mmlu_subject(dir, subject, shots);
      if (subset.mmlu_per_subject > 0) qs = pick(std::move(qs), subject, subset.mmlu_per_subject);
      for (auto& q : qs) t.questions.push_back(std::move(q));
      files.push_back(dir / "test" / (subject + "_test.csv"));
      if (shots > 0) files.push_back(dir / "dev" / (subject + "_dev.csv"));
    }
    t.data = describe_data(dir, files);
    return t;
  }
  const char* folder = name == "arc_challenge" ? "ARC-Challenge" : name == "arc_easy" ? "ARC-Easy" : nullptr;
  if (!folder) fail("unknown multiple-choice task '{}'", name);
  const auto file = data_dir / "arc" / folder / (std::string(folder) + "-Test.jsonl");
  if (!std::filesystem::exists(file)) fail("ARC data {} does not exist", file.string());
  t.questions = load_arc(file, name);
  if (subset.arc_questions > 0) t.questions = pick(std::move(t.questions), name, subset.arc_questions);
  t.data = describe_data(data_dir / "arc", {file});
  return t;
}

void run_mc_task(const McTask& task, McSide& model, McSide* reference,
                 const std::function<void(const nlohmann::json& sample)>& sample) {
  const size_t n = task.questions.size();
  for (size_t i = 0; i < n; ++i) {
    score_question(task.questions[i], model);
    if (reference) score_question(task.questions[i], *reference);
    if (sample) sample(mc_sample_json(task.questions[i], i, model.outcomes, reference ? &reference->outcomes : nullptr));
    if ((i + 1) % 50 == 0 || i + 1 == n) {
      fmt::print(stderr, "{}: {}/{} questions\n", task.name, i + 1, n);
      std::fflush(stderr);
    }
  }
}

}  // namespace lp::validate
