#include "decide/deployment_data.h"

#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/json_guard.h"

namespace lp::decide {

// Generated at build time from data/deployment.json (see src/CMakeLists.txt).
extern const char* const kBuiltinDeploymentJson;

namespace {

using nlohmann::json;

struct Fields {
  const json& j;
  std::string where;
  const json& at(const char* key) const {
    if (!j.is_object() || !j.contains(key)) fail("{} has no \"{}\"", where, key);
    return j[key];
  }
  double positive(const char* key, bool zero_ok = false) const {
    const json& v = at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail("{} has \"{}\" that is not a number", where, key);
    const double x = v.get<double>();
    if (x < 0 || (!zero_ok && x == 0)) fail("{} has \"{}\" {}, which must be {}", where, key, x, zero_ok ? "0 or more" : "positive");
    return x;
  }
  std::string text(const char* key) const {
    const json& v = at(key);
    if (!v.is_string()) fail("{} has \"{}\" that is not a string", where, key);
    return v.get<std::string>();
  }
};

const json& list(const json& j, const char* key, const std::string& source) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_array() || j[key].empty())
    fail("{} has no \"{}\" list", source, key);
  return j[key];
}

}  // namespace

const ContextPreset& DeploymentData::preset(std::string_view name) const {
  std::string known;
  for (const auto& p : presets) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  fail("unknown preset \"{}\" (known: {})", name, known);
}

DeploymentData parse_deployment_data(const json& j, const std::string& source) {
  DeploymentData d;
  for (const json& p : list(j, "presets", source)) {
    const Fields f{p, fmt::format("{}: a preset", source)};
    d.presets.push_back({f.text("name"), static_cast<int64_t>(f.positive("ctx")), static_cast<int64_t>(f.positive("max_new")),
                         f.text("source")});
  }
  for (const json& n : list(j, "networks", source)) {
    const Fields f{n, fmt::format("{}: a network", source)};
    d.networks.push_back({f.text("name"), f.text("label"), f.positive("mbps"), f.text("source")});
  }
  for (const json& c : list(j, "cdn", source)) {
    const Fields f{c, fmt::format("{}: a CDN", source)};
    d.cdn.push_back({f.text("name"), f.text("label"), f.positive("usd_per_gb"), f.text("source")});
  }
  const Fields top{j, source};
  const Fields dl{top.at("downloads_per_user"), fmt::format("{}: downloads_per_user", source)};
  d.downloads = {dl.positive("first_install", true), dl.positive("redownload", true), dl.positive("ab_test", true), dl.text("source")};
  d.app_base_mb = top.positive("app_base_mb", true);
  d.device_storage_gb = top.positive("device_storage_gb");
  return d;
}

const DeploymentData& builtin_deployment_data() {
  static const DeploymentData data =
      parse_deployment_data(parse_untrusted_json(kBuiltinDeploymentJson, "data/deployment.json"), "data/deployment.json");
  return data;
}

}  // namespace lp::decide
