#include "validate/fidelity_runner.h"

#include <fmt/core.h>

#include <cstdio>
#include <numeric>

#include "core/error.h"
#include "core/sha256.h"
#include "core/text_file.h"
#include "formats/json_guard.h"
#include "stats/intervals.h"
#include "validate/paired_comparison.h"
#include "validate/text_metrics.h"

namespace lp::validate {
namespace {

// The per-prompt numbers a family reports, by name.
constexpr std::pair<const char*, double FidelitySample::*> kMetrics[] = {
    {"rouge_l", &FidelitySample::rouge_l},
    {"bleu", &FidelitySample::bleu},
    {"exact_match", &FidelitySample::exact_match},
    {"length_ratio", &FidelitySample::length_ratio},
    {"repetition", &FidelitySample::repetition},
    {"reference_repetition", &FidelitySample::reference_repetition},
};

nlohmann::json mean_json(const std::vector<double>& v) {
  const double mean = v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  const auto ci = stats::bootstrap_mean_interval(v);
  return {{"mean", mean}, {"bootstrap95", {ci.low, ci.high}}};
}

nlohmann::json family_json(const std::vector<const FidelitySample*>& samples) {
  nlohmann::json j = {{"prompts", samples.size()}};
  for (const auto& [name, member] : kMetrics) {
    std::vector<double> v;
    for (const FidelitySample* s : samples) v.push_back(s->*member);
    j[name] = mean_json(v);
  }
  return j;
}

FidelityAnswer answer_of(const GenerationResult& r) {
  return {r.text, static_cast<int64_t>(r.tokens.size()), r.stop_reason};
}

}  // namespace

ReferenceAnswers load_reference_answers(const std::filesystem::path& samples, std::span<const FidelityPrompt> prompts) {
  std::map<std::string, std::pair<std::string, FidelityAnswer>> found;  // id -> (prompt_sha256, answer)
  const std::string name = samples.string();
  const std::string text = read_text_file(samples);
  size_t line_no = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const nlohmann::json j = parse_untrusted_json(line, fmt::format("{} line {}", name, line_no));
    // mmlu/arc lines share the file. (Not j.value("task", ""): it throws a json type error,
    // not an InputError, for a "task" that is not a string.)
    if (!j.is_object() || !j.contains("task") || !j["task"].is_string() || j["task"] != "gen") continue;
    const auto* id = j.contains("id") && j["id"].is_string() ? &j["id"] : nullptr;
    const bool complete = id && j.contains("prompt_sha256") && j["prompt_sha256"].is_string() &&
                          j.contains("reference_generated") && j["reference_generated"].is_string() &&
                          j.contains("reference_tokens") && j["reference_tokens"].is_number_unsigned() &&
                          j.contains("reference_stop_reason") && j["reference_stop_reason"].is_string();
    if (!complete) {
      fail("{} line {} is not a gen sample with the reference's answer (validate --samples writes them)", name,
           line_no);
    }
    found[id->get<std::string>()] = {j["prompt_sha256"].get<std::string>(),
                                     {j["reference_generated"].get<std::string>(), j["reference_tokens"].get<int64_t>(),
                                      j["reference_stop_reason"].get<std::string>()}};
  }
  ReferenceAnswers out;
  for (const FidelityPrompt& p : prompts) {
    const auto it = found.find(p.id);
    if (it == found.end()) fail("{} has no reference answer for prompt '{}'", name, p.id);
    const auto& [prompt_sha, answer] = it->second;
    if (prompt_sha != sha256_hex(p.prompt)) {
      fail("{} answered a different prompt '{}' (its prompt_sha256 differs): give the same --prompts", name, p.id);
    }
    out.emplace(p.id, answer);
  }
  return out;
}

FidelitySample score_fidelity(const FidelityPrompt& prompt, FidelityAnswer model, FidelityAnswer reference) {
  FidelitySample s;
  s.prompt = &prompt;
  s.rouge_l = rouge_l_f1(model.text, reference.text);
  s.bleu = sentence_bleu(model.text, reference.text);
  s.exact_match = exact_match(model.text, reference.text);
  s.length_ratio = length_ratio(model.text, reference.text);
  s.repetition = distinct_4gram_ratio(model.text);
  s.reference_repetition = distinct_4gram_ratio(reference.text);
  s.model = std::move(model);
  s.reference = std::move(reference);
  return s;
}

std::vector<FidelitySample> run_fidelity(std::span<const FidelityPrompt> prompts, GreedyChat& model,
                                         GreedyChat& reference, const ReferenceAnswers* cached,
                                         const std::function<void(const nlohmann::json& sample)>& sample) {
  std::vector<FidelitySample> out;
  out.reserve(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const FidelityPrompt& p = prompts[i];
    const int64_t budget = family_info(p.family).max_new_tokens;
    FidelityAnswer mine = answer_of(model.answer(p.prompt, budget));
    FidelityAnswer theirs = cached ? cached->at(p.id) : answer_of(reference.answer(p.prompt, budget));
    out.push_back(score_fidelity(p, std::move(mine), std::move(theirs)));
    if (sample) sample(fidelity_sample_json(out.back()));
    if ((i + 1) % 10 == 0 || i + 1 == prompts.size()) {
      fmt::print(stderr, "gen: {}/{} prompts\n", i + 1, prompts.size());
      std::fflush(stderr);
    }
  }
  return out;
}

nlohmann::json fidelity_json(const std::vector<FidelitySample>& samples) {
  nlohmann::json families = nlohmann::json::object();
  for (const PromptFamilyInfo& f : prompt_families()) {
    std::vector<const FidelitySample*> of;
    for (const auto& s : samples) {
      if (s.prompt->family == f.family) of.push_back(&s);
    }
    if (!of.empty()) families[std::string(f.name)] = family_json(of);
  }
  std::vector<const FidelitySample*> all;
  std::vector<double> rep, ref_rep, tokens, ref_tokens;
  for (const auto& s : samples) {
    all.push_back(&s);
    rep.push_back(s.repetition);
    ref_rep.push_back(s.reference_repetition);
    tokens.push_back(static_cast<double>(s.model.tokens));
    ref_tokens.push_back(static_cast<double>(s.reference.tokens));
  }
  return {{"prompts", samples.size()},
          {"families", families},
          {"overall", family_json(all)},
          {"repetition_vs_reference", paired_continuous_json(rep, ref_rep)},
          {"tokens_vs_reference", paired_continuous_json(tokens, ref_tokens)}};
}

nlohmann::json fidelity_sample_json(const FidelitySample& s) {
  return {{"task", "gen"},
          {"id", s.prompt->id},
          {"family", family_info(s.prompt->family).name},
          {"prompt_sha256", sha256_hex(s.prompt->prompt)},
          {"generated", s.model.text},
          {"reference_generated", s.reference.text},
          {"generated_tokens", s.model.tokens},
          {"reference_tokens", s.reference.tokens},
          {"stop_reason", s.model.stop_reason},
          {"reference_stop_reason", s.reference.stop_reason},
          {"rouge_l", s.rouge_l},
          {"bleu", s.bleu},
          {"exact_match", s.exact_match},
          {"length_ratio", s.length_ratio},
          {"repetition", s.repetition},
          {"reference_repetition", s.reference_repetition}};
}

std::string fidelity_text(const nlohmann::json& m) {
  std::string out = fmt::format("gen: {} prompts, model's greedy answers against the reference's (mean, bootstrap 95%)\n",
                                m["prompts"].get<uint64_t>());
  out += fmt::format("  {:<18} {:>7} {:>22} {:>22} {:>8} {:>8} {:>8}\n", "family", "prompts", "ROUGE-L", "BLEU",
                     "exact", "length", "distinct4");
  auto row = [&](const std::string& name, const nlohmann::json& f) {
    auto ci = [](const nlohmann::json& x) {
      return fmt::format("{:.3f} [{:.3f}, {:.3f}]", x["mean"].get<double>(), x["bootstrap95"][0].get<double>(),
                         x["bootstrap95"][1].get<double>());
    };
    out += fmt::format("  {:<18} {:>7} {:>22} {:>22} {:>8.3f} {:>8.3f} {:>8.3f}\n", name, f["prompts"].get<uint64_t>(),
                       ci(f["rouge_l"]), ci(f["bleu"]), f["exact_match"]["mean"].get<double>(),
                       f["length_ratio"]["mean"].get<double>(), f["repetition"]["mean"].get<double>());
  };
  for (const auto& [name, f] : m["families"].items()) row(name, f);
  row("overall", m["overall"]);
  const auto& rep = m["repetition_vs_reference"];
  out += fmt::format("  distinct 4-grams, model - reference: {:+.4f} (paired t p = {:.3g}); answer tokens: {:+.1f} (p = {:.3g})\n",
                     rep["mean_difference"].get<double>(), rep["paired_t"]["p_value"].get<double>(),
                     m["tokens_vs_reference"]["mean_difference"].get<double>(),
                     m["tokens_vs_reference"]["paired_t"]["p_value"].get<double>());
  return out;
}

}  // namespace lp::validate
