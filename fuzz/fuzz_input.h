#pragma once
// Shared by the fuzz targets: splitting one fuzz input into the parts a parser takes, and a
// per-process scratch file for the parsers that read a path (mmap'd formats) rather than bytes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lp::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The input up to its first NUL byte, and what follows it (empty when there is none). The
// seeds are written as "<file>\0<second part>", so the mutator can change either side.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view input) {
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return {input, {}};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

// Every NUL-separated part of the input, at most `max_parts` (the last keeps the rest).
inline std::vector<std::string_view> split_all_at_nul(std::string_view input, size_t max_parts) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t nul = input.find('\0', start);
    if (nul == std::string_view::npos || parts.size() + 1 == max_parts) {
      parts.push_back(input.substr(start));
      return parts;
    }
    parts.push_back(input.substr(start, nul - start));
    start = nul + 1;
  }
}

// /tmp/lp-fuzz-<pid>/<name>, created once; fuzzers run one input at a time, so reusing it is safe.
inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("lp-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_scratch_file(const std::string& name, std::string_view bytes) {
  const auto path = scratch_dir() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace lp::fuzz
