#pragma once
// A read-only memory map of a whole file. Model files are mapped, never read into memory,
// so that inspecting a 16 GB model touches only the pages that hold its metadata.
#include <cstdint>
#include <filesystem>
#include <span>

namespace lp {

class MappedFile {
 public:
  // Throws InputError naming the path when it is missing, a directory, or unreadable.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Drops the whole pages inside `bytes`, a range of a MappedFile, from this process's
// resident memory (the page cache keeps them; reading them again maps them back from the
// file). For a copy that replaces a mapped tensor, so memory holds one of the two.
void release_mapped_pages(std::span<const uint8_t> bytes);

}  // namespace lp
