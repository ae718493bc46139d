#pragma once
// Small string helpers shared across modules.
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace lp {

inline bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// ASCII letters lowercased (HTTP header names, environment flags, file extensions).
inline std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "a,b,,c" -> {"a", "b", "c"}: a comma-separated option's items, empty ones dropped.
inline std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.emplace_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace lp
