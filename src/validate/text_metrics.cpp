#include "validate/text_metrics.h"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "tokenizer/utf8.h"

namespace lp::validate {
namespace {

// --- Python str semantics on code points --------------------------------------------------

std::u32string decode(std::string_view text) {
  const std::string valid = sanitize_utf8(text);
  std::u32string out;
  out.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); i += utf8_char_length(static_cast<unsigned char>(valid[i]))) {
    out.push_back(decode_utf8_at(valid, i));
  }
  return out;
}

std::string encode(std::u32string_view text) {
  std::string out;
  for (const char32_t c : text) append_utf8(out, c);
  return out;
}

// Python's str.isspace(), the set str.split() and str.strip() use.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// str.split() with no argument: runs of whitespace separate, no empty words.
std::vector<std::u32string> python_split(std::u32string_view text) {
  std::vector<std::u32string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_python_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_python_space(text[i])) ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

std::u32string_view python_rstrip(std::u32string_view text) {
  while (!text.empty() && is_python_space(text.back())) text.remove_suffix(1);
  return text;
}

std::u32string_view python_strip(std::u32string_view text) {
  while (!text.empty() && is_python_space(text.front())) text.remove_prefix(1);
  return python_rstrip(text);
}

// str.lower(): full case mapping with the Final_Sigma context, which ICU's root locale applies
// exactly as Python does (no Turkish or Lithuanian rules).
std::string python_lower(std::string_view valid_utf8) {
  icu::UnicodeString s =
      icu::UnicodeString::fromUTF8(icu::StringPiece(valid_utf8.data(), static_cast<int32_t>(valid_utf8.size())));
  s.toLower(icu::Locale::getRoot());
  std::string out;
  s.toUTF8String(out);
  return out;
}

// str.replace(from, to): one left-to-right pass over non-overlapping occurrences.
std::u32string replace_all(std::u32string_view text, std::u32string_view from, std::u32string_view to) {
  std::u32string out;
  size_t i = 0;
  for (size_t hit = text.find(from); hit != std::u32string_view::npos; hit = text.find(from, i)) {
    out.append(text.substr(i, hit - i)).append(to);
    i = hit + from.size();
  }
  out.append(text.substr(i));
  return out;
}

bool is_ascii_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

// --- ROUGE-L -------------------------------------------------------------------------------

// rouge-score's tokenizer: lowercase, [^a-z0-9]+ -> " ", split. The lowercased text is UTF-8,
// whose multi-byte sequences never contain ASCII bytes, so scanning bytes finds the same runs.
std::vector<std::string> rouge_tokens(std::string_view text) {
  const std::string lower = python_lower(sanitize_utf8(text));
  std::vector<std::string> tokens;
  std::string current;
  for (const char c : lower) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      current.push_back(c);
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> previous(b.size() + 1, 0), row(b.size() + 1, 0);
  for (const auto& x : a) {
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = x == b[j - 1] ? previous[j - 1] + 1 : std::max(previous[j], row[j - 1]);
    }
    std::swap(previous, row);
  }
  return previous[b.size()];
}

// --- BLEU ----------------------------------------------------------------------------------

// sacrebleu's TokenizerRegexp rule 1: these ASCII symbols become " c " (the class
// [\{-\~\[-\` -\&\(-\+\:-\@\/]; note that ' , - . are not in it).
bool is_13a_symbol(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == U'/';
}

bool is_period_or_comma(char32_t c) { return c == U'.' || c == U','; }

// One re.sub pass of a two-character pattern (first, second) -> replacement, scanning left to
// right and resuming after each match, as Python's re.sub does.
template <class First, class Second>
std::u32string substitute_pairs(std::u32string_view s, First first, Second second, std::u32string_view before,
                                std::u32string_view between, std::u32string_view after) {
  std::u32string out;
  out.reserve(s.size() + s.size() / 2);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      out.append(before).push_back(s[i]);
      out.append(between).push_back(s[i + 1]);
      out.append(after);
      i += 2;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

// sacrebleu's BLEU._preprocess_segment with Tokenizer13a (mteval-v13a), step by step.
std::vector<std::u32string> tokenize_13a(std::string_view text) {
  const std::u32string decoded = decode(text);
  std::u32string line(python_rstrip(decoded));
  line = replace_all(line, U"<skipped>", U"");
  line = replace_all(line, U"-\n", U"");
  line = replace_all(line, U"\n", U" ");
  if (line.find(U'&') != std::u32string::npos) {
    line = replace_all(line, U"&quot;", U"\"");
    line = replace_all(line, U"&amp;", U"&");
    line = replace_all(line, U"&lt;", U"<");
    line = replace_all(line, U"&gt;", U">");
  }
  std::u32string spaced = U" ";
  for (const char32_t c : line) {
    if (is_13a_symbol(c)) {
      spaced.push_back(U' ');
      spaced.push_back(c);
      spaced.push_back(U' ');
    } else {
      spaced.push_back(c);
    }
  }
  spaced.push_back(U' ');
  const auto not_digit = [](char32_t c) { return !is_ascii_digit(c); };
  // Period and comma are split off unless between digits (3.14 and 1,000 stay whole).
  spaced = substitute_pairs(spaced, not_digit, is_period_or_comma, U"", U" ", U" ");
  spaced = substitute_pairs(spaced, is_period_or_comma, not_digit, U" ", U" ", U"");
  // A dash after a digit is split off (2-3 -> "2 - 3" once the symbol rule has run).
  spaced = substitute_pairs(spaced, is_ascii_digit, [](char32_t c) { return c == U'-'; }, U"", U" ", U" ");
  return python_split(spaced);
}

// Counts of every n-gram of one order, keyed by its words joined with a space (tokens never
// contain whitespace, so the key is unambiguous).
std::map<std::u32string, size_t> ngram_counts(const std::vector<std::u32string>& tokens, size_t n) {
  std::map<std::u32string, size_t> counts;
  for (size_t i = 0; i + n <= tokens.size(); ++i) {
    std::u32string key = tokens[i];
    for (size_t k = 1; k < n; ++k) key.append(U" ").append(tokens[i + k]);
    ++counts[key];
  }
  return counts;
}

}  // namespace

double rouge_l_f1(std::string_view candidate, std::string_view reference) {
  const auto c = rouge_tokens(candidate);
  const auto r = rouge_tokens(reference);
  if (c.empty() || r.empty()) return 0.0;
  const auto lcs = static_cast<double>(lcs_length(r, c));
  // Same operations in the same order as rouge_score.scoring.fmeasure.
  const double precision = lcs / static_cast<double>(c.size());
  const double recall = lcs / static_cast<double>(r.size());
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

double sentence_bleu(std::string_view candidate, std::string_view reference) {
  constexpr size_t kMaxOrder = 4;
  const auto hyp = tokenize_13a(candidate);
  const auto ref = tokenize_13a(reference);
  std::array<size_t, kMaxOrder> correct{}, total{};
  for (size_t n = 1; n <= kMaxOrder; ++n) {
    const auto ref_counts = ngram_counts(ref, n);
    for (const auto& [ngram, count] : ngram_counts(hyp, n)) {
      total[n - 1] += count;
      const auto found = ref_counts.find(ngram);
      if (found != ref_counts.end()) correct[n - 1] += std::min(count, found->second);
    }
  }
  const auto sys_len = static_cast<double>(hyp.size());
  const auto ref_len = static_cast<double>(ref.size());
  double brevity = 1.0;
  if (sys_len < ref_len) brevity = sys_len > 0 ? std::exp(1 - ref_len / sys_len) : 0.0;
  if (std::all_of(correct.begin(), correct.end(), [](size_t c) { return c == 0; })) return 0.0;

  // sacrebleu's compute_bleu, in percent and in its order of operations.
  std::array<double, kMaxOrder> precisions{};
  double smooth = 1.0;
  size_t order = 0;
  for (size_t n = 1; n <= kMaxOrder; ++n) {
    if (total[n - 1] == 0) break;
    order = n;
    if (correct[n - 1] == 0) {
      smooth *= 2;
      precisions[n - 1] = 100. / (smooth * static_cast<double>(total[n - 1]));
    } else {
      precisions[n - 1] = 100. * static_cast<double>(correct[n - 1]) / static_cast<double>(total[n - 1]);
    }
  }
  double log_sum = 0.0;  // every precision counted is > 0, so no log(0) floor is needed
  for (size_t n = 0; n < order; ++n) log_sum += std::log(precisions[n]);
  return brevity * std::exp(log_sum / static_cast<double>(order)) / 100;
}

double exact_match(std::string_view candidate, std::string_view reference) {
  const auto normalized = [](std::string_view text) { return python_lower(encode(python_strip(decode(text)))); };
  return normalized(candidate) == normalized(reference) ? 1.0 : 0.0;
}

double length_ratio(std::string_view candidate, std::string_view reference) {
  const size_t c = decode(candidate).size();
  const size_t r = decode(reference).size();
  if (c == 0 && r == 0) return 1.0;
  return static_cast<double>(std::min(c, r)) / static_cast<double>(std::max(c, r));
}

double distinct_4gram_ratio(std::string_view text) {
  const auto words = python_split(decode(python_lower(sanitize_utf8(text))));
  if (words.size() < 4) return 1.0;
  const auto counts = ngram_counts(words, 4);
  return static_cast<double>(counts.size()) / static_cast<double>(words.size() - 3);
}

}  // namespace lp::validate
