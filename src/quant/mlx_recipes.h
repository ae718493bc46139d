#pragma once
// MLX precision recipes: which modules of a model an MLX checkpoint quantizes, at how many
// bits and with which group size. Like the GGUF recipes they are data (the built-in ones in
// the JSON format a user's --recipe file uses): rules tried in order, the first whose module
// pattern matches (a regular expression searched in the module path, so a plain word is
// mlx-lm's substring test) and whose layer rule holds decides.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quant/mlx_affine.h"
#include "quant/name_pattern.h"

namespace lp {

struct MlxRule {
  std::string module;           // regular expression searched in the module path
  std::optional<NamePattern> pattern;  // `module`, compiled
  std::string layers = "all";   // "all", or "more_bits": llama.cpp's use_more_bits on the layer index
  std::string bits = "low";     // "low", "high", "embedding", "output", or a number
  std::optional<int> group_size;
  bool quantize = true;         // false: the module stays in float
};

struct MlxRecipe {
  std::string name;
  std::optional<int> low_bits, high_bits;  // fixed by mlx-lm's mixed_* recipes; else --method's bits
  // Whether config.json names every quantized module (mlx-lm's mixed_* predicates always
  // return a dict) or only those that differ from the global bits and group size.
  bool every_module_in_config = false;
  std::vector<MlxRule> rules;
};

// What a user asked for besides the recipe.
struct MlxRecipeSettings {
  int bits = 4;            // --method Nbit: the body ("low")
  int group_size = 64;     // --group-size
  int embedding_bits = 6;  // --embedding-bits (recipe "mixed")
  int output_bits = 6;     // --output-bits (recipe "mixed")
};

// "uniform", "mixed" (seed 004: body at --method's bits, embeddings and output at 6 bits),
// and mlx-lm's mixed_2_6, mixed_3_4, mixed_3_6, mixed_4_6.
const std::vector<MlxRecipe>& builtin_mlx_recipes();
const MlxRecipe* find_builtin_mlx_recipe(const std::string& name);
MlxRecipe parse_mlx_recipe(const nlohmann::json& j, const std::string& source);
MlxRecipe load_mlx_recipe_file(const std::string& path);

// The module's parameters, or nullopt when it stays in float. `layer_count` is the model's
// number of layers; the layer index is the first numeric component of the path (0 if none).
std::optional<MlxAffineSpec> choose_mlx_spec(const MlxRecipe& recipe, const MlxRecipeSettings& settings,
                                             const std::string& module_path, uint64_t layer_count);

}  // namespace lp
