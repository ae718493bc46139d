#pragma once
// The "quantization" entry of an mlx-lm config.json: global bits, group size and mode, and
// per-module entries that override them (mlx_lm/utils.py load_model: a dict gives a module
// its own parameters, false leaves it in float; a module without an entry is quantized with
// the global parameters exactly when its ".scales" tensor exists).
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "quant/mlx_affine.h"

namespace lp {

class SafetensorsModel;
struct SafetensorsTensor;

struct MlxQuantConfig {
  MlxAffineSpec global;
  std::string mode = "affine";
  // Module path ("model.layers.0.self_attn.q_proj") -> its parameters; nullopt: not quantized.
  std::map<std::string, std::optional<MlxAffineSpec>> modules;

  // The parameters module `path` is stored with when its .scales exist.
  MlxAffineSpec spec_for(const std::string& path) const;
  nlohmann::json to_json() const;  // as mlx-lm writes it: global keys, then one object per module
  // "MLX 4-bit g64", or "MLX 3/6-bit g64" when modules differ in width (names like a GGUF file type).
  std::string label() const;
};

// nullopt when the config has no "quantization" entry (a float checkpoint). InputError, naming
// `source`, for an entry we cannot use: another mode than affine, bits or group sizes MLX does
// not have, or malformed values.
std::optional<MlxQuantConfig> parse_mlx_quant_config(const nlohmann::json& config, const std::string& source);

// One quantized module of an MLX checkpoint: its packed levels and group parameters, and
// the logical matrix they hold.
struct MlxQuantizedTensor {
  const SafetensorsTensor* levels = nullptr;  // "<module>.weight", uint32 words
  const SafetensorsTensor* scales = nullptr;
  const SafetensorsTensor* biases = nullptr;
  std::string module;
  MlxAffineSpec spec;
  uint64_t rows = 0, columns = 0;
};

// nullopt for a tensor that is not the packed weight of a quantized module (float tensors).
// InputError naming `dir` when a uint32 weight has no scales and biases, the config has no
// quantization entry, or the config's bits and group size disagree with the tensors' shapes.
std::optional<MlxQuantizedTensor> mlx_quantized_tensor(const SafetensorsModel& weights, const SafetensorsTensor& t,
                                                       const std::optional<MlxQuantConfig>& config,
                                                       const std::string& dir);

// ".scales" / ".biases" of a quantized module: part of its weight, not a tensor of their own.
bool is_mlx_group_parameter(const SafetensorsModel& weights, const std::string& name);

}  // namespace lp
