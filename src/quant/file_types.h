#pragma once
// llama.cpp's file types (general.file_type, `enum llama_ftype`): one row each, id and name.
// The quantization recipes hang their tensor-type rules off these rows.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace lp {

struct FileTypeInfo {
  uint32_t id;
  std::string_view name;  // as llama-quantize names it: Q4_K_M, F16, ...
};

std::span<const FileTypeInfo> all_file_types();
const FileTypeInfo* find_file_type(uint32_t id);
const FileTypeInfo* find_file_type(std::string_view name);  // case-insensitive

}  // namespace lp
