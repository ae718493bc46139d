#include "quant/recipes.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text.h"
#include "formats/json_guard.h"
#include "quant/builtin_recipes.h"
#include "quant/file_types.h"

namespace lp {
namespace {

constexpr std::array kKnownConditions = {"gqa>=4", "experts==8", "llama70b", "imatrix", "no_imatrix",
                                         "row_not_multiple_of_base_block", "stacked_experts"};
// Indexed by TensorClass (all but `other`).
constexpr std::array kClassNames = {"output", "token_embd", "attn_qkv", "attn_kv_b", "attn_v", "attn_k", "attn_q",
                                    "attn_output", "ffn_up", "ffn_gate", "ffn_down"};

GgmlType parse_type(const nlohmann::json& j, const std::string& source) {
  if (!j.is_string()) fail("{}: a type must be a string such as \"Q4_K\"", source);
  const auto t = ggml_type_from_name(j.get<std::string>());
  if (!t) fail("{}: '{}' is not a GGML type", source, j.get<std::string>());
  if (!is_weight_type(*t)) fail("{}: quantizing to {} is not supported", source, j.get<std::string>());
  return *t;
}

bool is_attn_v_like(TensorClass c) {
  return c == TensorClass::attn_v || c == TensorClass::attn_qkv || c == TensorClass::attn_kv_b;
}


std::optional<uint64_t> layer_of(std::string_view name) {
  if (!name.starts_with("blk.")) return std::nullopt;
  uint64_t layer = 0;
  size_t i = 4;
  if (i >= name.size() || name[i] < '0' || name[i] > '9') return std::nullopt;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) layer = layer * 10 + static_cast<uint64_t>(name[i] - '0');
  return layer;
}

// Where a tensor stands among its kind, for the layer rules: attn_v-like tensors are counted
// among themselves and dense feed-forward tensors per class, both in llama-quantize's walking
// order (by layer); mixture-of-experts models take the layer from the name, as llama.cpp does.
struct Position {
  uint64_t index = 0;
  uint64_t count = 1;
};

// The fallback llama.cpp applies when a row is not a whole number of blocks of the chosen type.
GgmlType shape_fallback(GgmlType type, uint64_t row, bool& fell_back) {
  if (row % ggml_type_traits(type).block_size == 0) return type;
  fell_back = true;
  GgmlType next;
  switch (type) {
    case GgmlType::Q2_K: case GgmlType::Q3_K: next = GgmlType::Q4_0; break;
    case GgmlType::Q4_K: next = GgmlType::Q5_0; break;
    case GgmlType::Q5_K: next = GgmlType::Q5_1; break;
    case GgmlType::Q6_K: next = GgmlType::Q8_0; break;
    default: next = GgmlType::F16; break;
  }
  return row % ggml_type_traits(next).block_size == 0 ? next : GgmlType::F16;
}

bool is_quantized(GgmlType t) { return ggml_type_traits(t).block_size > 1; }

}  // namespace

bool is_weight_type(GgmlType type) {
  return ggml_type_traits(type).quantize != nullptr && type != GgmlType::Q8_K && !is_engine_only_type(type);
}

TensorClass classify_tensor(std::string_view name) {
  if (name == "output.weight") return TensorClass::output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return TensorClass::token_embd;
  const auto has = [name](std::string_view s) { return name.find(s) != std::string_view::npos; };
  if (has("attn_qkv.weight")) return TensorClass::attn_qkv;
  if (has("attn_kv_b.weight")) return TensorClass::attn_kv_b;
  if (has("attn_v.weight")) return TensorClass::attn_v;
  if (has("attn_k.weight")) return TensorClass::attn_k;
  if (has("attn_q.weight")) return TensorClass::attn_q;
  if (has("attn_output.weight")) return TensorClass::attn_output;
  if (has("ffn_up")) return TensorClass::ffn_up;
  if (has("ffn_gate")) return TensorClass::ffn_gate;
  if (has("ffn_down")) return TensorClass::ffn_down;
  return TensorClass::other;
}

bool tensor_is_quantizable(std::string_view name, const std::vector<uint64_t>& shape) {
  size_t dims = shape.size();
  while (dims > 1 && shape[dims - 1] == 1) --dims;  // ggml_n_dims ignores trailing 1s
  if (dims < 2 || !name.ends_with("weight")) return false;
  for (const std::string_view never : {"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj"}) {
    if (name.find(never) != std::string_view::npos) return false;
  }
  return true;
}

Recipe parse_recipe(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("base")) {
    fail("{}: a recipe is an object with \"name\", \"base\" and \"rules\"", source);
  }
  Recipe r;
  r.name = j["name"].get<std::string>();
  r.base = parse_type(j["base"], source);
  if (const FileTypeInfo* ft = find_file_type(r.name)) r.file_type = ft->id;
  if (j.contains("file_type") && j["file_type"].is_number_unsigned()) r.file_type = j["file_type"].get<uint32_t>();
  const auto rules = j.value("rules", nlohmann::json::array());
  if (!rules.is_array()) fail("{}: \"rules\" must be a list", source);
  for (const auto& item : rules) {
    if (!item.is_object() || !item.contains("tensor") || !item["tensor"].is_string() || !item.contains("type")) {
      fail("{}: each rule of recipe {} needs \"tensor\" and \"type\"", source, r.name);
    }
    RecipeRule rule;
    rule.tensor = item["tensor"].get<std::string>();
    if (rule.tensor.starts_with("regex:")) {
      rule.pattern.emplace(rule.tensor.substr(6), source);
    } else if (std::ranges::find(kClassNames, rule.tensor) == kClassNames.end()) {
      fail("{}: unknown tensor class '{}' (use one of output, token_embd, attn_v, attn_k, attn_q, attn_output, "
           "ffn_up, ffn_gate, ffn_down, or regex:PATTERN)", source, rule.tensor);
    }
    // Checked before reading: json::value() throws a type_error, not an InputError, when the
    // field is there with another type (found by fuzz_recipe: "layers": ["gqa>=0"]).
    const auto layers = item.find("layers");
    if (layers != item.end() && !layers->is_string()) {
      fail("{}: \"layers\" of a rule must be a string (all, more_bits, first_eighth, first_sixteenth or first:N)", source);
    }
    rule.layers = layers == item.end() ? std::string("all") : layers->get<std::string>();
    const bool first_n = rule.layers.starts_with("first:") && rule.layers.size() > 6 &&
                         std::all_of(rule.layers.begin() + 6, rule.layers.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!first_n && rule.layers != "all" && rule.layers != "more_bits" && rule.layers != "first_eighth" &&
        rule.layers != "first_sixteenth") {
      fail("{}: unknown layer rule '{}' (all, more_bits, first_eighth, first_sixteenth or first:N)", source, rule.layers);
    }
    if (item.contains("when") && !item["when"].is_array()) fail("{}: \"when\" of a rule must be a list", source);
    for (const auto& c : item.value("when", nlohmann::json::array())) {
      if (!c.is_string() || std::ranges::find(kKnownConditions, c.get<std::string>()) == kKnownConditions.end()) {
        fail("{}: unknown condition {} in recipe {}", source, c.dump(), r.name);
      }
      rule.when.push_back(c.get<std::string>());
    }
    rule.type = parse_type(item["type"], source);
    r.rules.push_back(std::move(rule));
  }
  return r;
}

Recipe load_recipe_file(const std::string& path) { return parse_recipe(read_json_file(path), path); }

std::span<const Recipe> builtin_recipes() {
  static const std::vector<Recipe> recipes = [] {
    std::vector<Recipe> out;
    for (const auto& j : nlohmann::json::parse(kBuiltinRecipesJson)) out.push_back(parse_recipe(j, "built-in recipes"));
    return out;
  }();
  return recipes;
}

const Recipe* find_builtin_recipe(std::string_view name) {
  for (const auto& r : builtin_recipes()) {
    if (iequals(r.name, name)) return &r;
  }
  return nullptr;
}

bool use_more_bits(uint64_t i, uint64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

std::vector<PlannedTensor> plan_quantization(const std::vector<PlanInput>& tensors, const ModelShape& model,
                                             const QuantOptions& options) {
  const Recipe& recipe = *options.recipe;
  const uint64_t gqa = model.n_head_kv > 0 ? model.n_head / model.n_head_kv : 1;
  const bool moe = model.n_expert > 1;
  uint64_t n_attn_v = 0;
  for (const auto& t : tensors) n_attn_v += is_attn_v_like(classify_tensor(t.name)) ? 1 : 0;
  uint64_t i_attn_v = 0, i_ffn_down = 0, i_ffn_up = 0, i_ffn_gate = 0;

  auto position = [&](TensorClass c, const std::string& name) -> Position {
    if (is_attn_v_like(c)) return {i_attn_v, n_attn_v};
    uint64_t* counter = c == TensorClass::ffn_down ? &i_ffn_down : c == TensorClass::ffn_up ? &i_ffn_up
                        : c == TensorClass::ffn_gate ? &i_ffn_gate : nullptr;
    if (counter != nullptr && !moe) return {*counter, model.n_layer};
    return {layer_of(name).value_or(0), model.n_layer};
  };
  auto condition_holds = [&](const std::string& c, const PlanInput& t) {
    if (c == "gqa>=4") return gqa >= 4;
    if (c == "experts==8") return model.n_expert == 8;
    if (c == "llama70b") return model.architecture == "llama" && model.n_layer == 80;
    if (c == "imatrix") return options.has_imatrix;
    if (c == "no_imatrix") return !options.has_imatrix;
    if (c == "stacked_experts") return t.shape.size() >= 3 && t.shape[2] > 1;  // llama.cpp: ne[2] > 1
    return t.shape[0] % ggml_type_traits(recipe.base).block_size != 0;  // row_not_multiple_of_base_block
  };
  auto layers_hold = [](const std::string& rule, Position p) {
    if (rule == "all") return true;
    if (rule == "more_bits") return use_more_bits(p.index, p.count);
    if (rule == "first_eighth") return p.index < p.count / 8;
    if (rule == "first_sixteenth") return p.index < p.count / 16;
    return p.index < std::stoull(rule.substr(6));  // first:N
  };
  auto rule_matches = [&](const RecipeRule& rule, TensorClass c, const PlanInput& t, Position p) {
    bool tensor_match;
    if (rule.pattern) tensor_match = rule.pattern->matches(t.name);
    else if (rule.tensor == "output") tensor_match = c == TensorClass::output || (c == TensorClass::token_embd && model.tied_embeddings);
    else if (rule.tensor == "attn_v") tensor_match = is_attn_v_like(c);
    else tensor_match = c != TensorClass::other && rule.tensor == kClassNames[static_cast<size_t>(c)];
    return tensor_match && layers_hold(rule.layers, p) &&
           std::ranges::all_of(rule.when, [&](const std::string& w) { return condition_holds(w, t); });
  };

  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::ranges::stable_sort(order, [&](size_t a, size_t b) {
    const int64_t la = layer_of(tensors[a].name) ? static_cast<int64_t>(*layer_of(tensors[a].name)) : -1;
    const int64_t lb = layer_of(tensors[b].name) ? static_cast<int64_t>(*layer_of(tensors[b].name)) : -1;
    return la != lb ? la < lb : tensors[a].name < tensors[b].name;
  });

  std::vector<PlannedTensor> plan;
  for (const size_t index : order) {
    const PlanInput& t = tensors[index];
    PlannedTensor out{index, t.name, t.shape, t.source_type, t.source_type};
    const TensorClass c = classify_tensor(t.name);
    const Position p = position(c, t.name);
    if (!tensor_is_quantizable(t.name, t.shape)) {
      out.type = t.source_type;
    } else if (t.source_type == GgmlType::MXFP4 && !is_quantized(recipe.base)) {
      // gpt-oss ships its experts in MXFP4: a float file type keeps them as they are (as
      // llama.cpp's converter does) rather than expanding them to no benefit.
      out.type = t.source_type;
    } else if (options.token_embedding_type && c == TensorClass::token_embd) {
      out.type = *options.token_embedding_type;
    } else if (options.output_type && (c == TensorClass::output || (c == TensorClass::token_embd && model.tied_embeddings))) {
      out.type = *options.output_type;
    } else {
      out.type = recipe.base;
      if (is_quantized(recipe.base)) {
        const auto manual = std::ranges::find_if(options.tensor_types, [&](const auto& o) { return o.first.matches(t.name); });
        if (manual != options.tensor_types.end()) {
          out.type = manual->second;
        } else if (!options.pure) {
          const auto rule = std::ranges::find_if(recipe.rules, [&](const RecipeRule& r) { return rule_matches(r, c, t, p); });
          if (rule != recipe.rules.end()) out.type = rule->type;
        }
        out.type = shape_fallback(out.type, t.shape[0], out.fell_back);
      }
    }
    if (is_attn_v_like(c)) ++i_attn_v;
    if (c == TensorClass::ffn_down) ++i_ffn_down;
    if (c == TensorClass::ffn_up) ++i_ffn_up;
    if (c == TensorClass::ffn_gate) ++i_ffn_gate;
    out.n_elements = 1;
    for (const auto d : t.shape) out.n_elements *= d;
    const auto row = ggml_row_bytes(out.type, t.shape[0]);
    out.n_bytes = row ? *row * (out.n_elements / std::max<uint64_t>(t.shape[0], 1)) : 0;
    plan.push_back(std::move(out));
  }
  return plan;
}

}  // namespace lp
