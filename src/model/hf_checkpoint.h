#pragma once
// A Hugging Face model directory: config.json, generation_config.json, the tokenizer files
// and the safetensors weights (one file or sharded), loaded into one normalized view.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "model/hparams.h"
#include "tokenizer/tokenizer_summary.h"

namespace lp {

// Sampling defaults from generation_config.json.
struct GenerationDefaults {
  std::optional<bool> do_sample;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_new_tokens;
  std::vector<int64_t> eos_token_ids;
};

class HfCheckpoint {
 public:
  // InputError when the directory is missing, has no config.json, or holds an unsupported model_type.
  static HfCheckpoint open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const nlohmann::json& config() const { return config_; }
  const ModelHParams& hparams() const { return hparams_; }
  const std::optional<TokenizerSummary>& tokenizer() const { return tokenizer_; }
  const std::optional<GenerationDefaults>& generation() const { return generation_; }
  const SafetensorsModel& weights() const { return weights_; }

 private:
  std::filesystem::path dir_;
  nlohmann::json config_;
  ModelHParams hparams_;
  std::optional<TokenizerSummary> tokenizer_;
  std::optional<GenerationDefaults> generation_;
  SafetensorsModel weights_;
};

nlohmann::json generation_defaults_to_json(const GenerationDefaults& g);

}  // namespace lp
