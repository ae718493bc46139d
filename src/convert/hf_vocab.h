#pragma once
// A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) as the tokenizer.ggml.*
// metadata llama.cpp reads:
// - byte-level BPE (GPT-2, Llama 3, Qwen, SmolLM2) as tokenizer.ggml.model "gpt2": tokens in id
//   order with their types, merges and the pre-tokenizer's llama.cpp name;
// - SentencePiece-style BPE with byte fallback and "▁" for spaces (Gemma, Llama 2, Phi-3) as
//   "llama": tokens, scores (from the merge order, which llama.cpp's score-driven merging then
//   follows), types (normal, unknown, control, user-defined, byte, unused) and whether a space
//   is put in front of the text;
// and for both the special token ids, BOS/EOS handling and the chat template.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "formats/gguf_value.h"

namespace lp {

// `vocab_size` is the model's embedding rows (config.json); ids the tokenizer does not use
// are padded as llama.cpp's converter does. InputError for tokenizers we cannot express.
std::vector<GgufKeyValue> hf_vocab_to_gguf(const std::filesystem::path& dir, uint64_t vocab_size);

}  // namespace lp
