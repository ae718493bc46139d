#pragma once
// A tokenizer that gives the same ids as Hugging Face `tokenizers`: added tokens are cut out
// first, each remaining stretch of text is normalized, pre-tokenized into words and run
// through the BPE model, and the post-processor adds BOS/EOS. Decoding runs the decoder
// chain. The pipeline steps are the ones the supported families use (byte-level BPE with a
// split regex; SentencePiece-style BPE with a `▁` space marker and byte fallback).
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode_normalize.h"

namespace lp {

struct NormalizerStep {
  enum class Kind { Replace, Prepend, Unicode } kind = Kind::Replace;
  std::string pattern{};  // Replace: the literal text to replace
  std::string content{};  // Replace: its replacement; Prepend: the prefix
  UnicodeForm form = UnicodeForm::NFC;  // Unicode
};

// tokenizers' SplitDelimiterBehavior: what becomes of each match. Contiguous joins adjacent
// matches into one piece (Punctuation and Digits split one character at a time).
enum class SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };
enum class PrependScheme { Always, First, Never };

// One stage of a pre-tokenizer sequence; each stage splits every piece the previous one left.
// Stages after a ByteLevel one see the text in GPT-2's byte alphabet, as tokenizers runs them.
struct PreTokenizerStep {
  enum class Kind { Split, ByteLevel, Metaspace } kind = Kind::Split;
  std::shared_ptr<const Regex> regex{};  // Split; ByteLevel with use_regex
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;             // Split: the pattern describes what lies between pieces
  bool add_prefix_space = false;   // ByteLevel
  std::string replacement{};       // Metaspace
  PrependScheme prepend = PrependScheme::Always;
  bool split = false;              // Metaspace: split before each replacement character
};

struct DecoderStep {
  enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind = Kind::ByteLevel;
  std::string pattern{}, content{};  // Replace; Strip: content is the character to strip
  size_t start = 0, stop = 0;    // Strip
  PrependScheme prepend = PrependScheme::Always;  // Metaspace
};

struct TokenizerPipeline {
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::optional<std::vector<DecoderStep>> decoder;  // nullopt: tokens are joined with spaces
  std::vector<int32_t> prefix_ids, suffix_ids;      // what the post-processor adds around a text
};

// The GPT-2 split used when a byte-level pre-tokenizer does its own splitting.
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// The longest text encode() takes: 256 MiB. Encoding holds several copies of the text and a
// piece list that together peak at about 12 bytes per input byte (measured on the fixture
// tokenizers), so this caps one call near 3 GiB; anything longer is an InputError, not a
// machine driven into swap. Perplexity and benchmark texts are a few MiB.
inline constexpr size_t kMaxEncodeBytes = size_t{256} << 20;

class Tokenizer {
 public:
  Tokenizer(std::string source, BpeModel model, std::vector<AddedToken> added, TokenizerPipeline pipeline);

  // Ids of text (invalid UTF-8 is first replaced by U+FFFD); add_special runs the post-processor.
  // InputError for a text longer than kMaxEncodeBytes.
  std::vector<int32_t> encode(std::string_view text, bool add_special = true) const;
  // Text of ids, as tokenizers' decode; ids outside the vocabulary are skipped.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // The token string of an id as the vocabulary spells it; nullopt outside the vocabulary.
  std::optional<std::string_view> token_text(int32_t id) const;
  bool is_special(int32_t id) const;
  size_t vocab_size() const;
  const std::string& source() const { return source_; }
  const BpeModel& model() const { return model_; }

 private:
  void encode_plain(std::string_view text, bool at_start, std::vector<int32_t>& out) const;
  void pre_tokenize(std::string& text, bool at_start, std::vector<std::string>& words) const;
  void encode_cut(std::string_view text, std::vector<int32_t>& out) const;

  std::string source_;
  BpeModel model_;
  std::vector<AddedToken> added_;
  AddedTokenMatcher raw_matcher_, normalized_matcher_;
  std::vector<int32_t> added_text_index_;  // id -> index in added_ (-1: none)
  TokenizerPipeline pipeline_;
  bool cuts_only_ = false;  // every pre-tokenizer stage only cuts the text (see encode_cut)
};

// Incremental decoding for streaming output, as tokenizers' DecodeStream: each step returns the
// text that the new token completes, and holds text back while it would end in U+FFFD (half a
// UTF-8 character), so what is printed never splits a character.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tokenizer_(&tokenizer), skip_special_(skip_special) {}
  std::string step(int32_t id);
  // What is still held back at the end of the stream (decoded as it stands).
  std::string finish();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  std::string prefix_;
  size_t prefix_index_ = 0;
};

}  // namespace lp
