#include "decide/device_catalog.h"

#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/host_info.h"
#include "core/units.h"
#include "formats/json_guard.h"
#include "kernels/kernel_table.h"

namespace lp::decide {

// Generated at build time from data/devices.json (see src/CMakeLists.txt).
extern const char* const kBuiltinDevicesJson;

namespace {

using nlohmann::json;

double number(const json& d, const char* key, const std::string& where) {
  const auto it = d.find(key);
  if (it == d.end()) fail("{} has no \"{}\"", where, key);
  if (!it->is_number() || !std::isfinite(it->get<double>())) fail("{} has \"{}\" that is not a number", where, key);
  return it->get<double>();
}

std::optional<double> optional_number(const json& d, const char* key, const std::string& where) {
  const auto it = d.find(key);
  if (it == d.end() || it->is_null()) return std::nullopt;
  const double v = number(d, key, where);
  if (v < 0) fail("{} has a negative \"{}\" ({})", where, key, v);
  return v;
}

std::string text(const json& d, const char* key, const std::string& where, bool required = true) {
  const auto it = d.find(key);
  if (it == d.end() || it->is_null()) {
    if (required) fail("{} has no \"{}\"", where, key);
    return {};
  }
  if (!it->is_string() || it->get<std::string>().empty()) fail("{} has \"{}\" that is not a non-empty string", where, key);
  return it->get<std::string>();
}

}  // namespace

const Device* DeviceCatalog::find(std::string_view name) const {
  for (const auto& d : devices)
    if (d.name == name) return &d;
  return nullptr;
}

std::string DeviceCatalog::names() const {
  std::string s;
  for (const auto& d : devices) s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

std::vector<Device> parse_devices(const json& j, const std::string& source) {
  if (!j.is_object() || !j.contains("devices") || !j["devices"].is_array())
    fail("{} is not a device catalog: it has no \"devices\" list", source);
  if (j["devices"].size() > 10000) fail("{} lists {} devices, more than the 10000 a catalog may hold", source, j["devices"].size());
  std::vector<Device> out;
  for (size_t i = 0; i < j["devices"].size(); ++i) {
    const json& d = j["devices"][i];
    const std::string at = fmt::format("{}: device {}", source, i + 1);
    if (!d.is_object()) fail("{} is not an object", at);
    Device dev;
    dev.name = text(d, "name", at);
    const std::string where = fmt::format("{}: device \"{}\"", source, dev.name);
    dev.label = text(d, "label", where, false);
    if (dev.label.empty()) dev.label = dev.name;
    dev.kind = text(d, "kind", where);
    dev.memory_gb = number(d, "memory_gb", where);
    dev.usable_gb = number(d, "usable_gb", where);
    dev.bandwidth_gbs = number(d, "bandwidth_gbs", where);
    if (dev.memory_gb <= 0) fail("{} has memory_gb {}, which must be positive", where, dev.memory_gb);
    if (dev.usable_gb <= 0 || dev.usable_gb > dev.memory_gb)
      fail("{} has usable_gb {}, which must be positive and at most memory_gb ({})", where, dev.usable_gb, dev.memory_gb);
    if (dev.bandwidth_gbs <= 0) fail("{} has bandwidth_gbs {}, which must be positive", where, dev.bandwidth_gbs);
    dev.fp16_tflops = optional_number(d, "fp16_tflops", where);
    dev.usd_per_hour = optional_number(d, "usd_per_hour", where);
    dev.watts = optional_number(d, "watts", where);
    dev.source = text(d, "source", where);
    for (const auto& seen : out)
      if (seen.name == dev.name) fail("{} lists device \"{}\" twice", source, dev.name);
    if (dev.name == "this") fail("{}: \"this\" is the name of the machine the tool runs on; pick another name", where);
    out.push_back(std::move(dev));
  }
  return out;
}

DeviceCatalog builtin_device_catalog() {
  return {parse_devices(parse_untrusted_json(kBuiltinDevicesJson, "data/devices.json"), "data/devices.json")};
}

void add_devices_file(DeviceCatalog& catalog, const std::filesystem::path& file) {
  for (Device& d : parse_devices(read_json_file(file.string()), file.string())) {
    bool replaced = false;
    for (Device& existing : catalog.devices) {
      if (existing.name == d.name) {
        existing = d;
        replaced = true;
      }
    }
    if (!replaced) catalog.devices.push_back(std::move(d));
  }
}

Device this_machine(double measured_bandwidth_gbs) {
  const HostInfo host = host_info();
  Device d;
  d.name = "this";
  d.kind = "host";
  d.memory_gb = static_cast<double>(host.memory_bytes) / kGiB;
  d.usable_gb = static_cast<double>(host.available_bytes) / kGiB;
  d.bandwidth_gbs = measured_bandwidth_gbs;
  d.cores = host.logical_cores;
  d.isa = kernel_isa_name(active_kernel_isa());
  d.label = fmt::format("this machine ({}, {} cores, {})", host.cpu_model.empty() ? "unknown CPU" : host.cpu_model, d.cores, d.isa);
  d.source = "measured now: /proc/meminfo (MemTotal, MemAvailable), read bandwidth over a buffer on every core";
  d.measured = true;
  return d;
}

std::vector<const Device*> select_devices(const DeviceCatalog& catalog, const std::string& spec) {
  std::vector<const Device*> out;
  if (spec == "all") {
    for (const auto& d : catalog.devices) out.push_back(&d);
    return out;
  }
  size_t begin = 0;
  while (begin <= spec.size()) {
    const size_t comma = std::min(spec.find(',', begin), spec.size());
    const std::string name = spec.substr(begin, comma - begin);
    const Device* d = catalog.find(name);
    if (!d) fail("unknown device \"{}\" (known: {}, or all)", name, catalog.names());
    out.push_back(d);
    begin = comma + 1;
  }
  return out;
}

json device_json(const Device& d) {
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json j = {{"name", d.name}, {"label", d.label}, {"kind", d.kind}, {"memory_gb", d.memory_gb}, {"usable_gb", d.usable_gb},
            {"bandwidth_gbs", d.bandwidth_gbs}, {"fp16_tflops", opt(d.fp16_tflops)}, {"usd_per_hour", opt(d.usd_per_hour)},
            {"watts", opt(d.watts)}, {"source", d.source}, {"measured", d.measured}};
  if (d.measured) j["cores"] = d.cores, j["isa"] = d.isa;
  return j;
}

}  // namespace lp::decide
