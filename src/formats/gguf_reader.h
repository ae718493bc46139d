#pragma once
// Reading GGUF (versions 2 and 3) over mmap, including models split across several files
// (`name-00001-of-00003.gguf`). Parsing trusts nothing: every count, length, offset and
// size is checked against the bytes that are really there before it is used.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ggml_types.h"
#include "core/mapped_file.h"
#include "formats/gguf_value.h"

namespace lp {

constexpr uint32_t kGgufDefaultAlignment = 32;
constexpr uint32_t kGgufMaxDims = 4;

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> shape;  // GGML order: shape[0] is the contiguous (row) dimension
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // from the start of its file's data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint32_t file_index = 0;         // which file of a split model holds it
  std::span<const uint8_t> data;   // its bytes inside the mapping (not read until used)
};

// The parsed content of one GGUF file's bytes. `source` names the file in error messages.
struct GgufContents {
  uint32_t version = 0;
  uint32_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;  // where the aligned data section starts
  std::vector<GgufKeyValue> metadata;
  std::vector<GgufTensorInfo> tensors;
};
GgufContents parse_gguf(std::span<const uint8_t> bytes, const std::string& source);

// A whole model: one file or every file of a split model, read as one.
class GgufModel {
 public:
  static GgufModel open(const std::filesystem::path& path);

  const std::vector<std::filesystem::path>& files() const { return files_; }
  uint64_t file_bytes() const;  // all files together
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  std::vector<std::filesystem::path> files_;
  std::vector<MappedFile> maps_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> metadata_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace lp
