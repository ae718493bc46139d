#pragma once
// The architectures Llama-Pajamas understands: one row each. The forward pass, the tensor
// name maps and the converters all key on these rows rather than on scattered name checks.
#include <optional>
#include <span>
#include <string_view>

namespace lp {

// The gated feed-forward's activation. swiglu_oai (gpt-oss): gate clamped above at the limit,
// up clamped to [-limit, limit], out = gate * sigmoid(alpha * gate) * (up + 1).
enum class Activation { silu, gelu_tanh, swiglu_oai };

struct ArchitectureInfo {
  std::string_view gguf_name;                       // general.architecture in GGUF
  std::span<const std::string_view> hf_model_types;  // config.json "model_type" values
  std::string_view family;                           // for people: "Llama 3.x, SmolLM2"
  bool qkv_bias = false;         // bias on the Q, K and V projections (Qwen2)
  bool qk_norm = false;          // RMSNorm on Q and K per head (Qwen3, Gemma 3)
  bool moe = false;              // mixture-of-experts feed-forward
  bool post_norms = false;       // extra norms after attention and feed-forward (Gemma 3)
  bool fused_qkv = false;        // one QKV and one gate-up matrix (Phi-3)
  bool scale_embeddings = false; // embeddings multiplied by sqrt(hidden size) (Gemma 3)
  // RoPE on halves (NeoX) rather than interleaved pairs; llama's Q/K rows are permuted
  // at conversion so that interleaved pairs are right for it.
  bool rope_neox = false;
  Activation activation = Activation::silu;
  bool attn_output_bias = false;  // bias on the attention output projection (gpt-oss)
  bool attn_sinks = false;        // a learned per-head logit in each softmax (gpt-oss)
  bool moe_biases = false;        // biases on the router and on every expert's matrices (gpt-oss)
  // GGUF name (after "blk.N.") of the norm before the feed-forward: llama.cpp's gpt-oss calls
  // it the post-attention norm.
  std::string_view ffn_norm = "ffn_norm";
  // The defaults of the transformers config class, as JSON: what config.json means by a key
  // it leaves out (Gemma 3's multimodal configs leave out most of them).
  std::string_view hf_config_defaults;
};

std::span<const ArchitectureInfo> all_architectures();
const ArchitectureInfo* find_architecture_by_gguf_name(std::string_view name);
const ArchitectureInfo* find_architecture_by_hf_type(std::string_view model_type);

}  // namespace lp
