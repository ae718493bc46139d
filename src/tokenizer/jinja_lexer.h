#pragma once
// Splits a chat template into jinja2's token stream: template data, {{ }} and {% %} tags
// and the expression tokens inside them. Whitespace control follows the environment that
// transformers renders with (trim_blocks, lstrip_blocks, keep_trailing_newline off), since
// one stray newline makes a different prompt.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lp::jinja {

enum class TokenKind { Data, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, End };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // data, name, operator, or a string literal's value (escapes resolved)
  int line = 1;
  int64_t integer = 0;
  double number = 0.0;
};

// InputError naming the line for an unterminated tag, comment or string, or a character
// that is no token.
std::vector<Token> tokenize(std::string_view source);

}  // namespace lp::jinja
