#include "formats/hub_blob.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <system_error>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace lp {

namespace {

// Interruptions in the middle of a file are retried from where it stopped this many times
// before the run gives up (the partial file stays for the next run).
constexpr int kHubResumeAttempts = 5;

class HubFileDescriptor {
 public:
  explicit HubFileDescriptor(int fd) : fd_(fd) {}
  ~HubFileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  HubFileDescriptor(const HubFileDescriptor&) = delete;
  HubFileDescriptor& operator=(const HubFileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string hub_errno_text() { return std::error_code(errno, std::generic_category()).message(); }

uint64_t hub_file_length(int fd) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  return end < 0 ? 0 : static_cast<uint64_t>(end);
}

// The first `length` bytes of a partial download, into `hasher`.
void hub_hash_prefix(const fs::path& path, uint64_t length, Sha256& hasher) {
  HubFileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("cannot read {}: {}", path.string(), hub_errno_text());
  std::vector<uint8_t> buffer(1 << 20);
  uint64_t done = 0;
  while (done < length) {
    const ssize_t n = ::read(fd.get(), buffer.data(), std::min<uint64_t>(buffer.size(), length - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot read {}: {}", path.string(), n < 0 ? hub_errno_text() : std::string("it is shorter than before"));
    hasher.update(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)));
    done += static_cast<uint64_t>(n);
  }
}

bool hub_status_is_transient(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Retry-After in seconds where the server sends it (at most 30), else 1, 2, 4, ... seconds.
std::chrono::milliseconds hub_retry_delay(const HubResponse& response, int attempt) {
  if (const std::string* after = response.header("retry-after")) {
    const long seconds = std::strtol(after->c_str(), nullptr, 10);
    if (seconds >= 0) return std::chrono::seconds(std::min(seconds, 30L));
  }
  return std::chrono::seconds(1L << std::min(attempt - 1, 4));
}

[[noreturn]] void fail_http(const HubBlobRequest& r, long status) {
  if (status == 401 || status == 403) {
    fail("the hub refused {} of {} (HTTP {}): the repository is gated or private; set HF_TOKEN to a token with access",
         r.file, r.repo, status);
  }
  if (status == 404) fail("the hub has no {} in {} any more (HTTP 404 while downloading it)", r.file, r.repo);
  fail("the hub answered HTTP {} while downloading {} of {}", status, r.file, r.repo);
}

}  // namespace

void fetch_hub_blob(HubClient& client, const HubCache& cache, const HubBlobRequest& r, Progress& progress) {
  const fs::path blob = cache.blob(r.etag);
  const fs::path partial = cache.incomplete_blob(r.etag);
  std::error_code ec;
  if (fs::exists(blob, ec)) return;
  fs::create_directories(blob.parent_path());
  fs::create_directories(cache.lock_file(r.etag).parent_path());
  // The same lock file huggingface_hub's FileLock takes (flock), so two downloads of one blob,
  // by either tool, never write the same .incomplete at once.
  HubFileDescriptor lock(::open(cache.lock_file(r.etag).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (lock.get() < 0) fail("cannot create the lock file {}: {}", cache.lock_file(r.etag).string(), hub_errno_text());
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) fail("cannot lock {}: {}", cache.lock_file(r.etag).string(), hub_errno_text());
  }
  if (fs::exists(blob, ec)) return;  // another process finished it while we waited

  HubFileDescriptor fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail("cannot write {}: {}", partial.string(), hub_errno_text());
  uint64_t offset = hub_file_length(fd.get());
  if (r.size && offset > *r.size) {  // longer than the file: not a prefix of it
    if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0) {
      fail("cannot write {}: {}", partial.string(), hub_errno_text());
    }
    offset = 0;
  }
  progress.advance(0, offset);
  // The hash is taken as the bytes arrive, so checking an LFS file costs no second pass over it
  // (a resumed file's earlier part is read back once).
  Sha256 hasher;
  if (r.sha256 && offset > 0) hub_hash_prefix(partial, offset, hasher);
  const auto on_restart = [&] { hasher = Sha256(); };
  const auto on_data = [&](std::string_view bytes) {
    if (r.sha256) hasher.update(bytes);
    progress.advance(0, bytes.size());
  };
  for (int attempt = 1; !(r.size && offset == *r.size && *r.size > 0); ++attempt) {
    HubResponse response;
    try {
      response = client.download(r.url, offset, r.size.value_or(UINT64_MAX - 1), fd.get(), on_restart, on_data);
    } catch (const HubNetworkError& e) {
      offset = hub_file_length(fd.get());
      if (!e.resumable() || attempt >= kHubResumeAttempts) {
        fail("the download of {} from {} stopped at {} bytes ({}); run the command again to resume it", r.file, r.repo,
             offset, e.what());
      }
      continue;
    }
    if (response.status == 416 && r.size && hub_file_length(fd.get()) == *r.size) break;  // it was all there
    if (response.status == 416 && offset > 0 && attempt < kHubResumeAttempts) {
      // The server has no such range: the partial file is not a prefix it knows. Start over.
      if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0) {
        fail("cannot write {}: {}", partial.string(), hub_errno_text());
      }
      hasher = Sha256();
      offset = 0;
      continue;
    }
    if (hub_status_is_transient(response.status) && attempt < kHubResumeAttempts) {
      // Busy or briefly down (a CDN's 503, a rate limit's 429): wait as asked, a little longer
      // each time, then continue from where the file stands.
      std::this_thread::sleep_for(hub_retry_delay(response, attempt));
      offset = hub_file_length(fd.get());
      continue;
    }
    if (response.status != 200 && response.status != 206) fail_http(r, response.status);
    offset = hub_file_length(fd.get());
    if (!r.size || offset >= *r.size) break;
    // A clean end short of the size: the server closed early; ask for the rest.
    if (attempt >= kHubResumeAttempts) break;
  }
  if (::fsync(fd.get()) != 0) fail("cannot write {}: {}", partial.string(), hub_errno_text());
  const uint64_t length = hub_file_length(fd.get());
  ::close(fd.release());

  if (r.size && length < *r.size) {
    fail("the download of {} from {} stopped at {} of {} bytes; run the command again to resume it", r.file, r.repo,
         length, *r.size);
  }
  if (r.size && length > *r.size) {
    fs::remove(partial, ec);
    fail("the download of {} from {} is {} bytes, not the {} the hub lists; it was deleted, run the command again",
         r.file, r.repo, length, *r.size);
  }
  if (r.sha256) {
    const std::string actual = hasher.finish_hex();
    if (actual != *r.sha256) {
      fs::remove(partial, ec);
      fail("the download of {} from {} is corrupt (sha256 {} instead of {}); it was deleted, run the command again",
           r.file, r.repo, actual, *r.sha256);
    }
  }
  fs::rename(partial, blob);
  fsync_directory(blob.parent_path());  // best effort: the blob is whole and checked either way
}

}  // namespace lp
