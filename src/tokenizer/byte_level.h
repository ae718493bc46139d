#pragma once
// GPT-2's byte alphabet: every byte is spelled as one printable character so that byte-level
// vocabularies can be stored as text (bytes_to_unicode in GPT-2's encoder.py).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lp {

// The code point that spells a byte.
uint32_t byte_level_code_point(uint8_t byte);
// The UTF-8 text that spells a byte.
const std::string& byte_level_char(uint8_t byte);
// The byte a code point spells, or nullopt if it is not in the alphabet.
std::optional<uint8_t> byte_level_byte(uint32_t code_point);
// Whether every character of a token is in the alphabet.
bool is_byte_level_spelling(std::string_view token);

}  // namespace lp
