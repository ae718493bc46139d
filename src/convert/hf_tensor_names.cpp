#include "convert/hf_tensor_names.h"

#include <algorithm>
#include <array>
#include <span>

#include "core/error.h"

namespace lp {
namespace {

struct NameRule {
  std::string_view hf;    // after "model.layers.N." (per layer) or the whole name (global); "{E}": an expert index
  std::string_view gguf;  // after "blk.N." (per layer) or the whole name (global)
  TensorTransform transform = TensorTransform::none;
  uint32_t part = 0, parts = 1;
  bool interleaved = false;
};

using T = TensorTransform;

// ---- per-layer tensors ----------------------------------------------------------------

// Attention of the llama-like architectures (llama, qwen2, qwen3, qwen3moe). The permutation
// applies only where the architecture rotates interleaved pairs (kArchitectures below).
constexpr NameRule kLlamaAttention[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight", T::permute_q},
    {"self_attn.k_proj.weight", "attn_k.weight", T::permute_k},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias", T::permute_q},
    {"self_attn.k_proj.bias", "attn_k.bias", T::permute_k},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
};

constexpr NameRule kDenseFfn[] = {
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// Qwen3-MoE: a router and experts, stacked into [expert][row][column] GGUF tensors.
// transformers 4 stores one tensor per expert; transformers 5 one 3-D tensor per kind, the
// gate and up projections fused (gate rows first), with or without ".weight".
constexpr NameRule kMoeFfn[] = {
    {"mlp.gate.weight", "ffn_gate_inp.weight"},
    {"mlp.experts.{E}.gate_proj.weight", "ffn_gate_exps.weight"},
    {"mlp.experts.{E}.up_proj.weight", "ffn_up_exps.weight"},
    {"mlp.experts.{E}.down_proj.weight", "ffn_down_exps.weight"},
    {"mlp.experts.gate_up_proj", "ffn_gate_exps.weight", T::none, 0, 2},
    {"mlp.experts.gate_up_proj", "ffn_up_exps.weight", T::none, 1, 2},
    {"mlp.experts.gate_up_proj.weight", "ffn_gate_exps.weight", T::none, 0, 2},
    {"mlp.experts.gate_up_proj.weight", "ffn_up_exps.weight", T::none, 1, 2},
    {"mlp.experts.down_proj", "ffn_down_exps.weight"},
    {"mlp.experts.down_proj.weight", "ffn_down_exps.weight"},
};

// Gemma 3: norms before and after attention and feed-forward, QK norms; every norm is
// stored as w where llama.cpp multiplies by 1 + w.
constexpr NameRule kGemma3Layer[] = {
    {"input_layernorm.weight", "attn_norm.weight", T::add_one},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight", T::add_one},
    {"self_attn.k_norm.weight", "attn_k_norm.weight", T::add_one},
    {"post_attention_layernorm.weight", "post_attention_norm.weight", T::add_one},
    {"pre_feedforward_layernorm.weight", "ffn_norm.weight", T::add_one},
    {"post_feedforward_layernorm.weight", "post_ffw_norm.weight", T::add_one},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// gpt-oss: biases on every projection, learned attention sinks, a router with a bias, and
// experts as [expert][in][out] 3-D tensors with gate and up interleaved (gate first), as
// convert_hf_to_gguf.py's GptOssModel splits them; OpenAI's own checkpoints hold the experts
// in MXFP4 as *_blocks and *_scales, already [expert][out][in], gate and up rows alternating.
constexpr NameRule kGptOssLayer[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.sinks", "attn_sinks.weight"},
    {"post_attention_layernorm.weight", "post_attention_norm.weight"},
    {"mlp.router.weight", "ffn_gate_inp.weight"},
    {"mlp.router.bias", "ffn_gate_inp.bias"},
    {"mlp.experts.gate_up_proj", "ffn_gate_exps.weight", T::transpose, 0, 2, true},
    {"mlp.experts.gate_up_proj", "ffn_up_exps.weight", T::transpose, 1, 2, true},
    {"mlp.experts.gate_up_proj_bias", "ffn_gate_exps.bias", T::none, 0, 2, true},
    {"mlp.experts.gate_up_proj_bias", "ffn_up_exps.bias", T::none, 1, 2, true},
    {"mlp.experts.down_proj", "ffn_down_exps.weight", T::transpose},
    {"mlp.experts.gate_up_proj_blocks", "ffn_gate_exps.weight", T::mxfp4_blocks, 0, 2, true},
    {"mlp.experts.gate_up_proj_blocks", "ffn_up_exps.weight", T::mxfp4_blocks, 1, 2, true},
    {"mlp.experts.gate_up_proj_scales", "ffn_gate_exps.weight", T::mxfp4_scales, 0, 2, true},
    {"mlp.experts.gate_up_proj_scales", "ffn_up_exps.weight", T::mxfp4_scales, 1, 2, true},
    {"mlp.experts.down_proj_blocks", "ffn_down_exps.weight", T::mxfp4_blocks},
    {"mlp.experts.down_proj_scales", "ffn_down_exps.weight", T::mxfp4_scales},
    {"mlp.experts.down_proj_bias", "ffn_down_exps.bias"},
};

// Phi-3: Q, K and V in one matrix, gate and up in one matrix (gate rows first), both as
// llama.cpp keeps them.
constexpr NameRule kPhi3Layer[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.qkv_proj.weight", "attn_qkv.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

// ---- whole-model tensors ---------------------------------------------------------------

constexpr NameRule kGlobal[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

constexpr NameRule kGemma3Global[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight", T::add_one},
    {"lm_head.weight", "output.weight"},
};

struct ArchitectureNames {
  std::string_view architecture;  // GGUF name
  bool interleaved_rope = false;  // llama.cpp's `llama` RoPE: Q and K rows permuted
  std::array<std::span<const NameRule>, 2> layer;
  std::span<const NameRule> global;
};

const std::array kArchitectures = {
    ArchitectureNames{"llama", true, {kLlamaAttention, kDenseFfn}, kGlobal},
    ArchitectureNames{"qwen2", false, {kLlamaAttention, kDenseFfn}, kGlobal},
    ArchitectureNames{"qwen3", false, {kLlamaAttention, kDenseFfn}, kGlobal},
    ArchitectureNames{"qwen3moe", false, {kLlamaAttention, kMoeFfn}, kGlobal},
    ArchitectureNames{"gemma3", false, {kGemma3Layer, {}}, kGemma3Global},
    ArchitectureNames{"phi3", false, {kPhi3Layer, {}}, kGlobal},
    ArchitectureNames{"gpt-oss", false, {kGptOssLayer, {}}, kGlobal},
};

// Multimodal checkpoints (Gemma3ForConditionalGeneration) keep the language model under a
// prefix, which transformers has spelled two ways, next to tensors of other towers.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kPrefixRewrites = {{
    {"language_model.model.", "model."},
    {"model.language_model.", "model."},
    {"language_model.lm_head.", "lm_head."},
}};
constexpr std::array<std::string_view, 4> kOtherTowers = {"vision_tower.", "multi_modal_projector.",
                                                          "model.vision_tower.", "model.multi_modal_projector."};

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Matches `name` against a rule's pattern, whose "{E}" stands for an expert index.
bool matches(std::string_view pattern, std::string_view name, int64_t& expert) {
  const auto hole = pattern.find("{E}");
  if (hole == std::string_view::npos) return pattern == name;
  const auto head = pattern.substr(0, hole), tail = pattern.substr(hole + 3);
  if (name.size() <= head.size() + tail.size() || !name.starts_with(head) || !name.ends_with(tail)) return false;
  const auto digits = name.substr(head.size(), name.size() - head.size() - tail.size());
  if (!all_digits(digits)) return false;
  expert = std::stoll(std::string(digits));
  return true;
}

std::vector<MappedTensorName> apply(std::span<const NameRule> rules, std::string_view name, std::string_view prefix,
                                    bool interleaved_rope) {
  std::vector<MappedTensorName> out;
  for (const auto& rule : rules) {
    int64_t expert = -1;
    if (!matches(rule.hf, name, expert)) continue;
    TensorTransform t = rule.transform;
    if (!interleaved_rope && (t == T::permute_q || t == T::permute_k)) t = T::none;
    out.push_back({std::string(prefix) + std::string(rule.gguf), t, expert, rule.part, rule.parts, rule.interleaved});
  }
  return out;
}

}  // namespace

bool hf_tensor_names_known(std::string_view architecture) {
  return std::ranges::any_of(kArchitectures, [&](const auto& a) { return a.architecture == architecture; });
}

std::vector<MappedTensorName> map_hf_tensor_name(std::string_view architecture, std::string_view hf_name,
                                                 bool tied_embeddings) {
  const auto arch = std::ranges::find(kArchitectures, architecture, &ArchitectureNames::architecture);
  if (arch == kArchitectures.end()) fail("converting {} checkpoints is not supported", architecture);
  for (const auto tower : kOtherTowers) {
    if (hf_name.starts_with(tower)) return {};
  }
  std::string name(hf_name);
  for (const auto& [from, to] : kPrefixRewrites) {
    if (hf_name.starts_with(from)) {
      name = std::string(to) + std::string(hf_name.substr(from.size()));
      break;
    }
  }
  if (name == "lm_head.weight" && tied_embeddings) return {};  // some checkpoints store the tied copy too
  if (name.ends_with("rotary_emb.inv_freq")) return {};         // recomputed from rope_theta
  if (auto mapped = apply(arch->global, name, "", false); !mapped.empty()) return mapped;

  constexpr std::string_view kLayers = "model.layers.";
  if (name.starts_with(kLayers)) {
    const std::string_view rest = std::string_view(name).substr(kLayers.size());
    const auto dot = rest.find('.');
    const auto layer = rest.substr(0, dot);
    if (dot != std::string_view::npos && all_digits(layer)) {
      const std::string prefix = "blk." + std::string(layer) + ".";
      for (const auto rules : arch->layer) {
        if (auto mapped = apply(rules, rest.substr(dot + 1), prefix, arch->interleaved_rope); !mapped.empty()) {
          return mapped;
        }
      }
    }
  }
  fail("tensor '{}' has no place in a GGUF {} model", hf_name, architecture);
}

}  // namespace lp
