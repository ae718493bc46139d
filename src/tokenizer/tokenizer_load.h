#pragma once
// Building a Tokenizer from where models keep one: GGUF metadata (tokenizer.ggml.*) or a
// Hugging Face tokenizer.json. A GGUF tokenizer is rebuilt the way transformers' GGUF
// converter rebuilds it, so both sources of one model tokenize identically.
#include <filesystem>
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace lp {

class GgufModel;

Tokenizer load_tokenizer_from_gguf(const GgufModel& model, const std::string& source);
Tokenizer load_tokenizer_from_json(const std::filesystem::path& tokenizer_json);
// A .gguf file, a tokenizer.json, or a Hugging Face directory holding one.
Tokenizer load_tokenizer(const std::filesystem::path& path);

// The split pattern transformers uses for a GGUF `tokenizer.ggml.pre` name; empty when the
// name has none of its own (the byte-level default, GPT-2's split, applies).
std::string_view gguf_pre_tokenizer_pattern(std::string_view pre);

}  // namespace lp
