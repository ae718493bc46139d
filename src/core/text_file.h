#pragma once
// A whole file as bytes in a string: prompts, texts to score, token-id lists, data sets.
#include <filesystem>
#include <string>

namespace lp {

// InputError "<path> cannot be read" when it is missing, unreadable or a directory.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace lp
