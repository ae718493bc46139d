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

struct MlxQuantConfig {
  MlxAffineSpec global;
  std::string mode = "affine";
  // Module path ("model.layers.0.self_attn.q_proj") -> its parameters; nullopt: not quantized.
  std::map<std::string, std::optional<MlxAffineSpec>> modules;

  // The parameters module `path` is stored with when its .scales exist.
  MlxAffineSpec spec_for(const std::string& path) const;
  nlohmann::json to_json() const;  // as mlx-lm writes it: global keys, then one object per module
};

// nullopt when the config has no "quantization" entry (a float checkpoint). InputError, naming
// `source`, for an entry we cannot use: another mode than affine, bits or group sizes MLX does
// not have, or malformed values.
std::optional<MlxQuantConfig> parse_mlx_quant_config(const nlohmann::json& config, const std::string& source);

}  // namespace lp
