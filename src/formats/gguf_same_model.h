#pragma once
// Whether two GGUF files hold the same model apart from the name of their file type. A narrow
// model's low levels can fall back to the same tensor types (SmolLM2's rows of 576 make its
// Q3_K_S and Q2_K the same tensors): the files then differ only in `general.file_type`, a
// label nothing computes with, and every measurement of one is a measurement of the other.
#include <filesystem>

namespace lp {

// True when both open as GGUF and have equal metadata (but general.file_type), equal tensor
// names, types, shapes and offsets, and byte-equal tensor data.
bool same_model_but_file_type(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace lp
