#pragma once
// SHA-256 (FIPS 180-4) of bytes and files: records name the exact model, text and reference
// they measured by content, so a renamed or re-downloaded file is recognised. Written here
// (about a hundred lines, tested against the NIST vectors) rather than adding a crypto
// library for one hash; at ~300 MB/s it costs seconds next to the minutes an evaluation takes,
// and CPUs with the x86 SHA extensions run it at over 1 GB/s (core/sha256_x86.h).
#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace lp {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const uint8_t> bytes);
  void update(std::string_view text) { update({reinterpret_cast<const uint8_t*>(text.data()), text.size()}); }
  std::array<uint8_t, 32> finish();  // the object is spent afterwards
  std::string finish_hex();

 private:
  void block(const uint8_t* p);
  void blocks(const uint8_t* p, size_t count);  // the x86 SHA extensions where the CPU has them
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// InputError when the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace lp
