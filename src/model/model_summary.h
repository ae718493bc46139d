#pragma once
// Everything `inspect` reports about a model, gathered from a GGUF file (or split set) or
// a Hugging Face directory without touching tensor data: only headers are read.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/hf_checkpoint.h"
#include "model/hparams.h"
#include "tokenizer/tokenizer_summary.h"

namespace lp {

struct TensorSummary {
  std::string name;
  std::string type;             // GGML type name, or safetensors dtype
  std::vector<uint64_t> shape;  // as the file stores it: GGML order for GGUF, row-major for safetensors
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
};

struct ModelSummary {
  std::string path;
  std::string format;  // "gguf" or "huggingface"
  uint32_t gguf_version = 0;
  std::string gguf_type;  // general.type: "model", "imatrix", "adapter", ... (empty when absent)
  std::vector<std::string> files;
  uint64_t file_bytes = 0;
  std::string name;       // general.name, or the directory name
  std::string file_type;  // GGUF general.file_type as llama.cpp names it; empty when absent
  ModelHParams hparams;
  std::optional<TokenizerSummary> tokenizer;
  std::optional<GenerationDefaults> generation;
  std::vector<TensorSummary> tensors;
  uint64_t parameter_count = 0;
  // What one token computes with: parameter_count less the experts a mixture's router leaves
  // out (expert_count - expert_used_count of every stacked *_exps tensor).
  uint64_t active_parameter_count = 0;
  uint64_t tensor_bytes = 0;
  nlohmann::json metadata;  // GGUF key/values (long arrays summarized); the raw config.json for HF

  double bits_per_weight() const {
    return parameter_count == 0 ? 0.0 : 8.0 * static_cast<double>(tensor_bytes) / static_cast<double>(parameter_count);
  }
};

// `path` is a GGUF file (any part of a split model) or a Hugging Face directory.
ModelSummary summarize_model(const std::filesystem::path& path);

// A count for people: "1.54 B", "134.52 M", "12.00 K", "512".
std::string human_count(uint64_t n);

nlohmann::json summary_to_json(const ModelSummary& s);
std::string summary_to_text(const ModelSummary& s);

}  // namespace lp
