#pragma once
// Writes a file atomically: bytes go to a temporary file in the same directory, which is
// fsynced and renamed over the destination only by commit(). If the writer is destroyed
// without commit() (an exception, a full disk) the temporary file is removed, so nothing is
// ever left under the final name but a complete file.
//
// The temporary is ".NAME.tmp-XXXXXX" next to NAME: hidden, so `ls` and globs such as
// *.gguf never show it as output. A process killed outright (SIGKILL, a crash, power loss)
// cannot remove it; the writer holds an flock on it for its whole life, which the kernel
// drops however the process ends, so the next AtomicFile for the same NAME removes every such
// temporary nobody holds, and never one a running writer still uses.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lp {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path destination);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  // Each throws InputError naming the destination when the file system refuses (a full disk
  // says so in words); the temporary is then removed by the destructor.
  void write(std::span<const uint8_t> bytes);
  void write(std::string_view bytes) { write({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}); }
  void write_zeros(uint64_t n);
  uint64_t bytes_written() const { return written_; }

  void commit();

  const std::filesystem::path& temporary_path() const { return temporary_; }

 private:
  void flush_buffer();

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  std::vector<uint8_t> buffer_;
  uint64_t written_ = 0;
};

// `text` as the whole of `destination`, written atomically (one AtomicFile, committed).
void write_file_atomically(const std::filesystem::path& destination, std::string_view text);

// Makes a rename into `dir` durable. Returns the errno of a failed fsync; 0 when done, or when
// the directory cannot be opened (the rename is then as durable as the file system makes it).
int fsync_directory(const std::filesystem::path& dir);

// A new, empty, private directory under the system's temporary folder, named PREFIX-XXXXXX
// (mkdtemp's template). InputError naming `what` it is for when it cannot be made.
std::filesystem::path make_temporary_directory(std::string_view prefix, std::string_view what);

// ".NAME.tmp-" for a destination NAME: what every temporary of it starts with.
std::string atomic_temporary_prefix(const std::filesystem::path& destination);

// Removes every AtomicFile temporary in `dir`, of any name, that no live writer holds: for a
// folder whose outputs a later run may never write again under the same names.
void remove_stale_atomic_temporaries(const std::filesystem::path& dir);

}  // namespace lp
