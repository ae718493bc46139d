#include "formats/json_guard.h"

#include "core/error.h"
#include "core/mapped_file.h"

namespace lp {

nlohmann::json parse_untrusted_json(std::string_view text, const std::string& source, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) fail("{} nests JSON more than {} levels deep", source, max_depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  nlohmann::json parsed = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) fail("{} is not valid JSON", source);
  return parsed;
}

nlohmann::json read_json_file(const std::string& path) {
  const MappedFile file = MappedFile::open(path);
  const auto bytes = file.bytes();
  return parse_untrusted_json({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, path);
}

}  // namespace lp
