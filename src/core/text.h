#pragma once
// Small string helpers shared across modules.
#include <algorithm>
#include <cctype>
#include <string_view>

namespace lp {

inline bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace lp
