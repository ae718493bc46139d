#pragma once
// UTF-8 helpers the tokenizers share. Text from a file may hold invalid bytes; Hugging Face
// only ever sees Python strings, where such bytes were replaced by U+FFFD, so we replace them
// the same way (one U+FFFD per maximal invalid subpart, as Python's "replace" handler does).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lp {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
size_t utf8_sequence_length(std::string_view s, size_t i);
// Length of the sequence at s[i] when s is known to be valid UTF-8.
inline size_t utf8_char_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}
bool is_valid_utf8(std::string_view s);
// s with every invalid sequence replaced by U+FFFD (Python's bytes.decode("utf-8", "replace")).
std::string sanitize_utf8(std::string_view s);
// Appends the UTF-8 encoding of a code point.
void append_utf8(std::string& out, uint32_t code_point);
// Decodes the (valid) sequence at s[i].
uint32_t decode_utf8_at(std::string_view s, size_t i);
// Number of code points of valid UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace lp
