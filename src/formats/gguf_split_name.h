#pragma once
// llama.cpp's names for the parts of a split GGUF (gguf-split): "<prefix>-00002-of-00005.gguf".
// The reader opens every part from the first's name; the hub fetches every part of a split.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <regex>
#include <string>

namespace lp {

struct GgufSplitName {
  std::string prefix;  // everything before "-NNNNN-of-MMMMM.gguf" (a directory included)
  uint32_t part = 0, count = 0;
};

// The parts of a split's name, or nothing for another name. The numbers are not checked.
inline std::optional<GgufSplitName> parse_gguf_split_name(const std::string& name) {
  static const std::regex pattern(R"(^(.*)-(\d{5})-of-(\d{5})\.gguf$)");
  std::smatch m;
  if (!std::regex_match(name, m, pattern)) return std::nullopt;
  return GgufSplitName{m[1].str(), static_cast<uint32_t>(std::stoul(m[2].str())), static_cast<uint32_t>(std::stoul(m[3].str()))};
}

// The name of part `part` (1-based) of the split `name` belongs to.
inline std::string gguf_split_part_name(const GgufSplitName& name, uint32_t part) {
  return fmt::format("{}-{:05d}-of-{:05d}.gguf", name.prefix, part, name.count);
}

}  // namespace lp
