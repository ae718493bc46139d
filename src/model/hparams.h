#pragma once
// Hyperparameters normalized across sources: a GGUF's `{arch}.*` keys and a Hugging Face
// config.json end up in the same struct, in GGUF's vocabulary, so nothing downstream
// cares where a model came from.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/architectures.h"

namespace lp {

class GgufModel;

struct RopeScaling {
  std::string type = "none";  // none, linear, yarn, llama3, longrope
  double factor = 1.0;
  uint64_t original_context_length = 0;
  double low_freq_factor = 0.0;   // llama3
  double high_freq_factor = 0.0;  // llama3
  std::vector<double> short_factor, long_factor;  // longrope (Phi-3)
  std::optional<double> attn_factor;  // what cos/sin are scaled by, when the source says (longrope, yarn)
  // YaRN's ramp between the dimensions turning beta_fast and beta_slow times over the original
  // context; truncated: its ends rounded out to whole dimensions (transformers' default and
  // llama.cpp's only behaviour; gpt-oss is defined without).
  double beta_fast = 32.0, beta_slow = 1.0;
  bool yarn_truncate = true;
};

struct ModelHParams {
  std::string architecture;  // GGUF name: llama, qwen2, qwen3, qwen3moe, gemma3, phi3 (or what a GGUF says)
  const ArchitectureInfo* info = nullptr;  // nullptr for an architecture we do not run
  uint64_t vocab_size = 0;
  uint64_t context_length = 0;
  uint64_t embedding_length = 0;
  uint64_t block_count = 0;
  uint64_t feed_forward_length = 0;
  uint64_t head_count = 0;
  uint64_t head_count_kv = 0;
  uint64_t key_length = 0;    // per-head dimension of Q and K
  uint64_t value_length = 0;  // per-head dimension of V
  double rope_freq_base = 0.0;
  std::optional<double> rope_freq_base_local;  // Gemma 3's sliding-window layers
  RopeScaling rope_scaling;
  double norm_eps = 0.0;
  uint64_t sliding_window = 0;          // 0: none
  uint64_t sliding_window_pattern = 0;  // every Nth layer is global (Gemma 3)
  uint64_t expert_count = 0;
  uint64_t expert_used_count = 0;
  uint64_t expert_feed_forward_length = 0;
  // gpt-oss's clamped SwiGLU (Activation::swiglu_oai); llama.cpp fixes them at 1.702 and 7.
  double swiglu_alpha = 1.702, swiglu_limit = 7.0;
  bool tied_embeddings = false;
  std::optional<double> final_logit_softcapping;
  std::optional<double> attn_logit_softcapping;
  std::optional<double> attention_scale;  // what queries are scaled by, when not 1/sqrt(key_length)
  std::vector<int64_t> bos_token_ids, eos_token_ids;
};

// The share of a mixture's stacked expert weights one token leaves unread:
// (expert_count - expert_used_count) / expert_count; 0 for a dense model.
double unused_expert_share(const ModelHParams& h);

ModelHParams hparams_from_gguf(const GgufModel& model);
// `source` names the config file in errors. Unknown model_type is an InputError listing the supported ones.
ModelHParams hparams_from_hf_config(const nlohmann::json& config, const std::string& source);

nlohmann::json hparams_to_json(const ModelHParams& h);

}  // namespace lp
