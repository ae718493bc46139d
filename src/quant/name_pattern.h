#pragma once
// A regular expression on tensor names, from a recipe's "regex:PATTERN" rule or quantize's
// --tensor-type PATTERN=TYPE: true when it matches anywhere in the name, as llama-quantize's
// --tensor-type does. Patterns come from files users download, so they go through PCRE2 with
// bounded work rather than std::regex (whose libstdc++ compiler overflows on a large {n}
// count and whose backtracking matcher recurses without limit): a pattern is at most
// kMaxNamePatternBytes, and a match that needs more than a million steps is an InputError.
// Syntax: Perl/PCRE2, which agrees with std::regex's ECMAScript on the patterns recipes use
// (classes, groups, alternation, anchors, repetition).
#include <memory>
#include <string>
#include <string_view>

namespace lp {

inline constexpr size_t kMaxNamePatternBytes = 4096;

class NamePattern {
 public:
  // `source` names where the pattern came from ("recipes.json", "--tensor-type"), for errors.
  NamePattern(std::string_view pattern, const std::string& source);

  bool matches(std::string_view name) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;  // shared by copies: a compiled pattern is immutable
  std::string pattern_;
  std::string source_;
};

}  // namespace lp
