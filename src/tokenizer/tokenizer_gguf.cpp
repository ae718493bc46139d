// A tokenizer from GGUF metadata, rebuilt as transformers' GGUF converter rebuilds it
// (integrations/gguf/gguf_tokenizer_mapping.py), so that it equals the tokenizer.json that
// transformers writes for the same file -- except the pre-tokenizer, which is the stage list
// of the family the file's tokenizer.ggml.pre names, and that family's ignore_merges
// (pre_tokenizer_stages.cpp), where the converter does not follow the family's tokenizer.json.
#include <algorithm>
#include <tuple>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_load.h"
#include "tokenizer/utf8.h"

namespace lp {
namespace {

constexpr int64_t kTypeControl = 3;      // llama_token_type
constexpr int64_t kTypeUserDefined = 4;
constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // ▁

struct GgufTokenizerData {
  std::string model, pre, architecture;
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  std::vector<double> scores;
  std::vector<std::string> merges;
  bool has_merges = false;
};

const GgufArray* array_of(const GgufModel& m, const char* key, const std::string& source, bool required) {
  const GgufValue* v = m.find(key);
  if (v == nullptr) {
    if (required) fail("{} has no {} array, so it carries no tokenizer", source, key);
    return nullptr;
  }
  const GgufArray* a = v->as_array();
  if (a == nullptr) fail("{} has {} that is not an array", source, key);
  return a;
}

std::vector<std::string> strings_of(const GgufArray& a, const char* key, const std::string& source) {
  std::vector<std::string> out;
  out.reserve(a.items.size());
  for (const GgufValue& v : a.items) {
    const std::string* s = v.as_string();
    if (s == nullptr) fail("{} has a non-string entry in {}", source, key);
    out.push_back(*s);
  }
  return out;
}

GgufTokenizerData read_data(const GgufModel& m, const std::string& source) {
  GgufTokenizerData d;
  auto text = [&](const char* key) {
    const GgufValue* v = m.find(key);
    return v && v->as_string() ? *v->as_string() : std::string();
  };
  d.model = text("tokenizer.ggml.model");
  d.pre = text("tokenizer.ggml.pre");
  d.architecture = text("general.architecture");
  d.tokens = strings_of(*array_of(m, "tokenizer.ggml.tokens", source, true), "tokenizer.ggml.tokens", source);
  if (const GgufArray* a = array_of(m, "tokenizer.ggml.token_type", source, false)) {
    for (const GgufValue& v : a->items) d.types.push_back(v.as_int().value_or(1));
    if (d.types.size() != d.tokens.size()) fail("{} has {} token types for {} tokens", source, d.types.size(), d.tokens.size());
  }
  if (const GgufArray* a = array_of(m, "tokenizer.ggml.scores", source, false)) {
    for (const GgufValue& v : a->items) d.scores.push_back(v.as_double().value_or(0.0));
    if (d.scores.size() != d.tokens.size()) fail("{} has {} token scores for {} tokens", source, d.scores.size(), d.tokens.size());
  }
  if (const GgufArray* a = array_of(m, "tokenizer.ggml.merges", source, false)) {
    d.merges = strings_of(*a, "tokenizer.ggml.merges", source);
    d.has_merges = true;
  }
  return d;
}

// Merges listed in the file as "left right", ranked by their order.
void add_listed_merges(BpeModel& model, const std::vector<std::string>& merges, const std::string& source) {
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t space = m.find(' ');
    if (space == std::string::npos) fail("{} has merge {} \"{}\" without a space between its two tokens", source, rank, m);
    const int32_t left = model.find(std::string_view(m).substr(0, space));
    const int32_t right = model.find(std::string_view(m).substr(space + 1));
    const int32_t merged = model.find(m.substr(0, space) + m.substr(space + 1));
    if (left < 0 || right < 0 || merged < 0) fail("{} has merge {} \"{}\" of tokens missing from its vocabulary", source, rank, m);
    model.add_merge(left, right, static_cast<int32_t>(rank), merged);
  }
}

// A SentencePiece vocabulary has no merges: every split of a token into two tokens is one,
// ranked by the token's score (best first), then longer left halves first, then vocabulary
// order -- transformers' generate_merges, whose stable sort this reproduces.
void add_generated_merges(BpeModel& model, const std::vector<double>& score_of) {
  struct Candidate {
    double score;
    size_t len_left, len_right;
    int32_t token, left, right;
  };
  std::vector<Candidate> all;
  const auto& vocab = model.vocab();
  for (size_t t = 0; t < vocab.size(); ++t) {
    const std::string& token = vocab[t];
    if (model.find(token) != static_cast<int32_t>(t)) continue;  // a duplicate spelling: the last one counts
    size_t len_left = 0;
    for (size_t i = 0; i < token.size();) {
      i += utf8_char_length(static_cast<unsigned char>(token[i]));
      ++len_left;
      if (i >= token.size()) break;
      const int32_t left = model.find(std::string_view(token).substr(0, i));
      if (left < 0) continue;
      const int32_t right = model.find(std::string_view(token).substr(i));
      if (right < 0) continue;
      all.push_back({score_of[t], len_left, utf8_length(std::string_view(token).substr(i)), static_cast<int32_t>(t), left, right});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(b.score, b.len_left, b.len_right) < std::tie(a.score, a.len_left, a.len_right) ||
           (std::tie(a.score, a.len_left, a.len_right) == std::tie(b.score, b.len_left, b.len_right) &&
            std::tie(a.token, a.left, a.right) < std::tie(b.token, b.left, b.right));
  });
  for (size_t rank = 0; rank < all.size(); ++rank)
    model.add_merge(all[rank].left, all[rank].right, static_cast<int32_t>(rank), all[rank].token);
}

bool is_python_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::optional<int32_t> special_id(const GgufModel& m, const char* key, size_t vocab) {
  const GgufValue* v = m.find(key);
  if (!v || !v->as_uint() || *v->as_uint() >= vocab) return std::nullopt;
  return static_cast<int32_t>(*v->as_uint());
}

}  // namespace

Tokenizer load_tokenizer_from_gguf(const GgufModel& m, const std::string& source) {
  GgufTokenizerData d = read_data(m, source);
  const std::vector<std::string> original = d.tokens;
  const bool byte_level = d.model == "gpt2";
  const bool gemma = d.architecture == "gemma" || d.architecture == "gemma2" || d.architecture == "gemma3";
  if (!byte_level && d.model != "llama")
    fail("{} uses tokenizer model \"{}\", which is not supported (gpt2 and llama are)", source, d.model);

  if (byte_level) {
    // Tokens must be spelled in GPT-2's byte alphabet; respell any that are not, except
    // user-defined ones: those are text matched before splitting (GPT-NeoX's and MPT's runs of
    // spaces, "  " rather than "ĠĠ"), as their tokenizer.json and llama.cpp have them, and
    // respelled they would take over the id of the real "ĠĠ".
    for (size_t i = 0; i < d.tokens.size(); ++i) {
      std::string& t = d.tokens[i];
      if (is_byte_level_spelling(t) || (i < d.types.size() && d.types[i] == kTypeUserDefined)) continue;
      std::string spelled;
      for (const char c : t) spelled += byte_level_char(static_cast<uint8_t>(c));
      t = std::move(spelled);
    }
  } else if (gemma) {
    // Gemma stores runs of spaces as real spaces; the model looks them up as ▁ runs. The
    // converter's test is Python's: some space, and nothing but whitespace.
    for (std::string& t : d.tokens) {
      if (t.find(' ') == std::string::npos || !is_valid_utf8(t)) continue;
      bool blank = true;
      for (size_t i = 0; i < t.size() && blank; i += utf8_char_length(static_cast<unsigned char>(t[i])))
        blank = is_python_space(decode_utf8_at(t, i));
      if (!blank) continue;
      std::string marker;
      for (size_t i = 0, n = utf8_length(t); i < n; ++i) marker += kSpaceMarker;
      t = std::move(marker);
    }
  }
  const std::vector<std::string> spelled = d.tokens;
  BpeModel model(d.tokens);
  if (d.has_merges) {
    add_listed_merges(model, d.merges, source);
  } else if (byte_level) {
    fail("{} has a byte-level (gpt2) tokenizer without tokenizer.ggml.merges", source);
  } else {
    std::vector<double> scores(spelled.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      // Gemma's scores do not follow its merge order; its vocabulary order does.
      if (gemma) scores[i] = -static_cast<double>(i);
      else if (d.scores.empty()) fail("{} has a SentencePiece tokenizer without tokenizer.ggml.scores", source);
      else scores[i] = d.scores[i];
    }
    add_generated_merges(model, scores);
  }

  TokenizerPipeline p;
  const auto marker = std::string(kSpaceMarker);
  if (byte_level) {
    if (const GgufPreTokenizer* family = gguf_pre_tokenizer(d.pre)) {
      p.pre_tokenizer = pre_tokenizer_steps(family->stages, source);
      model.set_ignore_merges(family->ignore_merges);
    } else {
      p.pre_tokenizer.push_back(byte_level_step(false, true, source));
    }
    p.decoder = std::vector<DecoderStep>{{.kind = DecoderStep::Kind::ByteLevel}};
  } else {
    model.set_byte_fallback(true);
    const std::vector<DecoderStep> spm_decoder = {
        {.kind = DecoderStep::Kind::Replace, .pattern = marker, .content = " "},
        {.kind = DecoderStep::Kind::ByteFallback},
        {.kind = DecoderStep::Kind::Fuse},
    };
    p.decoder = spm_decoder;
    if (gemma) {
      const int32_t unk = model.find("<unk>");
      model.set_unknown(unk, true);
      p.normalizer.push_back({.kind = NormalizerStep::Kind::Replace, .pattern = " ", .content = marker});
      PreTokenizerStep split{.kind = PreTokenizerStep::Kind::Split, .behavior = SplitBehavior::MergedWithPrevious};
      split.regex = std::make_shared<const Regex>(" ", source);
      p.pre_tokenizer.push_back(split);
    } else {
      // LlamaTokenizer as Llama 2's and Phi-3's tokenizer.json have it: a "▁" before the text
      // even when it starts with a space (" Hello" is "▁▁Hello"), as llama.cpp does unless
      // tokenizer.ggml.add_space_prefix is false. The converter's Metaspace (prefix only where
      // no "▁" starts the text) would fold that leading space into the prefix.
      p.decoder->push_back({.kind = DecoderStep::Kind::Strip, .content = " ", .start = 1});
      const GgufValue* prefix = m.find("tokenizer.ggml.add_space_prefix");
      if (!prefix || !prefix->as_bool() || *prefix->as_bool())
        p.normalizer.push_back({.kind = NormalizerStep::Kind::Prepend, .content = marker});
      p.normalizer.push_back({.kind = NormalizerStep::Kind::Replace, .pattern = " ", .content = marker});
    }
  }

  // The tokenizer class the converter builds registers its default special tokens first
  // (GPT2Tokenizer, LlamaTokenizer, GemmaTokenizer, in SPECIAL_TOKENS_ATTRIBUTES order); one
  // the vocabulary lacks gets the next free id, as transformers' add_special_tokens gives it.
  std::vector<AddedToken> added;
  std::vector<std::string_view> defaults;
  if (byte_level) defaults = {"<|endoftext|>"};
  else if (gemma) defaults = {"<bos>", "<eos>", "<unk>", "<pad>", "<mask>"};
  else defaults = {"<s>", "</s>", "<unk>"};
  auto next_id = static_cast<int32_t>(model.vocab().size());
  for (const std::string_view text : defaults) {
    const int32_t in_vocab = model.find(text);
    added.push_back({.content = std::string(text), .id = in_vocab >= 0 ? in_vocab : next_id++, .special = true});
  }
  for (size_t i = 0; i < d.types.size(); ++i) {
    const int64_t type = d.types[i];
    const auto id = static_cast<int32_t>(i);
    // The converter adds the tokens as the file spells them; a respelled one is no longer in
    // the vocabulary under that spelling and is left out.
    const std::string& text = original[i];
    const int32_t in_vocab = model.find(text);
    if (type == kTypeControl && (!byte_level || is_byte_level_spelling(text))) {
      added.push_back({.content = text, .id = in_vocab >= 0 ? in_vocab : id, .special = true});
    } else if (type == kTypeUserDefined && in_vocab >= 0) {
      added.push_back({.content = text, .id = in_vocab, .special = false});
    }
  }

  auto flag = [&](const char* key, bool fallback) {
    const GgufValue* v = m.find(key);
    return v && v->as_bool() ? *v->as_bool() : fallback;
  };
  const size_t n = spelled.size();
  if (const auto bos = special_id(m, "tokenizer.ggml.bos_token_id", n); bos && flag("tokenizer.ggml.add_bos_token", !byte_level))
    p.prefix_ids.push_back(*bos);
  if (const auto eos = special_id(m, "tokenizer.ggml.eos_token_id", n); eos && flag("tokenizer.ggml.add_eos_token", false))
    p.suffix_ids.push_back(*eos);
  return Tokenizer(source, std::move(model), std::move(added), std::move(p));
}

}  // namespace lp
