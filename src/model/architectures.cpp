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
constexpr std::array<std::string_view, 1> kGptOssTypes = {"gpt_oss"};

// hf_config_defaults: the keys' defaults in transformers' LlamaConfig, Qwen2Config, Qwen3Config,
// Qwen3MoeConfig, Gemma3TextConfig, Phi3Config and GptOssConfig (checked against transformers by tests/python).
constexpr std::array kArchitectures = {
    ArchitectureInfo{.gguf_name = "llama", .hf_model_types = kLlamaTypes, .family = "Llama 2/3.x, SmolLM2",
                     .activation = Activation::silu,
                     .hf_config_defaults = R"({"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008,
                        "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 2048,
                        "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "rope_theta": 10000.0,
                        "bos_token_id": 1, "eos_token_id": 2})"},
    ArchitectureInfo{.gguf_name = "qwen2", .hf_model_types = kQwen2Types,
                     .family = "Qwen2/2.5, DeepSeek-R1-Distill-Qwen", .qkv_bias = true, .rope_neox = true,
                     .activation = Activation::silu,
                     .hf_config_defaults = R"({"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
                        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
                        "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "tie_word_embeddings": false,
                        "rope_theta": 10000.0, "use_sliding_window": false, "sliding_window": 4096})"},
    ArchitectureInfo{.gguf_name = "qwen3", .hf_model_types = kQwen3Types, .family = "Qwen3 dense", .qk_norm = true,
                     .rope_neox = true, .activation = Activation::silu,
                     .hf_config_defaults = R"({"vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016,
                        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32, "head_dim": 128,
                        "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "tie_word_embeddings": false,
                        "rope_theta": 10000.0, "use_sliding_window": false, "sliding_window": 4096})"},
    ArchitectureInfo{.gguf_name = "qwen3moe", .hf_model_types = kQwen3MoeTypes, .family = "Qwen3 mixture-of-experts",
                     .qk_norm = true, .moe = true, .rope_neox = true, .activation = Activation::silu,
                     .hf_config_defaults = R"({"vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
                        "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 4,
                        "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "tie_word_embeddings": false,
                        "rope_theta": 10000.0, "use_sliding_window": false, "sliding_window": 4096,
                        "num_experts": 128, "num_experts_per_tok": 8, "moe_intermediate_size": 768})"},
    ArchitectureInfo{.gguf_name = "gemma3", .hf_model_types = kGemma3Types, .family = "Gemma 3", .qk_norm = true,
                     .post_norms = true, .scale_embeddings = true, .rope_neox = true,
                     .activation = Activation::gelu_tanh,
                     .hf_config_defaults = R"({"vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216,
                        "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256,
                        "max_position_embeddings": 131072, "rms_norm_eps": 1e-6, "tie_word_embeddings": true,
                        "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "sliding_window": 4096,
                        "sliding_window_pattern": 6, "bos_token_id": 2, "eos_token_id": 1})"},
    ArchitectureInfo{.gguf_name = "phi3", .hf_model_types = kPhi3Types, .family = "Phi-3", .fused_qkv = true,
                     .rope_neox = true, .activation = Activation::silu,
                     .hf_config_defaults = R"({"vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192,
                        "num_hidden_layers": 32, "num_attention_heads": 32, "max_position_embeddings": 4096,
                        "original_max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "tie_word_embeddings": false,
                        "rope_theta": 10000.0, "bos_token_id": 1, "eos_token_id": 32000})"},
    ArchitectureInfo{.gguf_name = "gpt-oss", .hf_model_types = kGptOssTypes, .family = "gpt-oss", .qkv_bias = true,
                     .moe = true, .rope_neox = true, .activation = Activation::swiglu_oai, .attn_output_bias = true,
                     .attn_sinks = true, .moe_biases = true, .ffn_norm = "post_attention_norm",
                     .hf_config_defaults = R"({"vocab_size": 201088, "hidden_size": 2880, "intermediate_size": 2880,
                        "num_hidden_layers": 36, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64,
                        "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "tie_word_embeddings": false,
                        "rope_theta": 150000.0, "sliding_window": 128, "num_local_experts": 128,
                        "num_experts_per_tok": 4, "swiglu_alpha": 1.702, "swiglu_limit": 7.0})"},
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
