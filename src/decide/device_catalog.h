#pragma once
// The devices a model is judged against: a catalog kept as data (data/devices.json, built
// into the binary so the tool needs no install path), extended or overridden by a user's
// own file, plus this machine as measured now.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lp::decide {

struct Device {
  std::string name;   // what --device takes
  std::string label;  // what a table shows
  std::string kind;   // phone, apple, laptop, desktop, board, gpu, host
  double memory_gb = 0;     // RAM, unified memory or VRAM (GiB)
  double usable_gb = 0;     // what a model may take (GiB): free RAM after the OS, VRAM after the driver
  double bandwidth_gbs = 0; // peak memory bandwidth, GB/s (10^9 bytes)
  std::optional<double> fp16_tflops;   // dense FP16 compute, where a source gives it
  std::optional<double> usd_per_hour;  // what an hour of it costs, where a source gives it
  std::optional<double> watts;         // power under inference load, where a source gives it
  std::string source;
  bool measured = false;  // this machine: memory and bandwidth measured now, not taken from a sheet
  unsigned cores = 0;     // this machine only
  std::string isa;        // this machine only: the kernels' instruction set
};

struct DeviceCatalog {
  std::vector<Device> devices;
  const Device* find(std::string_view name) const;
  std::string names() const;  // comma-separated, for errors
};

// The built-in catalog (data/devices.json).
DeviceCatalog builtin_device_catalog();
// Entries of a catalog file ({"devices": [...]}) validated field by field; `source` names the
// file in errors. InputError for a missing field, a non-positive size or bandwidth, usable
// memory above the total, or a duplicate name.
std::vector<Device> parse_devices(const nlohmann::json& j, const std::string& source);
// Adds the file's devices; one with a name already in the catalog replaces it.
void add_devices_file(DeviceCatalog& catalog, const std::filesystem::path& file);

// This machine: total and available memory (/proc/meminfo), cores, the kernels' ISA, and
// the given measured read bandwidth.
Device this_machine(double measured_bandwidth_gbs);

// "all", or a comma-separated list of names ("this" is this machine when the catalog has it).
// InputError naming an unknown device and the known ones.
std::vector<const Device*> select_devices(const DeviceCatalog& catalog, const std::string& spec);

nlohmann::json device_json(const Device& d);

}  // namespace lp::decide
