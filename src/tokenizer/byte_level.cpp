#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace lp {
namespace {

struct Alphabet {
  std::array<uint32_t, 256> code_point{};
  std::array<std::string, 256> text;
  std::array<int16_t, 256 + 68> byte_of{};  // code points 0..323 back to bytes (-1: none)
  Alphabet() {
    byte_of.fill(-1);
    // Printable Latin-1 bytes spell themselves; the others take code points from 256 upwards.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      code_point[b] = printable ? b : next++;
      append_utf8(text[b], code_point[b]);
      byte_of[code_point[b]] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

uint32_t byte_level_code_point(uint8_t byte) { return alphabet().code_point[byte]; }
const std::string& byte_level_char(uint8_t byte) { return alphabet().text[byte]; }

std::optional<uint8_t> byte_level_byte(uint32_t cp) {
  const auto& a = alphabet();
  if (cp >= a.byte_of.size() || a.byte_of[cp] < 0) return std::nullopt;
  return static_cast<uint8_t>(a.byte_of[cp]);
}

bool is_byte_level_spelling(std::string_view token) {
  if (!is_valid_utf8(token)) return false;
  for (size_t i = 0; i < token.size(); i += utf8_char_length(static_cast<unsigned char>(token[i])))
    if (!byte_level_byte(decode_utf8_at(token, i))) return false;
  return true;
}

}  // namespace lp
