#pragma once
// Builds safetensors bytes by the format's definition (8-byte header length, JSON header,
// data), so tests can make valid files and precisely damaged ones.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lp::testing {

struct StTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> build_safetensors(const std::vector<StTensor>& tensors,
                                       const std::map<std::string, std::string>& metadata = {});
// Raw form: any header text over any data, for damaged cases.
std::vector<uint8_t> build_safetensors_raw(const std::string& header, const std::vector<uint8_t>& data);
void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

}  // namespace lp::testing
