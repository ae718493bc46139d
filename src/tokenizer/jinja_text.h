#pragma once
// Python string semantics over UTF-8: a Python str is a sequence of code points, so
// len(), indexing, slicing and strip() count code points and know Unicode whitespace.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lp::jinja {

// Code points of a UTF-8 string; an invalid byte stands for itself (U+0080..U+00FF
// would be wrong, so it is kept as a raw byte value marked by the high bit 0x80000000).
std::vector<uint32_t> decode_utf8(std::string_view s);
std::string encode_utf8(const std::vector<uint32_t>& cps);
void append_utf8(std::string& out, uint32_t cp);

bool is_python_space(uint32_t cp);  // str.isspace()

// str.strip/lstrip/rstrip: with no `chars`, Unicode whitespace.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);

}  // namespace lp::jinja
