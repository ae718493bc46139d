#include "tokenizer/jinja_lexer.h"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "core/error.h"
#include "tokenizer/jinja_text.h"

namespace lp::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// jinja2 normalizes every newline to "\n" and, without keep_trailing_newline, drops one
// trailing newline of the template.
std::string normalize(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int count_newlines(std::string_view s) {
  int n = 0;
  for (const char c : s) n += c == '\n';
  return n;
}

// Python's "unicode-escape" decoding of a string literal's body, as jinja2 applies it.
std::string unescape(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out += body[i];
      continue;
    }
    const char e = body[++i];
    auto hex = [&](int digits) -> uint32_t {
      if (i + static_cast<size_t>(digits) >= body.size()) {
        fail("chat template line {}: truncated \\{} escape in a string", line, e);
      }
      const std::string h(body.substr(i + 1, static_cast<size_t>(digits)));
      for (const char c : h) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) fail("chat template line {}: bad \\{} escape in a string", line, e);
      }
      i += static_cast<size_t>(digits);
      return static_cast<uint32_t>(std::strtoul(h.c_str(), nullptr, 16));
    };
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': append_utf8(out, hex(2)); break;
      case 'u': append_utf8(out, hex(4)); break;
      case 'U': append_utf8(out, hex(8)); break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
            v = v * 8 + static_cast<uint32_t>(body[++i] - '0');
          }
          append_utf8(out, v);
        } else {
          out += '\\';  // Python keeps unknown escapes as they are
          out += e;
        }
    }
  }
  return out;
}

constexpr std::array<std::string_view, 6> kTwoCharOps = {"//", "**", "==", "!=", ">=", "<="};
constexpr std::string_view kOneCharOps = "+-/*%~[](){}><=.:|,;";

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(normalize(source)) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      size_t start = std::string::npos;
      for (const char* open : {"{{", "{%", "{#"}) start = std::min(start, src_.find(open, pos_));
      if (start == std::string::npos) {
        emit(TokenKind::Data, src_.substr(pos_));
        break;
      }
      const char kind = src_[start + 1];
      const char sign = start + 2 < src_.size() ? src_[start + 2] : '\0';
      const std::string original = src_.substr(pos_, start - pos_);
      std::string text = original;
      if (sign == '-') {
        text = py_strip(text, nullptr, false, true);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: a block or comment alone on its line takes the line's indent with it.
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting) {
          bool blank = l_pos < text.size();
          for (size_t i = l_pos; i < text.size(); ++i) blank = blank && is_space(text[i]);
          if (blank) text.resize(l_pos);
        }
      }
      if (!text.empty()) emit(TokenKind::Data, text);
      line_ += count_newlines(original);
      pos_ = start + 2 + (sign == '-' || sign == '+' ? 1 : 0);
      const size_t end = kind == '#' ? comment(start) : tag(kind);
      line_starting = end > 0 && src_[end - 1] == '\n';
      pos_ = end;
    }
    tokens_.push_back({TokenKind::End, "", line_});
    return std::move(tokens_);
  }

 private:
  void emit(TokenKind kind, std::string text) { tokens_.push_back({kind, std::move(text), line_}); }

  // Returns where the text after the comment starts.
  size_t comment(size_t start) {
    const size_t close = src_.find("#}", pos_);
    if (close == std::string::npos) fail("chat template line {}: a comment is never closed with '#}}'", line_);
    size_t end = close + 2;
    if (close > pos_ && src_[close - 1] == '-') {
      while (end < src_.size() && is_space(src_[end])) ++end;
    } else if (!(close > pos_ && src_[close - 1] == '+') && end < src_.size() && src_[end] == '\n') {
      ++end;  // trim_blocks
    }
    line_ += count_newlines(std::string_view(src_).substr(start, end - start));
    return end;
  }

  // Lexes the inside of {{ }} or {% %}; returns where the text after it starts.
  size_t tag(char kind) {
    const bool block = kind == '%';
    const int open_line = line_;
    emit(block ? TokenKind::BlockBegin : TokenKind::VariableBegin, "");
    std::vector<char> balance;
    const std::string close = block ? "%}" : "}}";
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) line_ += src_[pos_++] == '\n';
      if (pos_ >= src_.size()) {
        fail("chat template line {}: a '{}' tag is never closed with '{}'", open_line, block ? "{%" : "{{", close);
      }
      if (balance.empty()) {
        const std::string_view rest = std::string_view(src_).substr(pos_);
        size_t end = std::string::npos;
        if (rest.starts_with("-" + close)) {
          end = pos_ + 3;
          while (end < src_.size() && is_space(src_[end])) ++end;
        } else if (block && rest.starts_with("+" + close)) {
          end = pos_ + 3;
        } else if (rest.starts_with(close)) {
          end = pos_ + 2;
          if (block && end < src_.size() && src_[end] == '\n') ++end;  // trim_blocks
        }
        if (end != std::string::npos) {
          emit(block ? TokenKind::BlockEnd : TokenKind::VariableEnd, "");
          line_ += count_newlines(std::string_view(src_).substr(pos_, end - pos_));
          return end;
        }
      }
      const char c = src_[pos_];
      if (is_name_start(c)) {
        const size_t b = pos_;
        while (pos_ < src_.size() && is_name_char(src_[pos_])) ++pos_;
        emit(TokenKind::Name, src_.substr(b, pos_ - b));
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        number();
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        operator_token(balance);
      }
    }
  }

  void number() {
    const size_t b = pos_;
    auto digits = [&] {
      while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
    };
    digits();
    bool is_float = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      ++pos_;
      digits();
      is_float = true;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
        pos_ = p;
        digits();
        is_float = true;
      }
    }
    std::string text;
    for (size_t i = b; i < pos_; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    Token t{is_float ? TokenKind::Float : TokenKind::Integer, text, line_};
    if (is_float) {
      t.number = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      t.integer = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) fail("chat template line {}: the integer {} is too large", line_, text);
    }
    tokens_.push_back(std::move(t));
  }

  void string(char quote) {
    const int open_line = line_;
    size_t p = pos_ + 1;
    while (p < src_.size() && src_[p] != quote) p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size()) fail("chat template line {}: a string is never closed", open_line);
    const std::string_view body = std::string_view(src_).substr(pos_ + 1, p - pos_ - 1);
    tokens_.push_back({TokenKind::String, unescape(body, open_line), open_line});
    line_ += count_newlines(body);
    pos_ = p + 1;
  }

  void operator_token(std::vector<char>& balance) {
    const std::string_view rest = std::string_view(src_).substr(pos_);
    for (const auto op : kTwoCharOps) {
      if (rest.starts_with(op)) {
        emit(TokenKind::Operator, std::string(op));
        pos_ += 2;
        return;
      }
    }
    const char c = src_[pos_];
    if (kOneCharOps.find(c) == std::string_view::npos) {
      fail("chat template line {}: unexpected character '{}'", line_, c);
    }
    if (c == '(' || c == '[' || c == '{') {
      balance.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty() || balance.back() != c) fail("chat template line {}: unexpected '{}'", line_, c);
      balance.pop_back();
    }
    emit(TokenKind::Operator, std::string(1, c));
    ++pos_;
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace lp::jinja
