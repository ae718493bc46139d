#pragma once
// Real models' shapes, hyperparameters and tokenizer layout: one row per model the seeds
// name, used by `synth` to write full-size models with random weights, so speed and memory
// can be measured at real sizes without any download.
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace lp {

struct ModelPreset {
  std::string_view id;            // what --like takes: "qwen2.5-1.5b"
  std::string_view name;          // general.name
  std::string_view architecture;  // GGUF: llama, qwen2, qwen3, qwen3moe, gemma3, phi3, phi2
  uint32_t vocab, embd, ff, layers, heads, kv_heads, head_dim, context;
  double rope_theta, norm_eps;
  bool tied;
  std::string_view tokenizer;  // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
  std::string_view pre;        // tokenizer.ggml.pre
  uint32_t bos, eos;           // the real model's ids
  uint32_t first_special;      // ids from here up are control tokens
  uint32_t experts = 0, experts_used = 0, expert_ff = 0;
  uint32_t sliding_window = 0;
  bool llama3_rope = false;  // Llama 3.1+: rope_freqs tensor for the long-context scaling
  uint32_t rotary_dims = 0;  // partial rotary (Phi-2); 0 = whole head
  double yarn_factor = 0.0;  // > 0: YaRN RoPE scaling over yarn_original_context positions (gpt-oss)
  uint32_t yarn_original_context = 0;
};

std::span<const ModelPreset> all_model_presets();
const ModelPreset* find_model_preset(std::string_view id);

}  // namespace lp
