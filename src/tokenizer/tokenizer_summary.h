#pragma once
// What `inspect` says about a model's tokenizer: its kind, vocabulary, special tokens and
// whether it carries a chat template. Read from GGUF metadata or from a Hugging Face
// directory's tokenizer.json and tokenizer_config.json.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lp {

class GgufModel;

struct SpecialToken {
  std::string role;  // bos, eos, unk, pad, sep, eot, ...
  int64_t id = -1;   // -1 when the text is not in the vocabulary
  std::string text;
};

struct TokenizerSummary {
  std::string model;          // GGUF tokenizer.ggml.model (gpt2, llama, ...) or tokenizer.json model.type (BPE, Unigram)
  std::string pre_tokenizer;  // GGUF tokenizer.ggml.pre, or tokenizer.json's pre_tokenizer type
  uint64_t vocab_size = 0;
  uint64_t merges = 0;
  uint64_t control_tokens = 0;  // tokens marked special/control
  std::vector<SpecialToken> special;
  std::optional<bool> add_bos, add_eos;
  std::optional<std::string> chat_template;
};

TokenizerSummary tokenizer_summary_from_gguf(const GgufModel& model);
// nullopt when the directory has no tokenizer.json.
std::optional<TokenizerSummary> tokenizer_summary_from_hf(const std::filesystem::path& dir);

nlohmann::json tokenizer_summary_to_json(const TokenizerSummary& t);

}  // namespace lp
