#include "tokenizer/jinja_text.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace lp::jinja {
namespace {
constexpr uint32_t kRawByte = 0x80000000u;
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t cp = c;
    if (c >= 0xF0 && c <= 0xF4) {
      extra = 3, cp = c & 0x07;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2, cp = c & 0x0F;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1, cp = c & 0x1F;
    } else if (c >= 0x80) {
      out.push_back(kRawByte | c);
      ++i;
      continue;
    }
    bool ok = i + static_cast<size_t>(extra) < s.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const auto n = static_cast<unsigned char>(s[i + k]);
      if ((n & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (n & 0x3F);
    }
    if (!ok) {
      out.push_back(kRawByte | c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += 1 + extra;
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp & kRawByte) {
    out.push_back(static_cast<char>(cp & 0xFF));  // a byte of invalid UTF-8, kept as it was
  } else {
    lp::append_utf8(out, cp);
  }
}

std::string encode_utf8(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (const uint32_t cp : cps) append_utf8(out, cp);
  return out;
}

bool is_python_space(uint32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20)) return true;
  switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
  const auto cps = decode_utf8(s);
  std::vector<uint32_t> set;
  if (chars != nullptr) set = decode_utf8(*chars);
  auto strip_it = [&](uint32_t cp) {
    return chars == nullptr ? is_python_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = cps.size();
  if (left) while (b < e && strip_it(cps[b])) ++b;
  if (right) while (e > b && strip_it(cps[e - 1])) --e;
  return encode_utf8(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(b),
                                           cps.begin() + static_cast<std::ptrdiff_t>(e)));
}

}  // namespace lp::jinja
