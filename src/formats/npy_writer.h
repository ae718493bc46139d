#pragma once
// NumPy .npy files (format 1.0, little-endian float32, C order): the array format every
// numerical tool reads, used for logits so anyone can compare our engine with another.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace lp {

// Streams a float32 array of a shape known up front: rows are appended one at a time, and
// commit() fails unless exactly the announced number arrived. Written atomically.
class NpyWriter {
 public:
  NpyWriter(const std::filesystem::path& path, std::vector<uint64_t> shape);
  ~NpyWriter();
  void append(std::span<const float> values);
  void commit();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace lp
