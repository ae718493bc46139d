#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace lp {
namespace {
constexpr size_t kBufferBytes = 4 << 20;  // large sequential writes; one tensor row rarely exceeds it
constexpr size_t kRandomChars = 6;         // mkstemp's XXXXXX

// One sentence for a refused operation. A full disk is the common case on long runs and the
// one a user can act on, so it is said in words rather than as the bare errno text.
[[noreturn]] void fail_io(const char* what, const std::filesystem::path& path, int err) {
  if (err == ENOSPC) {
    fail("cannot {} {}: no space left on device (the file system is full); nothing was kept under that name", what,
         path.string());
  }
  if (err == EDQUOT) fail("cannot {} {}: the disk quota is exceeded; nothing was kept under that name", what, path.string());
  fail("cannot {} {}: {}", what, path.string(), std::strerror(err));
}

void write_all(int fd, const uint8_t* data, size_t n, const std::filesystem::path& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_io("write", path, errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

bool same_file(int fd, const std::filesystem::path& path) {
  struct stat a {}, b {};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// A temporary's name is ".NAME.tmp-" and then mkstemp's six random characters: true for that
// shape with the given prefix ".NAME.tmp-", or with any NAME when the prefix is empty.
bool is_temporary(const std::string& name, const std::string& prefix) {
  if (!prefix.empty()) return name.size() == prefix.size() + kRandomChars && name.compare(0, prefix.size(), prefix) == 0;
  static const std::string tag = ".tmp-";
  return name.size() > 1 + tag.size() + kRandomChars && name[0] == '.' &&
         name.compare(name.size() - kRandomChars - tag.size(), tag.size(), tag) == 0;
}

// Removes the temporaries of `prefix` in `dir` that no live writer holds (see the header).
// Best effort: a temporary it cannot open or lock is left alone, never an error.
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const std::filesystem::path& path = it->path();
    if (!is_temporary(path.filename().string(), prefix)) continue;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    struct stat st {};
    // The lock is free only once its writer is gone; the name is checked again so a file that
    // took the name since we opened it is not the one removed.
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0 && same_file(fd, path)) {
      ::unlink(path.c_str());
    }
    ::close(fd);
  }
}

// Locks a fresh temporary for the writer's life. False when a concurrent clean-up removed it
// in the instant between mkstemp and the lock: the caller takes another name.
bool lock_fresh(int fd, const std::filesystem::path& path) {
  // A file system without locks (EINVAL, ENOLCK, ENOTSUP) leaves the writer unprotected, and
  // equally leaves every clean-up unable to lock, so nothing is ever removed there.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return errno != EWOULDBLOCK;
  return same_file(fd, path);
}

std::filesystem::path parent_dir(const std::filesystem::path& p) {
  return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}
}  // namespace

void remove_stale_atomic_temporaries(const std::filesystem::path& dir) { remove_stale_temporaries(dir, ""); }

std::string atomic_temporary_prefix(const std::filesystem::path& destination) {
  std::string prefix = ".";  // appended rather than "." + name: GCC 12 warns falsely (-Wrestrict) on that
  prefix += destination.filename().string();
  prefix += ".tmp-";
  return prefix;
}

AtomicFile::AtomicFile(std::filesystem::path destination) : destination_(std::move(destination)) {
  const auto dir = parent_dir(destination_);
  const std::string prefix = atomic_temporary_prefix(destination_);
  remove_stale_temporaries(dir, prefix);
  for (int attempt = 0; fd_ < 0; ++attempt) {
    std::string pattern = (dir / (prefix + std::string(kRandomChars, 'X'))).string();
    // O_CLOEXEC: a child started while this file is open must not inherit the lock.
    const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) fail_io("create a file in", dir, errno);
    if (lock_fresh(fd, pattern)) {
      fd_ = fd;
      temporary_ = pattern;
    } else {
      ::close(fd);
      if (attempt >= 100) fail("cannot create a temporary file for {}: every name was taken away", destination_.string());
    }
  }
  buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::unlink(temporary_.c_str());  // before close, while the lock still says the file is ours
    ::close(fd_);
  }
}

void AtomicFile::flush_buffer() {
  write_all(fd_, buffer_.data(), buffer_.size(), destination_);
  buffer_.clear();
}

void AtomicFile::write(std::span<const uint8_t> bytes) {
  written_ += bytes.size();
  if (buffer_.size() + bytes.size() > kBufferBytes) flush_buffer();
  if (bytes.size() >= kBufferBytes) {
    write_all(fd_, bytes.data(), bytes.size(), destination_);
  } else {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  }
}

void AtomicFile::write_zeros(uint64_t n) {
  static const uint8_t zeros[4096] = {};
  while (n > 0) {
    const uint64_t chunk = n < sizeof(zeros) ? n : sizeof(zeros);
    write({zeros, chunk});
    n -= chunk;
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) fail("internal: {} committed twice", destination_.string());
  flush_buffer();
  // The bytes must be on disk before the name points at them: otherwise a crash after the
  // rename can leave a complete-looking name over an empty or short file.
  if (::fsync(fd_) != 0) fail_io("write", destination_, errno);
  ::fchmod(fd_, 0644);  // mkstemp creates 0600; a model file is meant to be shared (cosmetic: not checked)
  // Renamed while still open and locked, so no clean-up can take the finished temporary.
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    fail_io("move the finished file to", destination_, errno);  // the destructor removes the temporary
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(destination_.c_str());  // a file whose last write was refused is not one to keep
    fail_io("write", destination_, err);
  }
  // Make the rename itself durable. Some file systems cannot fsync a directory (EINVAL): the
  // rename is then as durable as they make it.
  if (const int err = fsync_directory(parent_dir(destination_)); err != 0 && err != EINVAL) {
    fail("wrote {} but could not make its name durable: {}", destination_.string(), std::strerror(err));
  }
}

int fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  const int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

void write_file_atomically(const std::filesystem::path& destination, std::string_view text) {
  AtomicFile f(destination);
  f.write(text);
  f.commit();
}

std::filesystem::path make_temporary_directory(std::string_view prefix, std::string_view what) {
  const std::filesystem::path base = std::filesystem::temp_directory_path();
  std::string name = (base / (std::string(prefix) + "-XXXXXX")).string();
  if (::mkdtemp(name.data()) == nullptr) fail("cannot create a temporary directory for {} in {}", what, base.string());
  return name;
}

}  // namespace lp
