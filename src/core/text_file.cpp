#include "core/text_file.h"

#include <fstream>
#include <iterator>

#include "core/error.h"

namespace lp {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) fail("{} cannot be read", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace lp
