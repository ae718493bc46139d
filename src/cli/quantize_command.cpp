#include <fmt/core.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "formats/hub_cache.h"
#include "cli/quantize_mlx.h"
#include "convert/hf_source.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/text.h"
#include "core/units.h"
#include "quant/expert_allocation.h"
#include "quant/imatrix.h"
#include "quant/quantize_model.h"

namespace lp::cli {
namespace {

struct QuantizeArgs {
  std::string source;
  std::string methods;
  std::string format = "gguf";
  std::string output;
  std::string recipe_file;
  std::string imatrix;
  std::vector<std::string> tensor_types;
  std::string output_tensor_type;
  std::string token_embedding_type;
  std::vector<std::string> override_kv;
  bool pure = false;
  bool expert_balanced = false;
  bool architecture_aware = false;
  bool dry_run = false;
  bool json = false;
  unsigned threads = default_thread_count();
  // --format mlx
  int group_size = 64;
  bool mixed_precision = false;
  int embedding_bits = 6;
  int output_bits = 6;
  std::string dtype;
  // --format gguf,mlx: seed 004's layout, DIR/gguf/model-q4_k_m.gguf beside DIR/mlx/model-4bit/.
  bool dual_layout = false;
};

// --architecture-aware: method M becomes its expert-aware mixture M-EA (built-in recipe data:
// attention and shared experts kept at more bits), with each stacked expert tensor's type
// chosen by the allocator so that the whole file is no larger than plain M's.
const Recipe* architecture_aware_recipe(const QuantSource& source, const std::vector<const Recipe*>& recipes,
                                        QuantizeSettings& settings, const ImportanceMatrix& importance, bool quiet) {
  if (recipes.size() != 1) fail("--architecture-aware takes one method at a time");
  const Recipe& plain = *recipes.front();
  const Recipe* aware = find_builtin_recipe(plain.name + "-EA");
  if (aware == nullptr) fail("--architecture-aware: {} has no expert-aware mixture (Q4_K_M and Q3_K_M have)", plain.name);
  const auto plan = plan_for(source, *aware, settings);
  if (std::ranges::none_of(plan, is_stacked_expert_tensor)) {
    fail("--architecture-aware: {} has no stacked expert tensors (it is not a mixture of experts)", source.description());
  }
  uint64_t budget = 0;
  for (const auto& t : plan_for(source, plain, settings)) budget += t.n_bytes;
  uint64_t fixed = 0;
  for (const auto& t : plan) fixed += is_stacked_expert_tensor(t) ? 0 : t.n_bytes;
  if (fixed >= budget) fail("--architecture-aware: {}'s other tensors alone fill {}'s size", aware->name, plain.name);
  static constexpr GgmlType kLadder[] = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,
                                         GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_0};
  const ExpertAllocation alloc = allocate_expert_types(source, plan, budget - fixed, importance, kLadder, settings.threads);
  // The choices go first among the --tensor-type patterns, each matching its tensor only.
  std::vector<std::pair<NamePattern, GgmlType>> chosen;
  for (const auto& c : alloc.choices) {
    std::string exact = "^";
    for (char ch : c.name) exact += ch == '.' ? std::string("\\.") : std::string(1, ch);
    chosen.emplace_back(NamePattern(exact + "$", "--architecture-aware"), c.type);
  }
  settings.options.tensor_types.insert(settings.options.tensor_types.begin(), chosen.begin(), chosen.end());
  if (!quiet) {
    fmt::print(stderr, "architecture-aware {}: experts {:.1f} of {:.1f} MiB (the file no larger than {}'s {:.1f} MiB)\n",
               aware->name, static_cast<double>(alloc.used_bytes) / kMiB, static_cast<double>(alloc.budget_bytes) / kMiB,
               plain.name, static_cast<double>(budget) / kMiB);
    for (const auto& c : alloc.choices) fmt::print(stderr, "  {:<32} {}\n", c.name, ggml_type_traits(c.type).name);
  }
  return aware;
}

GgmlType parse_target_type(const std::string& name, const char* flag) {
  const auto t = ggml_type_from_name(name);
  if (!t || !is_weight_type(*t)) fail("{} {}: not a type we can quantize to", flag, name);
  return *t;
}

std::string model_stem(const std::string& source) {
  std::filesystem::path p(source);
  std::string stem = std::filesystem::is_directory(p) ? model_folder_name(p) : p.stem().string();
  static const std::regex split_suffix(R"(-\d{5}-of-\d{5}$)");
  return std::regex_replace(stem, split_suffix, "");
}

void print_plan(const std::string& method, const std::vector<PlannedTensor>& plan) {
  fmt::print("plan for {}:\n", method);
  size_t width = 4;
  for (const auto& t : plan) width = std::max(width, t.name.size());
  fmt::print("  {:<{}}  {:<22} {:>6} -> {:<6} {:>12}\n", "name", width, "shape", "from", "to", "bytes");
  uint64_t bytes = 0, params = 0, fallbacks = 0;
  for (const auto& t : plan) {
    std::string shape = "[";
    for (size_t d = 0; d < t.shape.size(); ++d) shape += (d ? ", " : "") + std::to_string(t.shape[d]);
    shape += "]";
    fmt::print("  {:<{}}  {:<22} {:>6} -> {:<6} {:>12}{}\n", t.name, width, shape, ggml_type_traits(t.source_type).name,
               ggml_type_traits(t.type).name, t.n_bytes, t.fell_back ? "  (row length fallback)" : "");
    bytes += t.n_bytes;
    params += t.n_elements;
    fallbacks += t.fell_back ? 1 : 0;
  }
  fmt::print("  total: {} tensors, {} parameters, {} bytes ({:.2f} MiB), {:.4f} bits per weight, {} fallback(s)\n\n",
             plan.size(), params, bytes, bytes / kMiB, params ? 8.0 * bytes / params : 0.0, fallbacks);
}

nlohmann::json plan_to_json(const std::vector<PlannedTensor>& plan) {
  nlohmann::json tensors = nlohmann::json::array();
  uint64_t bytes = 0, params = 0;
  for (const auto& t : plan) {
    tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"source_type", ggml_type_traits(t.source_type).name},
                       {"type", ggml_type_traits(t.type).name}, {"bytes", t.n_bytes}, {"fallback", t.fell_back}});
    bytes += t.n_bytes;
    params += t.n_elements;
  }
  return {{"tensors", tensors},
          {"totals", {{"bytes", bytes}, {"parameters", params}, {"bits_per_weight", params ? 8.0 * bytes / params : 0.0}}}};
}

MlxQuantizeRequest mlx_request(const QuantizeArgs& a, const std::string& method, const std::string& output) {
  return {a.source, method, a.recipe_file, a.dtype, output, MlxRecipeSettings{4, a.group_size, a.embedding_bits, a.output_bits},
          a.mixed_precision, a.dry_run, a.json, std::max(1u, a.threads)};
}

void run_quantize(const QuantizeArgs& a);

// --format gguf,mlx --method Q4_K_M:4bit[,Q8_0:8bit]: every pair's GGUF file and MLX directory,
// from the same Hugging Face directory (its mapped files read once per format).
void run_dual_quantize(const QuantizeArgs& a) {
  if (a.output.empty() && !a.dry_run) fail("--output is required (the directory that gets gguf/ and mlx/)");
  std::string gguf_methods;
  std::vector<std::string> mlx_methods;
  for (const auto& pair : split_commas(a.methods)) {
    const auto colon = pair.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size()) {
      fail("--method {}: with --format gguf,mlx each method is GGUF:MLX, e.g. Q4_K_M:4bit", pair);
    }
    gguf_methods += (gguf_methods.empty() ? "" : ",") + pair.substr(0, colon);
    mlx_methods.push_back(pair.substr(colon + 1));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(a.source, ec)) {
    fail("{}: --format gguf,mlx converts a Hugging Face directory (config.json and safetensors), not a GGUF file", a.source);
  }
  const std::filesystem::path out(a.output);
  // The MLX plans first: they check every MLX method before anything is written.
  for (const auto& m : mlx_methods) {
    auto dry = mlx_request(a, m, "");
    dry.dry_run = true;
    if (!a.dry_run) validate_mlx_request(dry);
  }
  for (const auto& m : mlx_methods) {
    const std::string dir = (out / "mlx" / fmt::format("model-{}{}", m, a.mixed_precision ? "-mixed" : "")).string();
    if (!a.dry_run) std::filesystem::create_directories(out / "mlx", ec);
    run_quantize_mlx(mlx_request(a, m, dir));
  }
  QuantizeArgs gguf = a;
  gguf.format = "gguf";
  gguf.methods = gguf_methods;
  gguf.output = (out / "gguf").string();
  gguf.dual_layout = true;
  run_quantize(gguf);
}

void run_quantize(const QuantizeArgs& a) {
  if (a.format == "mlx") return run_quantize_mlx(mlx_request(a, a.methods, a.output));
  if (a.format == "gguf,mlx" || a.format == "mlx,gguf") return run_dual_quantize(a);
  if (a.format != "gguf") fail("--format {}: must be gguf, mlx or gguf,mlx", a.format);
  std::error_code ec;
  const auto source = std::filesystem::is_directory(a.source, ec) ? open_hf_source(a.source) : open_gguf_source(a.source);

  // The recipe file is read only when a method is not built in (with --format gguf,mlx it may be
  // the MLX side's).
  std::vector<Recipe> user_recipes;
  const bool names_file = std::ranges::any_of(split_commas(a.methods), [](const std::string& m) {
    return find_builtin_recipe(m) == nullptr;
  });
  if (!a.recipe_file.empty() && (names_file || !a.dual_layout)) user_recipes.push_back(load_recipe_file(a.recipe_file));
  std::vector<const Recipe*> recipes;
  for (const auto& m : split_commas(a.methods)) {
    if (!user_recipes.empty() && iequals(m, user_recipes[0].name)) {
      recipes.push_back(&user_recipes[0]);
    } else if (const Recipe* r = find_builtin_recipe(m)) {
      recipes.push_back(r);
    } else {
      fail("--method {}: unknown method (built in: Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_0, Q4_1, Q4_K_S, Q4_K_M, Q5_0, "
           "Q5_1, Q5_K_S, Q5_K_M, Q6_K, Q8_0, F16, BF16, F32; or the name of --recipe FILE)", m);
    }
  }
  if (recipes.empty()) fail("--method needs at least one method, e.g. Q4_K_M");

  QuantizeSettings settings;
  settings.threads = std::max(1u, a.threads);
  settings.options.pure = a.pure;
  for (const auto& spec : a.tensor_types) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) fail("--tensor-type '{}' must look like PATTERN=TYPE", spec);
    std::string pattern = spec.substr(0, eq);
    std::ranges::transform(pattern, pattern.begin(), [](unsigned char c) { return std::tolower(c); });
    settings.options.tensor_types.emplace_back(NamePattern(pattern, "--tensor-type '" + spec + "'"),
                                               parse_target_type(spec.substr(eq + 1), "--tensor-type"));
  }
  if (!a.output_tensor_type.empty()) settings.options.output_type = parse_target_type(a.output_tensor_type, "--output-tensor-type");
  if (!a.token_embedding_type.empty()) {
    settings.options.token_embedding_type = parse_target_type(a.token_embedding_type, "--token-embedding-type");
  }
  for (const auto& kv : a.override_kv) settings.override_kv.push_back(parse_override_kv(kv));
  ImportanceMatrix importance;
  if (!a.imatrix.empty()) {
    importance = load_imatrix(a.imatrix);
    settings.importance = &importance;
    settings.options.has_imatrix = true;
  }

  if ((a.expert_balanced || a.architecture_aware) && a.imatrix.empty()) {
    fail("--expert-balanced and --architecture-aware need --imatrix (per-expert statistics: run `imatrix` first)");
  }
  if (a.expert_balanced) balance_expert_importance(importance);
  if (a.architecture_aware) recipes = {architecture_aware_recipe(*source, recipes, settings, importance, a.json)};

  const bool lossy = std::ranges::any_of(source->tensors(), [](const PlanInput& t) {
    return ggml_type_traits(t.source_type).block_size > 1;
  });
  if (lossy) {
    fmt::print(stderr, "warning: {} is already quantized; quantizing it again loses more quality than starting "
               "from F16/BF16/F32 weights\n", source->description());
  }

  if (a.dry_run) {
    nlohmann::json all = nlohmann::json::object();
    for (const Recipe* r : recipes) {
      const auto plan = plan_for(*source, *r, settings);
      if (a.json) all[r->name] = plan_to_json(plan);
      else print_plan(r->name, plan);
    }
    if (a.json) print_json(all);
    return;
  }
  if (a.output.empty()) fail("--output is required (a .gguf file for one method, or a directory)");
  std::vector<QuantizeTarget> targets;
  const std::filesystem::path out(a.output);
  const bool single_file = recipes.size() == 1 && out.extension() == ".gguf";
  if (!single_file) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec || !std::filesystem::is_directory(out)) fail("cannot use {} as an output directory", out.string());
  }
  for (const Recipe* r : recipes) {
    std::string lower = r->name;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string name = a.dual_layout ? fmt::format("model-{}.gguf", lower)
                                           : fmt::format("{}-{}.gguf", model_stem(a.source), r->name);
    targets.push_back({r, single_file ? out : out / name});
  }
  quantize_model(*source, targets, settings);
  for (const auto& t : targets) fmt::print("wrote {} ({})\n", t.output.string(), t.recipe->name);
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto a = std::make_shared<QuantizeArgs>();
  auto* cmd = app.add_subcommand("quantize", "Quantize a model to GGUF files (llama.cpp-compatible mixtures) and MLX checkpoints (mlx-lm's)");
  add_model_option(cmd, "source", a->source, "GGUF file (F32/F16/BF16 or any readable type) or Hugging Face directory (llama, qwen2, qwen3, qwen3_moe, gemma3, phi3, gpt_oss)")->required();
  cmd->add_option("--method,-m", a->methods, "File type(s), comma-separated: Q4_K_M,Q5_K_M,... (read once, written each); MLX: 4bit, 8bit, ..., mixed_4_6")
      ->required();
  cmd->add_option("--format", a->format,
                  "Output format: gguf, mlx (an mlx-lm checkpoint directory), or gguf,mlx (both: --method Q4_K_M:4bit, "
                  "into DIR/gguf/ and DIR/mlx/)")->default_val("gguf");
  cmd->add_option("--group-size", a->group_size, "MLX: values per scale and bias (32, 64, 128)")->default_val(64);
  cmd->add_flag("--mixed-precision", a->mixed_precision,
                "MLX: the body at --method's bits, embeddings and output at --embedding-bits/--output-bits");
  cmd->add_option("--embedding-bits", a->embedding_bits, "MLX --mixed-precision: bits of the token embeddings")->default_val(6);
  cmd->add_option("--output-bits", a->output_bits, "MLX --mixed-precision: bits of the output projection (lm_head)")->default_val(6);
  cmd->add_option("--dtype", a->dtype, "MLX: float16, bfloat16 or float32 for float tensors, scales and biases (default: as the source)");
  cmd->add_option("--output,-o", a->output, "Output .gguf (one method) or directory (named MODEL-METHOD.gguf)");
  cmd->add_option("--recipe", a->recipe_file, "A recipe file (JSON, the format of the built-in ones); use its name as a method");
  cmd->add_option("--imatrix", a->imatrix, "Importance matrix (llama-imatrix's GGUF): weights the error each tensor's quantizer minimizes");
  cmd->add_option("--tensor-type", a->tensor_types, "PATTERN=TYPE: tensors whose name matches PATTERN get TYPE (repeatable)");
  cmd->add_option("--output-tensor-type", a->output_tensor_type, "Type of output.weight");
  cmd->add_option("--token-embedding-type", a->token_embedding_type, "Type of token_embd.weight");
  cmd->add_option("--override-kv", a->override_kv, "KEY=TYPE:VALUE metadata to set in the output (repeatable)");
  cmd->add_flag("--pure", a->pure, "No mixture: every quantizable tensor gets the method's base type");
  cmd->add_flag("--expert-balanced", a->expert_balanced,
                "MoE: pull rarely routed experts' importance statistics toward their layer's (needs --imatrix)");
  cmd->add_flag("--architecture-aware", a->architecture_aware,
                "MoE: the method's expert-aware mixture (attention at more bits) with each layer's expert types "
                "chosen by routing frequency and measured error, no larger than the plain method (needs --imatrix)");
  cmd->add_flag("--dry-run", a->dry_run, "Print every tensor's planned type and size, then the totals; write nothing");
  cmd->add_flag("--json", a->json, "With --dry-run: print the plans as JSON");
  cmd->add_option("-t,--threads", a->threads, "Threads")->default_val(default_thread_count());
  cmd->callback([a] { run_quantize(*a); });
}

}  // namespace lp::cli
