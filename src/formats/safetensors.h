#pragma once
// Reading safetensors checkpoints over mmap: a single file, or a sharded checkpoint through
// its `model.safetensors.index.json`. F32, F16 and BF16 tensors convert to float32; tensors
// of other dtypes are exposed as raw bytes with their dtype named.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"

namespace lp {

struct SafetensorsDtype {
  std::string_view name;  // as written in the header: "F32", "BF16", "I64", ...
  uint32_t bytes;
  bool is_float_convertible;  // F32, F16, BF16: readable by to_f32()
};
const SafetensorsDtype* find_safetensors_dtype(std::string_view name);

struct SafetensorsTensor {
  std::string name;
  const SafetensorsDtype* dtype = nullptr;
  std::vector<uint64_t> shape;  // row-major (PyTorch) order: the last dimension is contiguous
  uint64_t n_elements = 0;
  std::span<const uint8_t> data;
  uint32_t file_index = 0;
};

struct SafetensorsContents {
  std::map<std::string, std::string> metadata;  // the optional "__metadata__" object
  std::vector<SafetensorsTensor> tensors;       // in order of their data offsets
};
SafetensorsContents parse_safetensors(std::span<const uint8_t> bytes, const std::string& source);

// The tensor's values as float32. InputError for dtypes other than F32, F16 and BF16.
std::vector<float> safetensors_to_f32(const SafetensorsTensor& tensor);

class SafetensorsModel {
 public:
  // `path` is a .safetensors file, a .index.json file, or a directory holding either
  // model.safetensors.index.json or exactly the *.safetensors files of one checkpoint.
  static SafetensorsModel open(const std::filesystem::path& path);

  const std::vector<std::filesystem::path>& files() const { return files_; }
  uint64_t file_bytes() const;
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  void add_file(const std::filesystem::path& path);

  std::vector<std::filesystem::path> files_;
  std::vector<MappedFile> maps_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
  std::unordered_map<std::string_view, size_t> index_;
};

}  // namespace lp
