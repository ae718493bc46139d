#include "formats/mlx_quant_config.h"

#include <fmt/ranges.h>

#include <cstring>

#include "core/error.h"
#include "formats/safetensors.h"

namespace lp {
namespace {

MlxAffineSpec read_spec(const nlohmann::json& j, MlxAffineSpec defaults, const std::string& where,
                        const std::string& source) {
  MlxAffineSpec spec = defaults;
  for (const auto& [key, field] : {std::pair{"bits", &spec.bits}, std::pair{"group_size", &spec.group_size}}) {
    const auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_number_integer()) fail("{}: quantization {}: '{}' is not an integer", source, where, key);
    *field = it->get<int>();
  }
  if (const auto problem = mlx_spec_problem(spec)) fail("{}: quantization {}: {}", source, where, *problem);
  if (const auto mode = j.find("mode"); mode != j.end() && (!mode->is_string() || mode->get<std::string>() != "affine")) {
    fail("{}: quantization {}: mode {} is not supported (only MLX's affine quantization is)", source, where, mode->dump());
  }
  return spec;
}

}  // namespace

MlxAffineSpec MlxQuantConfig::spec_for(const std::string& path) const {
  const auto it = modules.find(path);
  return it != modules.end() && it->second ? *it->second : global;
}

nlohmann::json MlxQuantConfig::to_json() const {
  auto spec_json = [this](MlxAffineSpec s) {
    return nlohmann::json{{"group_size", s.group_size}, {"bits", s.bits}, {"mode", mode}};
  };
  nlohmann::json j = spec_json(global);
  for (const auto& [path, spec] : modules) j[path] = spec ? spec_json(*spec) : nlohmann::json(false);
  return j;
}

std::string MlxQuantConfig::label() const {
  int low = global.bits, high = global.bits;
  bool one_group = true;
  for (const auto& [path, spec] : modules) {
    if (!spec) continue;
    low = std::min(low, spec->bits);
    high = std::max(high, spec->bits);
    one_group = one_group && spec->group_size == global.group_size;
  }
  const std::string bits = low == high ? std::to_string(low) : fmt::format("{}/{}", low, high);
  return one_group ? fmt::format("MLX {}-bit g{}", bits, global.group_size) : fmt::format("MLX {}-bit", bits);
}

std::optional<MlxQuantConfig> parse_mlx_quant_config(const nlohmann::json& config, const std::string& source) {
  const auto entry = config.find("quantization");
  if (entry == config.end()) return std::nullopt;
  if (!entry->is_object()) fail("{}: \"quantization\" is not an object", source);
  MlxQuantConfig q;
  if (!entry->contains("bits") || !entry->contains("group_size")) {
    fail("{}: \"quantization\" needs the global \"bits\" and \"group_size\"", source);
  }
  q.global = read_spec(*entry, MlxAffineSpec{}, "(global)", source);
  for (const auto& [key, value] : entry->items()) {
    if (key == "bits" || key == "group_size" || key == "mode") continue;
    if (value.is_boolean()) {
      q.modules[key] = value.get<bool>() ? std::optional(q.global) : std::nullopt;
    } else if (value.is_object()) {
      q.modules[key] = read_spec(value, q.global, "'" + key + "'", source);
    } else {
      fail("{}: quantization '{}' is neither true/false nor an object of bits and group_size", source, key);
    }
  }
  return q;
}

std::optional<MlxQuantizedTensor> mlx_quantized_tensor(const SafetensorsModel& weights, const SafetensorsTensor& t,
                                                       const std::optional<MlxQuantConfig>& config,
                                                       const std::string& dir) {
  if (t.dtype->name != "U32" || !t.name.ends_with(".weight")) return std::nullopt;
  MlxQuantizedTensor q;
  q.levels = &t;
  q.module = t.name.substr(0, t.name.size() - std::strlen(".weight"));
  q.scales = weights.find(q.module + ".scales");
  q.biases = weights.find(q.module + ".biases");
  const std::string config_path = dir + "/config.json";
  if (!config) {
    fail("{}: tensor '{}' is packed uint32 (an MLX quantized checkpoint), but config.json has no \"quantization\" entry",
         dir, t.name);
  }
  if (q.scales == nullptr || q.biases == nullptr) {
    fail("{}: quantized tensor '{}' has no {}.scales and {}.biases beside it", dir, t.name, q.module, q.module);
  }
  q.spec = config->spec_for(q.module);
  const auto& w = t.shape;
  const auto& s = q.scales->shape;
  const auto bits = static_cast<uint64_t>(q.spec.bits), group = static_cast<uint64_t>(q.spec.group_size);
  if (w.size() != 2 || s.size() != 2 || q.biases->shape != s || s[0] != w[0] || !q.scales->dtype->is_float_convertible ||
      q.biases->dtype != q.scales->dtype || w[1] * 32 % bits != 0 || w[1] * 32 / bits != s[1] * group) {
    fail("{}: the quantization entry for '{}' ({} bits, group size {}) does not match its tensors (weight {}, "
         "scales {})", config_path, q.module, q.spec.bits, q.spec.group_size, fmt::join(w, "x"), fmt::join(s, "x"));
  }
  q.rows = w[0];
  q.columns = w[1] * 32 / bits;
  return q;
}

bool is_mlx_group_parameter(const SafetensorsModel& weights, const std::string& name) {
  for (const char* suffix : {".scales", ".biases"}) {
    if (!name.ends_with(suffix)) continue;
    const auto* weight = weights.find(name.substr(0, name.size() - std::strlen(suffix)) + ".weight");
    return weight != nullptr && weight->dtype->name == "U32";
  }
  return false;
}

}  // namespace lp
