#pragma once
// Writes a file atomically: bytes go to a temporary file in the same directory, which is
// fsynced and renamed over the destination only by commit(). If the writer is destroyed
// without commit() (an exception, a cancelled run) the temporary file is removed, so a
// crash never leaves a half-written model or record under the final name.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace lp {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path destination);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  void write(std::span<const uint8_t> bytes);
  void write(std::string_view bytes) { write({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}); }
  void write_zeros(uint64_t n);
  uint64_t bytes_written() const { return written_; }

  void commit();

 private:
  void flush_buffer();

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  std::vector<uint8_t> buffer_;
  uint64_t written_ = 0;
};

}  // namespace lp
