#pragma once
// A GGUF sample that exercises everything the format can hold: one key of every metadata
// type, arrays of every element type, arrays of arrays, and one tensor of every GGML type
// with deterministic pseudo-random bytes. Shared by the unit tests, the Python reference
// checks (through lp_gguf_tool) and the fuzz seed corpus.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/ggml_types.h"
#include "formats/gguf_value.h"

namespace lp::testing {

struct SampleTensor {
  std::string name;
  GgmlType type;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

std::vector<GgufKeyValue> sample_metadata();
std::vector<SampleTensor> sample_tensors(uint32_t seed = 1);
std::vector<uint8_t> pseudo_random_bytes(size_t n, uint32_t seed);

// Writes the sample; returns the file's bytes for in-memory tests.
std::vector<uint8_t> write_sample_gguf(const std::filesystem::path& path, uint32_t alignment = 32);
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);

}  // namespace lp::testing
