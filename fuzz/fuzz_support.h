#pragma once
// What the fuzz targets share: the input as text, split in two at its first NUL byte (a file
// and the text to run through it), written to a per-process file for the parsers that read
// paths, and the rule that an InputError is the only acceptable failure.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace lp::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// {before the first NUL, after it}; the second is empty when there is none.
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view input) {
  const size_t nul = input.find('\0');
  if (nul == std::string_view::npos) return {input, {}};
  return {input.substr(0, nul), input.substr(nul + 1)};
}

// The bytes as a file named `name` in this process's own folder (overwritten each run).
inline std::filesystem::path input_file(std::string_view bytes, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("lp-fuzz-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Runs one parse. A clean InputError is an expected answer to bad input; any other exception
// escapes, and libFuzzer reports it as a finding (the CLI would have aborted).
template <class Parse>
int accept_input_errors(Parse&& parse) {
  try {
    parse();
  } catch (const InputError&) {
  }
  return 0;
}

}  // namespace lp::fuzz
