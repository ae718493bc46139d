#pragma once
// Running a step of a long job as a child process: one of our own subcommands, with its
// standard output to a file and its standard error appended to a log. The child dies with its
// parent (PR_SET_PDEATHSIG), so a killed sweep leaves no orphan still writing; each step's
// own outputs are atomic, so what a killed child leaves is a temporary file, never a record.
#include <filesystem>
#include <string>
#include <vector>

namespace lp {

// The running executable (/proc/self/exe), to start our own subcommands.
std::filesystem::path self_executable();

struct ChildResult {
  int exit_code = -1;  // the child's exit status, or 128 + signal when a signal ended it
};

// Runs `argv` (argv[0]: the program) and waits. stdout goes to `stdout_file` (truncated; empty:
// /dev/null), stderr is appended to `log_file` (empty: inherited). InputError when it cannot start.
ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& stdout_file,
                      const std::filesystem::path& log_file);

}  // namespace lp
