#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace lp {
namespace {
constexpr size_t kBufferBytes = 4 << 20;  // large sequential writes; one tensor row rarely exceeds it

void write_all(int fd, const uint8_t* data, size_t n, const std::filesystem::path& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write {}: {}", path.string(), std::strerror(errno));
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}
}  // namespace

AtomicFile::AtomicFile(std::filesystem::path destination) : destination_(std::move(destination)) {
  const auto dir = destination_.has_parent_path() ? destination_.parent_path() : std::filesystem::path(".");
  std::string pattern = (dir / ("." + destination_.filename().string() + ".tmp-XXXXXX")).string();
  fd_ = ::mkstemp(pattern.data());
  if (fd_ < 0) fail("cannot create a file in {}: {}", dir.string(), std::strerror(errno));
  temporary_ = pattern;
  buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
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
  flush_buffer();
  if (::fsync(fd_) != 0) fail("cannot flush {} to disk: {}", destination_.string(), std::strerror(errno));
  ::fchmod(fd_, 0644);  // mkstemp creates 0600; a model file is meant to be shared
  ::close(fd_);
  fd_ = -1;
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary_.c_str());
    fail("cannot move the finished file to {}: {}", destination_.string(), std::strerror(err));
  }
  // Make the rename itself durable.
  const auto dir = destination_.has_parent_path() ? destination_.parent_path() : std::filesystem::path(".");
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace lp
