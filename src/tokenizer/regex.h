#pragma once
// A compiled PCRE2 pattern (8-bit, UTF + UCP, JIT when available) for the pre-tokenizer
// splits. Hugging Face runs these patterns through Oniguruma, whose whitespace differs from
// PCRE2's (U+0085 in, U+180E out) and whose Unicode tables are newer than PCRE2 10.42's, so
// patterns are rewritten to Oniguruma's sets first. One match buffer is kept per object: a
// Regex is not for concurrent use.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lp {

class Regex {
 public:
  // `source` names where the pattern came from, for the error when it does not compile.
  Regex(std::string_view pattern, const std::string& source);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Byte ranges [begin, end) of the successive non-overlapping matches in valid UTF-8 text.
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& matches) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

// Rewrites `\s`, `\S` and `\p{L}`-style classes to the sets Oniguruma uses.
std::string to_oniguruma_classes(std::string_view pattern);

// Generated (oniguruma_classes.cpp): Oniguruma's whitespace as class content, and the code
// points its Unicode classes hold beyond Unicode 14.
extern const char* const kOnigurumaSpace;
const std::vector<std::pair<std::string_view, std::string_view>>& oniguruma_class_additions();

}  // namespace lp
