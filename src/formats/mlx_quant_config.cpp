#include "formats/mlx_quant_config.h"

#include "core/error.h"

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

}  // namespace lp
