#pragma once
// Writing one safetensors file: the header (names, dtypes, shapes, byte ranges and the
// "__metadata__" strings) is laid out from the tensors' descriptions first, then their bytes
// are written in that order, one tensor at a time, so memory never holds a whole model. The
// file appears under its name only when complete (AtomicFile).
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace lp {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;            // "F32", "BF16", "U32", ...
  std::vector<uint64_t> shape;  // row-major
  uint64_t n_bytes = 0;
};

class SafetensorsWriter {
 public:
  SafetensorsWriter(const std::filesystem::path& path, std::vector<SafetensorsEntry> entries,
                    const std::map<std::string, std::string>& metadata);
  // The bytes of entry `index`, which must be the next one in order and of its size.
  void write(size_t index, std::span<const uint8_t> bytes);
  void commit();  // after every entry was written

 private:
  AtomicFile file_;
  std::vector<SafetensorsEntry> entries_;
  size_t next_ = 0;
};

}  // namespace lp
