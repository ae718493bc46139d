#include "model/architectures.h"

#include <algorithm>
#include <array>

namespace lp {
namespace {

constexpr std::array<std::string_view, 1> kLlamaTypes = {"llama"};
constexpr std::array<std::string_view, 1> kQwen2Types = {"qwen2"};
constexpr std::array<std::string_view, 1> kQwen3Types = {"qwen3"};
constexpr std::array<std::string_view, 1> kQwen3MoeTypes = {"qwen3_moe"};
constexpr std::array<std::string_view, 2> kGemma3Types = {"gemma3", "gemma3_text"};
constexpr std::array<std::string_view, 1> kPhi3Types = {"phi3"};

// Defaults are those of the transformers config classes, used when config.json omits a key.
constexpr std::array kArchitectures = {
    ArchitectureInfo{.gguf_name = "llama", .hf_model_types = kLlamaTypes, .family = "Llama 2/3.x, SmolLM2",
                     .activation = Activation::silu, .default_rope_theta = 10000.0, .default_norm_eps = 1e-6},
    ArchitectureInfo{.gguf_name = "qwen2", .hf_model_types = kQwen2Types,
                     .family = "Qwen2/2.5, DeepSeek-R1-Distill-Qwen", .qkv_bias = true,
                     .activation = Activation::silu, .default_rope_theta = 10000.0, .default_norm_eps = 1e-6},
    ArchitectureInfo{.gguf_name = "qwen3", .hf_model_types = kQwen3Types, .family = "Qwen3 dense", .qk_norm = true,
                     .activation = Activation::silu, .default_rope_theta = 10000.0, .default_norm_eps = 1e-6},
    ArchitectureInfo{.gguf_name = "qwen3moe", .hf_model_types = kQwen3MoeTypes, .family = "Qwen3 mixture-of-experts",
                     .qk_norm = true, .moe = true, .activation = Activation::silu, .default_rope_theta = 10000.0,
                     .default_norm_eps = 1e-6},
    ArchitectureInfo{.gguf_name = "gemma3", .hf_model_types = kGemma3Types, .family = "Gemma 3", .qk_norm = true,
                     .post_norms = true, .scale_embeddings = true, .tied_embeddings_default = true,
                     .activation = Activation::gelu_tanh, .default_rope_theta = 1000000.0, .default_norm_eps = 1e-6},
    ArchitectureInfo{.gguf_name = "phi3", .hf_model_types = kPhi3Types, .family = "Phi-3", .fused_qkv = true,
                     .activation = Activation::silu, .default_rope_theta = 10000.0, .default_norm_eps = 1e-5},
};

}  // namespace

std::span<const ArchitectureInfo> all_architectures() { return kArchitectures; }

const ArchitectureInfo* find_architecture_by_gguf_name(std::string_view name) {
  const auto it = std::ranges::find(kArchitectures, name, &ArchitectureInfo::gguf_name);
  return it == kArchitectures.end() ? nullptr : &*it;
}

const ArchitectureInfo* find_architecture_by_hf_type(std::string_view model_type) {
  const auto it = std::ranges::find_if(
      kArchitectures, [&](const auto& a) { return std::ranges::find(a.hf_model_types, model_type) != a.hf_model_types.end(); });
  return it == kArchitectures.end() ? nullptr : &*it;
}

}  // namespace lp
