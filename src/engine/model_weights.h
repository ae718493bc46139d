#pragma once
// A model ready to run: hyperparameters plus every weight the forward pass reads, located
// by GGUF name. Weights of a GGUF file are used in place over its mapping; a Hugging Face
// directory is read through the converter's view (GGUF names, Q/K permuted, Gemma norms
// +1), so both sources feed one forward pass with the same conventions.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/huge_page_buffer.h"
#include "kernels/matmul.h"
#include "model/hparams.h"

namespace lp {

class GgufModel;
class QuantSource;

struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightMatrix attn_q, attn_k, attn_v, attn_qkv;  // attn_qkv: Phi-3's fused projection (others empty)
  const float* attn_q_bias = nullptr;
  const float* attn_k_bias = nullptr;
  const float* attn_v_bias = nullptr;
  const float* attn_q_norm = nullptr;  // per-head RMSNorm weights (Qwen3, Gemma 3)
  const float* attn_k_norm = nullptr;
  WeightMatrix attn_output;
  const float* attn_output_bias = nullptr;  // gpt-oss
  const float* attn_sinks = nullptr;        // gpt-oss: one logit per query head
  const float* post_attention_norm = nullptr;  // Gemma 3
  const float* ffn_norm = nullptr;
  WeightMatrix ffn_gate, ffn_up, ffn_down;  // Phi-3: ffn_up holds gate then up, ffn_gate empty
  const float* post_ffw_norm = nullptr;  // Gemma 3
  // Mixture of experts (Qwen3-MoE): the router, and each expert's gate, up and down matrices
  // as slices of the file's stacked [expert][row][column] tensors (empty for a dense layer).
  WeightMatrix ffn_gate_inp;
  std::vector<WeightMatrix> ffn_gate_exps, ffn_up_exps, ffn_down_exps;
  // gpt-oss: the router's bias (one per expert) and each expert's biases, expert after expert.
  const float* ffn_gate_inp_bias = nullptr;
  const float* ffn_gate_exps_bias = nullptr;
  const float* ffn_up_exps_bias = nullptr;
  const float* ffn_down_exps_bias = nullptr;
  bool sliding_window = false;           // attends to the last `sliding_window` positions only

  bool moe() const { return !ffn_down_exps.empty(); }
};

struct ModelWeights {
  WeightMatrix token_embd;
  const float* output_norm = nullptr;
  WeightMatrix output;  // token_embd when the embeddings are tied
  std::vector<float> rope_factors;  // per rotary pair, dividing its frequency (Llama 3.1, Phi-3 longrope); empty: none
  std::vector<LayerWeights> layers;
};

class LoadedModel {
 public:
  // A .gguf file (or the first file of a split model) or a Hugging Face directory.
  // InputError for an architecture the engine does not run or a missing/misshapen tensor.
  static std::unique_ptr<LoadedModel> open(const std::filesystem::path& path, uint64_t ctx_size_hint);
  ~LoadedModel();

  const std::filesystem::path& path() const { return path_; }
  const ModelHParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }
  const GgufModel* gguf() const { return gguf_.get(); }  // nullptr for a Hugging Face directory
  uint64_t weight_bytes() const { return weight_bytes_; }
  uint64_t parameter_count() const { return parameters_; }
  // What one token's forward pass uses: all parameters but the experts its router leaves out
  // (equal to parameter_count() for a dense model); and the same in bytes.
  uint64_t active_parameter_count() const { return parameters_ - inactive_expert_parameters_; }
  uint64_t active_weight_bytes() const { return weight_bytes_ - inactive_expert_bytes_; }
  std::string quant_type_name() const;  // the type most weight bytes are in

 private:
  LoadedModel() = default;
  friend class WeightBinder;

  std::filesystem::path path_;
  ModelHParams hparams_;
  ModelWeights weights_;
  std::unique_ptr<GgufModel> gguf_;
  std::unique_ptr<QuantSource> hf_source_;
  std::vector<std::vector<uint8_t>> owned_;  // tensors we had to produce (Hugging Face source, F32 vectors)
  std::vector<HugePageBuffer> interleaved_;  // the interleaved copies of weight matrices, read every token
  uint64_t weight_bytes_ = 0;
  uint64_t parameters_ = 0;
  uint64_t inactive_expert_parameters_ = 0, inactive_expert_bytes_ = 0;
  std::string quant_type_;
};

}  // namespace lp
