#pragma once
// `quantize --format mlx`: an mlx-lm checkpoint from a Hugging Face directory.
#include <string>

#include "quant/mlx_recipes.h"

namespace lp::cli {

struct MlxQuantizeRequest {
  std::string source;
  std::string method;       // "4bit" ... "8bit", a built-in mixed_* recipe, or the --recipe file's name
  std::string recipe_file;  // --recipe
  std::string dtype;        // --dtype
  std::string output;
  MlxRecipeSettings settings;
  bool mixed_precision = false;  // --mixed-precision: seed 004's recipe (embeddings and output at more bits)
  bool dry_run = false;
  bool json = false;
  unsigned threads = 1;
};

void run_quantize_mlx(const MlxQuantizeRequest& request);
// The checks run_quantize_mlx makes before writing (method, recipe, dtype, the plan itself): InputError.
void validate_mlx_request(const MlxQuantizeRequest& request);

}  // namespace lp::cli
