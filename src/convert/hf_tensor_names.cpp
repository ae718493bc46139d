#include "convert/hf_tensor_names.h"

#include <array>

#include "core/error.h"

namespace lp {
namespace {

struct NameRule {
  std::string_view hf_suffix;    // after "model.layers.N." (per layer) or the whole name (global)
  std::string_view gguf_suffix;  // after "blk.N."
  TensorTransform transform = TensorTransform::none;
};

// Per-layer tensors of the dense llama-like architectures we convert (llama, qwen2, qwen3).
constexpr std::array kLayerRules = {
    NameRule{"input_layernorm.weight", "attn_norm.weight"},
    NameRule{"self_attn.q_proj.weight", "attn_q.weight", TensorTransform::permute_q},
    NameRule{"self_attn.k_proj.weight", "attn_k.weight", TensorTransform::permute_k},
    NameRule{"self_attn.v_proj.weight", "attn_v.weight"},
    NameRule{"self_attn.o_proj.weight", "attn_output.weight"},
    NameRule{"self_attn.q_proj.bias", "attn_q.bias", TensorTransform::permute_q},
    NameRule{"self_attn.k_proj.bias", "attn_k.bias", TensorTransform::permute_k},
    NameRule{"self_attn.v_proj.bias", "attn_v.bias"},
    NameRule{"self_attn.q_norm.weight", "attn_q_norm.weight"},
    NameRule{"self_attn.k_norm.weight", "attn_k_norm.weight"},
    NameRule{"post_attention_layernorm.weight", "ffn_norm.weight"},
    NameRule{"mlp.gate_proj.weight", "ffn_gate.weight"},
    NameRule{"mlp.up_proj.weight", "ffn_up.weight"},
    NameRule{"mlp.down_proj.weight", "ffn_down.weight"},
};

}  // namespace

std::optional<MappedTensorName> map_hf_tensor_name(std::string_view architecture, std::string_view hf_name,
                                                   bool tied_embeddings) {
  // Only llama.cpp's `llama` architecture uses interleaved RoPE; Qwen's use NeoX (halves).
  const bool permute = architecture == "llama";
  auto transform = [permute](TensorTransform t) { return permute ? t : TensorTransform::none; };
  if (hf_name == "model.embed_tokens.weight") return MappedTensorName{"token_embd.weight"};
  if (hf_name == "model.norm.weight") return MappedTensorName{"output_norm.weight"};
  if (hf_name == "lm_head.weight") {
    if (tied_embeddings) return std::nullopt;  // some checkpoints store the tied copy too
    return MappedTensorName{"output.weight"};
  }
  if (hf_name.ends_with("rotary_emb.inv_freq")) return std::nullopt;  // recomputed from rope_theta
  constexpr std::string_view kLayers = "model.layers.";
  if (hf_name.starts_with(kLayers)) {
    const auto rest = hf_name.substr(kLayers.size());
    const auto dot = rest.find('.');
    const auto layer = rest.substr(0, dot);
    if (dot != std::string_view::npos && !layer.empty() &&
        layer.find_first_not_of("0123456789") == std::string_view::npos) {
      const auto suffix = rest.substr(dot + 1);
      for (const auto& rule : kLayerRules) {
        if (suffix == rule.hf_suffix) {
          return MappedTensorName{"blk." + std::string(layer) + "." + std::string(rule.gguf_suffix),
                                  transform(rule.transform)};
        }
      }
    }
  }
  fail("tensor '{}' has no place in a GGUF {} model", hf_name, architecture);
}

}  // namespace lp
