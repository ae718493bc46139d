#include "validate/answer_extraction.h"

#include <cctype>

namespace lp::validate {
namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The option index of letter c (either case when `any_case`), if it names one.
std::optional<size_t> option_of(char c, size_t n_options, bool any_case) {
  const char u = any_case ? upper(c) : c;
  if (u < 'A' || u > 'Z') return std::nullopt;
  const auto i = static_cast<size_t>(u - 'A');
  if (i >= n_options) return std::nullopt;
  return i;
}

// Is text[i] a letter with no letter or digit right before or after it?
bool standalone_at(std::string_view text, size_t i) {
  return (i == 0 || !is_alnum(text[i - 1])) && (i + 1 >= text.size() || !is_alnum(text[i + 1]));
}

bool starts_with_ci(std::string_view text, size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (upper(text[at + k]) != upper(word[k])) return false;
  }
  return true;
}

size_t skip_spaces(std::string_view text, size_t i) {
  while (i < text.size() && is_space(text[i])) ++i;
  return i;
}

// Rule 1: "B", "b", "B)", "(B)", "B.", "B:".
std::optional<size_t> whole_letter(std::string_view t, size_t n_options) {
  if (t.size() >= 2 && t.front() == '(' && t.back() == ')') t = t.substr(1, t.size() - 2);
  if (t.size() == 2 && (t[1] == ')' || t[1] == '.' || t[1] == ':')) t.remove_suffix(1);
  if (t.size() != 1) return std::nullopt;
  return option_of(t[0], n_options, true);
}

// Rule 2: "answer[ is][:] [(|**]X" with X standing alone.
std::optional<size_t> answer_phrase(std::string_view t, size_t n_options) {
  for (size_t at = 0; at < t.size(); ++at) {
    if (!starts_with_ci(t, at, "answer") || (at > 0 && is_alnum(t[at - 1]))) continue;
    size_t i = skip_spaces(t, at + 6);
    if (starts_with_ci(t, i, "is") && (i + 2 >= t.size() || !is_alnum(t[i + 2]))) i = skip_spaces(t, i + 2);
    if (i < t.size() && t[i] == ':') i = skip_spaces(t, i + 1);
    if (i < t.size() && t[i] == '(') ++i;
    else if (starts_with_ci(t, i, "**")) i += 2;
    if (i < t.size() && standalone_at(t, i)) {
      if (auto o = option_of(t[i], n_options, false)) return o;
    }
  }
  return std::nullopt;
}

// Rule 3: "B) ...", "(B) ...", "B. ...", "B: ...".
std::optional<size_t> leading_letter(std::string_view t, size_t n_options) {
  if (!t.empty() && t.front() == '(') t.remove_prefix(1);
  if (t.size() < 2 || (t[1] != ')' && t[1] != '.' && t[1] != ':')) return std::nullopt;
  return option_of(t[0], n_options, false);
}

// Rule 4: the first capital option letter standing alone.
std::optional<size_t> first_standalone(std::string_view t, size_t n_options) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (!standalone_at(t, i)) continue;
    if (auto o = option_of(t[i], n_options, false)) return o;
  }
  return std::nullopt;
}

}  // namespace

ExtractedAnswer extract_answer_letter(std::string_view text, size_t n_options) {
  const std::string_view t = trim(text);
  if (auto o = whole_letter(t, n_options)) return {o, "letter"};
  if (auto o = answer_phrase(t, n_options)) return {o, "answer_phrase"};
  if (auto o = leading_letter(t, n_options)) return {o, "leading_letter"};
  if (auto o = first_standalone(t, n_options)) return {o, "first_standalone"};
  return {};
}

bool raw_exact_match(std::string_view text, size_t answer) {
  const std::string_view t = trim(text);
  return answer < 26 && t.size() == 1 && upper(t[0]) == static_cast<char>('A' + answer);
}

}  // namespace lp::validate
