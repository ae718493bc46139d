#pragma once
// Hugging Face tensor names to GGUF tensor names, per architecture (the names llama.cpp's
// convert_hf_to_gguf.py writes and its loader expects), and what must be done to the values
// on the way: llama.cpp's `llama` architecture applies RoPE to interleaved pairs while
// Hugging Face rotates halves, so Q and K rows are permuted.
#include <optional>
#include <string>
#include <string_view>

namespace lp {

enum class TensorTransform { none, permute_q, permute_k };

struct MappedTensorName {
  std::string gguf_name;
  TensorTransform transform = TensorTransform::none;
};

// nullopt: a tensor the GGUF model does not carry (rotary caches, a tied lm_head, ...).
// InputError for a tensor of the language model we do not know how to place.
std::optional<MappedTensorName> map_hf_tensor_name(std::string_view architecture, std::string_view hf_name,
                                                   bool tied_embeddings);

}  // namespace lp
