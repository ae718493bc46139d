#pragma once
// Building a Tokenizer from where models keep one: GGUF metadata (tokenizer.ggml.*) or a
// Hugging Face tokenizer.json. A GGUF tokenizer is rebuilt the way transformers' GGUF
// converter rebuilds it, but with its family's own pre-tokenizer stages (the converter gives
// several families GPT-2's split alone), so it tokenizes as the model's tokenizer.json does.
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/tokenizer.h"

namespace lp {

class GgufModel;

Tokenizer load_tokenizer_from_gguf(const GgufModel& model, const std::string& source);
Tokenizer load_tokenizer_from_json(const std::filesystem::path& tokenizer_json);
// The same from a tokenizer.json's text (or its parsed JSON); `source` names it in errors.
Tokenizer load_tokenizer_from_json_text(std::string_view text, const std::string& source);
Tokenizer tokenizer_from_json(const nlohmann::json& j, const std::string& source);
// A .gguf file, a tokenizer.json, or a Hugging Face directory holding one.
Tokenizer load_tokenizer(const std::filesystem::path& path);

// A pre-tokenizer stage as a family's tokenizer.json writes it: Split (Isolated, one pattern),
// Digits (individual_digits true) or DigitRuns (false), Punctuation (Contiguous), ByteLevel
// without its regex (use_regex false) or with it; never a prefix space.
struct PreTokenizerStage {
  enum class Kind { Split, Digits, DigitRuns, PunctuationRuns, ByteLevel, ByteLevelSplit } kind;
  std::string_view pattern{};  // Split
};

// What a GGUF `tokenizer.ggml.pre` name stands for: its family's stages, and whether its BPE
// model takes a word that is a token whole (tokenizer.json's ignore_merges).
struct GgufPreTokenizer {
  std::string_view name;
  std::span<const PreTokenizerStage> stages;
  bool ignore_merges = false;
};
// nullptr when the name has none of its own (the byte-level default, GPT-2's split, applies).
const GgufPreTokenizer* gguf_pre_tokenizer(std::string_view pre);
std::vector<PreTokenizerStep> pre_tokenizer_steps(std::span<const PreTokenizerStage> stages, const std::string& source);

// tokenizers' pre-tokenizers as steps; `source` names the file for a pattern that does not compile.
PreTokenizerStep split_step(std::string_view pattern, SplitBehavior behavior, bool invert, const std::string& source);
PreTokenizerStep digits_step(bool individual, const std::string& source);
PreTokenizerStep punctuation_step(SplitBehavior behavior, const std::string& source);
PreTokenizerStep byte_level_step(bool add_prefix_space, bool use_regex, const std::string& source);

}  // namespace lp
