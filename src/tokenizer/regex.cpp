#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace lp {

struct Regex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_data* match = nullptr;
  bool jit = false;
  ~Impl() {
    if (match) pcre2_match_data_free(match);
    if (code) pcre2_code_free(code);
  }
};

std::string to_oniguruma_classes(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char n = pattern[i + 1];
      if (n == 's') {
        out += in_class ? std::string(kOnigurumaSpace) : "[" + std::string(kOnigurumaSpace) + "]";
        ++i;
        continue;
      }
      if (n == 'S' && !in_class) {
        out += "[^" + std::string(kOnigurumaSpace) + "]";
        ++i;
        continue;
      }
      if (n == 'p' && i + 2 < pattern.size() && pattern[i + 2] == '{') {
        const size_t close = pattern.find('}', i + 3);
        if (close != std::string_view::npos) {
          const std::string_view name = pattern.substr(i + 3, close - i - 3);
          const std::string_view whole = pattern.substr(i, close + 1 - i);
          std::string_view extra;
          for (const auto& [cls, points] : oniguruma_class_additions())
            if (cls == name) extra = points;
          if (!in_class && !extra.empty()) out += '[';
          out += whole;
          out += extra;
          if (!in_class && !extra.empty()) out += ']';
          i = close;
          continue;
        }
      }
      out += c;
      out += n;
      ++i;
      continue;
    }
    if (c == '[' && !in_class) in_class = true;
    else if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

Regex::Regex(std::string_view pattern, const std::string& source) : impl_(std::make_unique<Impl>()), pattern_(pattern) {
  const std::string widened = to_oniguruma_classes(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(widened.data()), widened.size(), PCRE2_UTF | PCRE2_UCP,
                              &error, &offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    fail("{} has a pre-tokenizer pattern that does not compile at offset {}: {}", source, offset,
         reinterpret_cast<const char*>(message));
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
  impl_->match = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const {
  matches.clear();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    // The text was made valid UTF-8 before it got here, so PCRE2 need not check it again.
    const int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                                impl_->match, nullptr)
                              : pcre2_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                            impl_->match, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(impl_->match);
    if (ov[1] == ov[0]) {  // an empty match splits nothing; step over one character
      if (ov[0] >= text.size()) break;
      start = ov[0] + utf8_char_length(static_cast<unsigned char>(text[ov[0]]));
      continue;
    }
    matches.emplace_back(ov[0], ov[1]);
    start = ov[1];
  }
}

}  // namespace lp
