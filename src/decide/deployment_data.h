#pragma once
// The deployment side of a decision as data (data/deployment.json, built into the binary):
// context presets, download networks, CDN prices and how many downloads a user makes.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lp::decide {

struct ContextPreset {
  std::string name;
  int64_t ctx = 0;      // positions the KV cache holds
  int64_t max_new = 0;  // tokens one answer generates
  std::string source;
};

struct Network {
  std::string name, label;
  double mbps = 0;  // megabits per second
  std::string source;
};

struct CdnPrice {
  std::string name, label;
  double usd_per_gb = 0;
  std::string source;
};

struct DownloadsPerUser {
  double first_install = 0, redownload = 0, ab_test = 0;  // downloads per user per month
  std::string source;
  double total() const { return first_install + redownload + ab_test; }
};

struct DeploymentData {
  std::vector<ContextPreset> presets;
  std::vector<Network> networks;
  std::vector<CdnPrice> cdn;
  DownloadsPerUser downloads;
  double app_base_mb = 0;        // the app without the model
  double device_storage_gb = 0;  // the storage the share is taken of
  const ContextPreset& preset(std::string_view name) const;  // InputError naming the known ones
};

const DeploymentData& builtin_deployment_data();
// `source` names the file in errors; every field is required and checked.
DeploymentData parse_deployment_data(const nlohmann::json& j, const std::string& source);

}  // namespace lp::decide
