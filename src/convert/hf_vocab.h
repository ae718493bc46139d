#pragma once
// A Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) as the
// tokenizer.ggml.* metadata llama.cpp reads: tokens in id order with their types, merges,
// the pre-tokenizer's llama.cpp name, special token ids, BOS/EOS handling and the chat
// template.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "formats/gguf_value.h"

namespace lp {

// `vocab_size` is the model's embedding rows (config.json); ids the tokenizer does not use
// are padded as llama.cpp's converter does. InputError for tokenizers we cannot express.
std::vector<GgufKeyValue> hf_vocab_to_gguf(const std::filesystem::path& dir, uint64_t vocab_size);

}  // namespace lp
