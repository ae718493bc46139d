#include "cli/quantize_mlx.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "convert/mlx_export.h"
#include "core/error.h"
#include "core/units.h"
#include "formats/safetensors.h"
#include "model/hf_checkpoint.h"

namespace lp::cli {
namespace {

// "4bit" -> 4; nullopt for anything else.
std::optional<int> uniform_bits(const std::string& method) {
  if (method.size() == 4 && method.substr(1) == "bit" && method[0] >= '0' && method[0] <= '9') return method[0] - '0';
  return std::nullopt;
}

void print_plan(const MlxExportPlan& plan, const MlxRecipe& recipe) {
  size_t width = 4;
  for (const auto& e : plan.entries) width = std::max(width, e.name.size());
  fmt::print("MLX plan ({}, global {} bits, group size {}):\n", recipe.name, plan.config.global.bits,
             plan.config.global.group_size);
  fmt::print("  {:<{}}  {:<14} {:<16} {:>12}\n", "name", width, "shape", "stored as", "bytes");
  for (const auto& e : plan.entries) {
    const std::string shape = fmt::format("[{}]", fmt::join(e.source->shape, ", "));
    const std::string as = e.spec ? fmt::format("{}-bit g{} {}", e.spec->bits, e.spec->group_size, e.dtype) : e.dtype;
    fmt::print("  {:<{}}  {:<14} {:<16} {:>12}\n", e.name, width, shape, as, e.bytes);
  }
  fmt::print("  total: {} tensors, {} parameters, {} bytes ({:.2f} MiB), {:.4f} bits per weight\n", plan.entries.size(),
             plan.total_parameters, plan.total_bytes, static_cast<double>(plan.total_bytes) / kMiB,
             plan.total_parameters ? 8.0 * static_cast<double>(plan.total_bytes) / static_cast<double>(plan.total_parameters) : 0.0);
}

nlohmann::json plan_to_json(const MlxExportPlan& plan, const MlxRecipe& recipe) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& e : plan.entries) {
    nlohmann::json t = {{"name", e.name}, {"shape", e.source->shape}, {"dtype", e.dtype}, {"bytes", e.bytes},
                        {"parameters", e.parameters}};
    if (e.spec) t["quantization"] = {{"bits", e.spec->bits}, {"group_size", e.spec->group_size}};
    tensors.push_back(std::move(t));
  }
  return {{"recipe", recipe.name},
          {"quantization", plan.config.to_json()},
          {"tensors", tensors},
          {"totals",
           {{"bytes", plan.total_bytes},
            {"parameters", plan.total_parameters},
            {"bits_per_weight", plan.total_parameters ? 8.0 * static_cast<double>(plan.total_bytes) /
                                                            static_cast<double>(plan.total_parameters)
                                                      : 0.0}}}};
}

// The recipe and settings a request names (options.recipe may point into from_file).
void prepare(const MlxQuantizeRequest& r, std::optional<MlxRecipe>& from_file, MlxExportOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(r.source, ec)) {
    fail("{}: --format mlx converts a Hugging Face directory (config.json and safetensors), not a GGUF file", r.source);
  }
  if (!r.dtype.empty() && r.dtype != "float16" && r.dtype != "bfloat16" && r.dtype != "float32") {
    fail("--dtype {}: must be float16, bfloat16 or float32", r.dtype);
  }
  options.settings = r.settings;
  options.dtype = r.dtype;
  options.threads = r.threads;
  // A built-in method first; the recipe file is read only for a method it must name (with
  // --format gguf,mlx the file may be the GGUF side's).
  if (const auto bits = uniform_bits(r.method)) {
    options.settings.bits = *bits;
    options.recipe = find_builtin_mlx_recipe(r.mixed_precision ? "mixed" : "uniform");
  } else if (r.method.starts_with("mixed_") && find_builtin_mlx_recipe(r.method) != nullptr) {
    options.recipe = find_builtin_mlx_recipe(r.method);
  } else if (!r.recipe_file.empty() && (from_file = load_mlx_recipe_file(r.recipe_file))->name == r.method) {
    options.recipe = &*from_file;
  } else {
    fail("--method {}: not an MLX method (2bit, 3bit, 4bit, 5bit, 6bit, 8bit, mixed_2_6, mixed_3_4, mixed_3_6, "
         "mixed_4_6, or the name of --recipe FILE)", r.method);
  }
  if (const auto problem = mlx_spec_problem({options.settings.bits, options.settings.group_size})) {
    fail("--method {}: {}", r.method, *problem);
  }
}

}  // namespace

void validate_mlx_request(const MlxQuantizeRequest& r) {
  std::optional<MlxRecipe> from_file;
  MlxExportOptions options;
  prepare(r, from_file, options);
  (void)plan_mlx_export(HfCheckpoint::open(r.source), options);
}

void run_quantize_mlx(const MlxQuantizeRequest& r) {
  std::optional<MlxRecipe> from_file;
  MlxExportOptions options;
  prepare(r, from_file, options);
  const HfCheckpoint checkpoint = HfCheckpoint::open(r.source);
  const MlxExportPlan plan = plan_mlx_export(checkpoint, options);
  if (r.dry_run) {
    if (r.json) print_json(plan_to_json(plan, *options.recipe));
    else print_plan(plan, *options.recipe);
    return;
  }
  if (r.output.empty()) fail("--output is required (the directory to write the MLX checkpoint into)");
  write_mlx_export(checkpoint, plan, options, r.output);
  const double bpw = 8.0 * static_cast<double>(plan.total_bytes) / static_cast<double>(std::max<uint64_t>(1, plan.total_parameters));
  if (r.json) {
    print_json({{"output", r.output}, {"recipe", options.recipe->name}, {"bytes", plan.total_bytes},
                {"bits_per_weight", bpw}});
  } else {
    fmt::print("wrote {} (MLX {}, {:.3f} bits per weight, {:.2f} MiB)\n", r.output, options.recipe->name, bpw,
               static_cast<double>(plan.total_bytes) / kMiB);
  }
}

}  // namespace lp::cli
