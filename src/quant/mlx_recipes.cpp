#include "quant/mlx_recipes.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "quant/recipes.h"

namespace lp {
namespace {

// Seed 004's recipe and the rule set of mlx-lm's named recipes (mlx_lm/convert.py
// mixed_quant_predicate_builder): v_proj-like and down_proj modules in use_more_bits layers and
// the lm_head at the high width, the rest low.
const char* const kBuiltinMlxRecipesJson = R"json([
  {"name": "uniform", "rules": []},
  {"name": "mixed", "rules": [
    {"module": "embed_tokens", "bits": "embedding"},
    {"module": "lm_head", "bits": "output"}]}
])json";
const char* const kMlxLmMixedRulesJson = R"json([
  {"module": "v_proj|v_a_proj|v_b_proj", "layers": "more_bits", "bits": "high"},
  {"module": "down_proj", "layers": "more_bits", "bits": "high"},
  {"module": "lm_head", "bits": "high"}
])json";
struct NamedWidths {
  const char* name;
  int low, high;
};
constexpr NamedWidths kMlxLmMixed[] = {{"mixed_2_6", 2, 6}, {"mixed_3_4", 3, 4}, {"mixed_3_6", 3, 6}, {"mixed_4_6", 4, 6}};

std::optional<int> optional_int(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (!it->is_number_integer()) fail("{}: '{}' is not an integer", where, key);
  return it->get<int>();
}

uint64_t mlx_layer_index(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string part = path.substr(start, dot - start);
    if (!part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 10) {
      return std::stoull(part);
    }
    start = dot + 1;
  }
  return 0;
}

}  // namespace

MlxRecipe parse_mlx_recipe(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) fail("{}: an MLX recipe is a JSON object with a name and rules", source);
  MlxRecipe r;
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) fail("{}: the recipe has no name", source);
  r.name = name->get<std::string>();
  const std::string where = source + ": recipe " + r.name;
  r.low_bits = optional_int(j, "low", where);
  r.high_bits = optional_int(j, "high", where);
  for (const auto& b : {r.low_bits, r.high_bits}) {
    if (b && !mlx_bits_supported(*b)) fail("{}: {} bits is not a width MLX quantizes to (2, 3, 4, 5, 6 or 8)", where, *b);
  }
  if (const auto e = j.find("every_module_in_config"); e != j.end()) {
    if (!e->is_boolean()) fail("{}: 'every_module_in_config' is not true or false", where);
    r.every_module_in_config = e->get<bool>();
  }
  const auto rules = j.find("rules");
  if (rules == j.end() || !rules->is_array()) fail("{}: 'rules' is not a list", where);
  for (const auto& rule : *rules) {
    if (!rule.is_object() || !rule.contains("module") || !rule["module"].is_string()) {
      fail("{}: every rule needs a 'module' pattern", where);
    }
    MlxRule m;
    m.module = rule["module"].get<std::string>();
    m.pattern.emplace(m.module, where + " rule '" + m.module + "'");
    if (rule.contains("layers")) {
      if (!rule["layers"].is_string() || (rule["layers"] != "all" && rule["layers"] != "more_bits")) {
        fail("{}: rule '{}': layers must be \"all\" or \"more_bits\"", where, m.module);
      }
      m.layers = rule["layers"].get<std::string>();
    }
    if (rule.contains("quantize")) {
      if (!rule["quantize"].is_boolean()) fail("{}: rule '{}': 'quantize' is not true or false", where, m.module);
      m.quantize = rule["quantize"].get<bool>();
    }
    if (rule.contains("bits")) {
      const auto& b = rule["bits"];
      if (b.is_number_integer()) {
        if (!mlx_bits_supported(b.get<int>())) fail("{}: rule '{}': {} bits is not a width MLX has", where, m.module, b.dump());
        m.bits = std::to_string(b.get<int>());
      } else if (b.is_string() && (b == "low" || b == "high" || b == "embedding" || b == "output")) {
        m.bits = b.get<std::string>();
      } else {
        fail("{}: rule '{}': bits must be a number or \"low\", \"high\", \"embedding\", \"output\"", where, m.module);
      }
    }
    m.group_size = optional_int(rule, "group_size", where + " rule '" + m.module + "'");
    if (m.group_size && !mlx_group_size_supported(*m.group_size)) {
      fail("{}: rule '{}': group size {} is not 32, 64 or 128", where, m.module, *m.group_size);
    }
    r.rules.push_back(std::move(m));
  }
  return r;
}

const std::vector<MlxRecipe>& builtin_mlx_recipes() {
  static const std::vector<MlxRecipe> recipes = [] {
    std::vector<MlxRecipe> out;
    for (const auto& j : nlohmann::json::parse(kBuiltinMlxRecipesJson)) out.push_back(parse_mlx_recipe(j, "built-in"));
    for (const auto& m : kMlxLmMixed) {
      const nlohmann::json j = {{"name", m.name}, {"low", m.low}, {"high", m.high}, {"every_module_in_config", true},
                                {"rules", nlohmann::json::parse(kMlxLmMixedRulesJson)}};
      out.push_back(parse_mlx_recipe(j, "built-in"));
    }
    return out;
  }();
  return recipes;
}

const MlxRecipe* find_builtin_mlx_recipe(const std::string& name) {
  for (const auto& r : builtin_mlx_recipes()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

MlxRecipe load_mlx_recipe_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read recipe file {}", path);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) fail("{} is not valid JSON", path);
  return parse_mlx_recipe(j, path);
}

std::optional<MlxAffineSpec> choose_mlx_spec(const MlxRecipe& recipe, const MlxRecipeSettings& settings,
                                             const std::string& module_path, uint64_t layer_count) {
  const int low = recipe.low_bits.value_or(settings.bits);
  const int high = recipe.high_bits.value_or(settings.bits);
  for (const auto& rule : recipe.rules) {
    if (!rule.pattern->matches(module_path)) continue;
    if (rule.layers == "more_bits" && !use_more_bits(mlx_layer_index(module_path), layer_count)) continue;
    if (!rule.quantize) return std::nullopt;
    int bits = low;
    if (rule.bits == "high") bits = high;
    else if (rule.bits == "embedding") bits = settings.embedding_bits;
    else if (rule.bits == "output") bits = settings.output_bits;
    else if (rule.bits != "low") bits = std::stoi(rule.bits);
    return MlxAffineSpec{bits, rule.group_size.value_or(settings.group_size)};
  }
  return MlxAffineSpec{low, settings.group_size};
}

}  // namespace lp
