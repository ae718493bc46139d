#pragma once
// A Hugging Face checkpoint written as an mlx-lm checkpoint, laid out as mlx_lm.convert lays
// it out: config.json with its "quantization" (and "quantization_config") entry, weights in
// model.safetensors or model-0000i-of-0000N.safetensors shards of at most 5 GiB with
// model.safetensors.index.json, the tokenizer and generation files copied. Quantized modules
// hold MLX affine levels (uint32), scales and biases (quant/mlx_affine.h); everything else
// stays in float. The directory appears under its name only when complete.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "formats/mlx_quant_config.h"
#include "quant/mlx_recipes.h"

namespace lp {

class HfCheckpoint;
struct SafetensorsTensor;

struct MlxExportOptions {
  const MlxRecipe* recipe = nullptr;
  MlxRecipeSettings settings;
  std::string dtype;  // "float16", "bfloat16", "float32"; empty: each tensor keeps its own
  unsigned threads = 1;
  uint64_t max_shard_bytes = uint64_t{5} << 30;  // mlx-lm's MAX_FILE_SIZE_GB
};

struct MlxPlanEntry {
  const SafetensorsTensor* source = nullptr;
  std::string name;                   // the float tensor's name, or the module's ".weight"
  std::string module;                 // the module path (name without ".weight")
  std::optional<MlxAffineSpec> spec;  // quantized with these parameters; nullopt: float
  std::string dtype;                  // safetensors dtype of the float tensor, or of scales and biases
  uint64_t bytes = 0;                 // everything it writes (levels, scales and biases)
  uint64_t parameters = 0;            // logical values, as mlx-lm counts them
};

struct MlxExportPlan {
  std::vector<MlxPlanEntry> entries;  // sorted by name
  MlxQuantConfig config;
  uint64_t total_bytes = 0;
  uint64_t total_parameters = 0;
};

// InputError for an architecture mlx-lm names differently than Hugging Face (mixtures of
// experts, multimodal wrappers), or a module whose input width does not split into the
// group size a rule asks for.
MlxExportPlan plan_mlx_export(const HfCheckpoint& checkpoint, const MlxExportOptions& options);
void write_mlx_export(const HfCheckpoint& checkpoint, const MlxExportPlan& plan, const MlxExportOptions& options,
                      const std::filesystem::path& dir);

}  // namespace lp
