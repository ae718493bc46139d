#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace lp {
namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty() || s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos);
  s = std::move(out);
}

struct Word {
  std::string text;
  bool at_start;  // begins at the first byte of the input (Metaspace's "first" scheme needs it)
};

struct Piece {
  size_t begin, end;
  bool is_match;
};

// tokenizers' Split: the text as alternating matched and unmatched pieces, combined per
// behavior, as byte ranges of `t` (empty ones left out).
void split_ranges(std::string_view t, const PreTokenizerStep& step, std::vector<std::pair<size_t, size_t>>& kept,
                  std::vector<std::pair<size_t, size_t>>& matches, std::vector<Piece>& pieces) {
  step.regex->find_all(t, matches);
  pieces.clear();
  kept.clear();
  size_t pos = 0;
  for (const auto& [b, e] : matches) {
    if (b > pos) pieces.push_back({pos, b, step.invert});
    pieces.push_back({b, e, !step.invert});
    pos = e;
  }
  if (pos < t.size()) pieces.push_back({pos, t.size(), step.invert});

  bool previous_match = false;
  switch (step.behavior) {
    case SplitBehavior::Isolated:
      for (const auto& p : pieces) kept.emplace_back(p.begin, p.end);
      break;
    case SplitBehavior::Removed:
      for (const auto& p : pieces)
        if (!p.is_match) kept.emplace_back(p.begin, p.end);
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const auto& p : pieces) {
        if (p.is_match && !previous_match && !kept.empty()) kept.back().second = p.end;
        else kept.emplace_back(p.begin, p.end);
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::Contiguous:
      for (const auto& p : pieces) {
        if (p.is_match && previous_match) kept.back().second = p.end;
        else kept.emplace_back(p.begin, p.end);
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty()) kept.back().first = it->begin;
        else kept.emplace_back(it->begin, it->end);
        previous_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  std::erase_if(kept, [](const auto& r) { return r.second <= r.first; });
}

void split_word(const Word& word, const PreTokenizerStep& step, std::vector<Word>& out,
                std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<std::pair<size_t, size_t>> kept;
  std::vector<Piece> pieces;
  split_ranges(word.text, step, kept, matches, pieces);
  for (const auto& [b, e] : kept) out.push_back({word.text.substr(b, e - b), word.at_start && b == 0});
}

// A split after ByteLevel: tokenizers matches the pattern against the byte-alphabet spelling
// (so "м", bytes D0 BC, spelled "Ð¼", has a digit "¼" for Digits), and the pieces are bytes
// again, possibly parts of one character, which the byte-level model spells back.
void split_spelled_word(const Word& word, const PreTokenizerStep& step, std::vector<Word>& out,
                        std::vector<std::pair<size_t, size_t>>& matches) {
  Word spelled{{}, word.at_start};
  for (const char c : word.text) spelled.text += byte_level_char(static_cast<uint8_t>(c));
  const size_t first = out.size();
  split_word(spelled, step, out, matches);
  for (size_t i = first; i < out.size(); ++i) {
    std::string bytes;
    for (size_t at = 0; at < out[i].text.size(); at += utf8_char_length(static_cast<unsigned char>(out[i].text[at])))
      bytes.push_back(static_cast<char>(*byte_level_byte(decode_utf8_at(out[i].text, at))));
    out[i].text = std::move(bytes);
  }
}

void apply_metaspace(Word& word, const PreTokenizerStep& step, std::vector<Word>& out) {
  replace_all(word.text, " ", step.replacement);
  const bool prepend = step.prepend == PrependScheme::Always || (step.prepend == PrependScheme::First && word.at_start);
  if (prepend && !word.text.starts_with(step.replacement)) word.text = step.replacement + word.text;
  if (!step.split) {
    out.push_back(std::move(word));
    return;
  }
  // Split before each replacement character (MergedWithNext on the marker).
  size_t begin = 0;
  for (size_t hit = word.text.find(step.replacement, 1); hit != std::string::npos;
       hit = word.text.find(step.replacement, hit + step.replacement.size())) {
    out.push_back({word.text.substr(begin, hit - begin), word.at_start && begin == 0});
    begin = hit;
  }
  out.push_back({word.text.substr(begin), word.at_start && begin == 0});
}

// Strips up to `count` copies of `ch` from one end of a token (tokenizers' Strip decoder).
void strip_chars(std::string& token, std::string_view ch, size_t start, size_t stop) {
  size_t cut = 0;
  for (size_t n = 0; n < start && token.compare(cut, ch.size(), ch) == 0; ++n) cut += ch.size();
  token.erase(0, cut);
  for (size_t n = 0; n < stop && token.size() >= ch.size() && token.ends_with(ch); ++n)
    token.resize(token.size() - ch.size());
}

int byte_fallback_value(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  const int hi = hex(token[3]), lo = hex(token[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

void run_decoder(const DecoderStep& step, std::vector<std::string>& tokens) {
  switch (step.kind) {
    case DecoderStep::Kind::ByteLevel: {
      std::string bytes;
      for (const std::string& token : tokens) {
        const size_t mark = bytes.size();
        bool spelled = true;
        for (size_t i = 0; i < token.size() && spelled; i += utf8_char_length(static_cast<unsigned char>(token[i]))) {
          const auto b = byte_level_byte(decode_utf8_at(token, i));
          if (b) bytes.push_back(static_cast<char>(*b));
          else spelled = false;
        }
        if (!spelled) {  // not in the byte alphabet (an added token): its own UTF-8 bytes
          bytes.resize(mark);
          bytes += token;
        }
      }
      tokens.assign(1, sanitize_utf8(bytes));
      break;
    }
    case DecoderStep::Kind::Replace:
      for (std::string& token : tokens) replace_all(token, step.pattern, step.content);
      break;
    case DecoderStep::Kind::ByteFallback: {
      std::vector<std::string> out;
      std::string run;
      size_t run_tokens = 0;
      auto flush = [&] {
        if (run_tokens == 0) return;
        if (is_valid_utf8(run)) {
          out.push_back(run);
        } else {  // an invalid run becomes one U+FFFD per byte token
          for (size_t i = 0; i < run_tokens; ++i) out.emplace_back(kReplacementChar);
        }
        run.clear();
        run_tokens = 0;
      };
      for (std::string& token : tokens) {
        if (const int b = byte_fallback_value(token); b >= 0) {
          run.push_back(static_cast<char>(b));
          ++run_tokens;
        } else {
          flush();
          out.push_back(std::move(token));
        }
      }
      flush();
      tokens = std::move(out);
      break;
    }
    case DecoderStep::Kind::Fuse: {
      std::string all;
      for (const std::string& token : tokens) all += token;
      tokens.assign(1, std::move(all));
      break;
    }
    case DecoderStep::Kind::Strip:
      for (std::string& token : tokens) strip_chars(token, step.content, step.start, step.stop);
      break;
    case DecoderStep::Kind::Metaspace:
      // As tokenizers does: the markers of the first token vanish (when a prefix may have been
      // added), every other one becomes a space.
      for (size_t i = 0; i < tokens.size(); ++i)
        replace_all(tokens[i], step.pattern, i == 0 && step.prepend != PrependScheme::Never ? "" : " ");
      break;
  }
}

}  // namespace

Tokenizer::Tokenizer(std::string source, BpeModel model, std::vector<AddedToken> added, TokenizerPipeline pipeline)
    : source_(std::move(source)), model_(std::move(model)), added_(std::move(added)), pipeline_(std::move(pipeline)) {
  std::vector<AddedToken> raw, normalized;
  for (const AddedToken& t : added_) (t.normalized && !pipeline_.normalizer.empty() ? normalized : raw).push_back(t);
  raw_matcher_ = AddedTokenMatcher(raw);
  normalized_matcher_ = AddedTokenMatcher(normalized);
  for (size_t i = 0; i < added_.size(); ++i) {
    const auto id = static_cast<size_t>(added_[i].id);
    if (id >= added_text_index_.size()) added_text_index_.resize(id + 1, -1);
    added_text_index_[id] = static_cast<int32_t>(i);
  }
  bool byte_level = false;
  cuts_only_ = true;
  for (const auto& step : pipeline_.pre_tokenizer) {
    const bool cuts = (step.kind == PreTokenizerStep::Kind::Split && !byte_level) ||
                      (step.kind == PreTokenizerStep::Kind::ByteLevel && !step.add_prefix_space);
    cuts_only_ = cuts_only_ && cuts;
    byte_level = byte_level || step.kind == PreTokenizerStep::Kind::ByteLevel;
  }
  model_.set_byte_level(byte_level);
}

size_t Tokenizer::vocab_size() const {
  return std::max(model_.vocab().size(), added_text_index_.size());
}

std::optional<std::string_view> Tokenizer::token_text(int32_t id) const {
  if (id < 0) return std::nullopt;
  const auto i = static_cast<size_t>(id);
  if (i < added_text_index_.size() && added_text_index_[i] >= 0) return added_[added_text_index_[i]].content;
  if (i < model_.vocab().size()) return model_.vocab()[i];
  return std::nullopt;
}

bool Tokenizer::is_special(int32_t id) const {
  const auto i = static_cast<size_t>(id);
  return id >= 0 && i < added_text_index_.size() && added_text_index_[i] >= 0 && added_[added_text_index_[i]].special;
}

void Tokenizer::pre_tokenize(std::string& text, bool at_start, std::vector<std::string>& words) const {
  std::vector<Word> current{{std::move(text), at_start}}, next;
  std::vector<std::pair<size_t, size_t>> matches;
  bool spelled = false;  // a ByteLevel stage has run: later splits see the byte alphabet
  for (const PreTokenizerStep& step : pipeline_.pre_tokenizer) {
    next.clear();
    for (Word& word : current) {
      switch (step.kind) {
        case PreTokenizerStep::Kind::Split:
          if (spelled) split_spelled_word(word, step, next, matches);
          else split_word(word, step, next, matches);
          break;
        case PreTokenizerStep::Kind::ByteLevel:
          if (step.add_prefix_space && !word.text.starts_with(' ')) word.text = " " + word.text;
          if (step.regex) split_word(word, step, next, matches);
          else next.push_back(std::move(word));
          break;
        case PreTokenizerStep::Kind::Metaspace:
          apply_metaspace(word, step, next);
          break;
      }
    }
    spelled = spelled || step.kind == PreTokenizerStep::Kind::ByteLevel;
    current.swap(next);
  }
  for (Word& w : current)
    if (!w.text.empty()) words.push_back(std::move(w.text));
}

// The pre-tokenizer when every stage only cuts (Split before any ByteLevel, ByteLevel without a
// prefix space): the pieces stay byte ranges of the text, never copied -- the common case.
void Tokenizer::encode_cut(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<std::pair<size_t, size_t>> ranges{{0, text.size()}}, next, kept, matches;
  std::vector<Piece> pieces;
  for (const PreTokenizerStep& step : pipeline_.pre_tokenizer) {
    if (!step.regex) continue;  // ByteLevel without its split cuts nothing
    next.clear();
    for (const auto& [b, e] : ranges) {
      split_ranges(text.substr(b, e - b), step, kept, matches, pieces);
      for (const auto& [kb, ke] : kept) next.emplace_back(b + kb, b + ke);
    }
    ranges.swap(next);
  }
  for (const auto& [b, e] : ranges) model_.encode_word(text.substr(b, e - b), out);
}

void Tokenizer::encode_plain(std::string_view text, bool at_start, std::vector<int32_t>& out) const {
  std::string normalized(text);
  for (const NormalizerStep& step : pipeline_.normalizer) {
    if (step.kind == NormalizerStep::Kind::Replace) replace_all(normalized, step.pattern, step.content);
    else if (step.kind == NormalizerStep::Kind::Unicode) normalized = normalize_unicode(normalized, step.form);
    else if (!normalized.empty()) normalized = step.content + normalized;
  }
  std::vector<TextSegment> segments;
  if (normalized_matcher_.empty()) segments.push_back({0, normalized.size(), -1});
  else normalized_matcher_.split(normalized, segments);
  std::vector<std::string> words;
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    if (cuts_only_) {
      encode_cut(std::string_view(normalized).substr(seg.begin, seg.end - seg.begin), out);
      continue;
    }
    std::string piece = normalized.substr(seg.begin, seg.end - seg.begin);
    words.clear();
    pre_tokenize(piece, at_start && seg.begin == 0, words);
    for (const std::string& w : words) model_.encode_word(w, out);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, bool add_special) const {
  if (input.size() > kMaxEncodeBytes) {
    fail("a text of {} bytes is too long to tokenize: the tokenizer takes at most {} MiB at a time", input.size(),
         kMaxEncodeBytes >> 20);
  }
  std::string sanitized;
  std::string_view text = input;
  if (!is_valid_utf8(input)) {
    sanitized = sanitize_utf8(input);
    text = sanitized;
  }
  std::vector<int32_t> ids;
  if (add_special) ids = pipeline_.prefix_ids;
  std::vector<TextSegment> segments;
  raw_matcher_.split(text, segments);
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) ids.push_back(seg.id);
    else encode_plain(text.substr(seg.begin, seg.end - seg.begin), seg.begin == 0, ids);
  }
  if (add_special) ids.insert(ids.end(), pipeline_.suffix_ids.begin(), pipeline_.suffix_ids.end());
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    const auto text = token_text(id);
    if (!text || (skip_special && is_special(id))) continue;
    tokens.emplace_back(*text);
  }
  std::string out;
  if (!pipeline_.decoder) {
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  for (const DecoderStep& step : *pipeline_.decoder) run_decoder(step, tokens);
  for (const std::string& t : tokens) out += t;
  return out;
}

std::string StreamDecoder::step(int32_t id) {
  // tokenizers' step_decode_stream: decode from a prefix that is known to be whole, and give
  // out only what grew past it, never text ending in U+FFFD.
  if (prefix_.empty() && !ids_.empty()) {
    std::string whole = tokenizer_->decode(ids_, skip_special_);
    if (!whole.ends_with(kReplacementChar)) {
      prefix_ = std::move(whole);
      prefix_index_ = ids_.size();
    }
  }
  ids_.push_back(id);
  const std::string text = tokenizer_->decode(ids_, skip_special_);
  // tokenizers raises InvalidPrefix when the text no longer starts with the prefix (a decoder
  // that rewrites earlier text); holding the text back is the safe equivalent for streaming.
  if (text.size() <= prefix_.size() || text.ends_with(kReplacementChar) || !text.starts_with(prefix_)) return {};
  std::string fresh = text.substr(prefix_.size());
  const size_t new_prefix_index = ids_.size() - prefix_index_;
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<ptrdiff_t>(prefix_index_));
  prefix_ = tokenizer_->decode(ids_, skip_special_);
  prefix_index_ = new_prefix_index;
  return fresh;
}

std::string StreamDecoder::finish() {
  const std::string text = tokenizer_->decode(ids_, skip_special_);
  std::string rest = text.starts_with(prefix_) ? text.substr(prefix_.size()) : std::string();
  ids_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  return rest;
}

}  // namespace lp
