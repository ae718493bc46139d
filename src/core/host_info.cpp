#include "core/host_info.h"

#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <thread>

namespace lp {
namespace {

// The value after "key<spaces>:" on the first line of a /proc file that starts with key.
std::string proc_field(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string() : line.substr(start);
  }
  return {};
}

// A /proc/meminfo figure ("24585412 kB") in bytes; 0 when absent.
uint64_t meminfo_bytes(const std::string& key) {
  const std::string v = proc_field("/proc/meminfo", key);
  try {
    return v.empty() ? 0 : std::stoull(v) * 1024;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

HostInfo host_info() {
  HostInfo h;
  h.cpu_model = proc_field("/proc/cpuinfo", "model name");
  h.logical_cores = std::thread::hardware_concurrency();
  h.memory_bytes = meminfo_bytes("MemTotal");
  h.available_bytes = meminfo_bytes("MemAvailable");
  utsname u{};
  if (uname(&u) == 0) h.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
  return h;
}

nlohmann::json host_info_json(const HostInfo& h) {
  return {{"cpu_model", h.cpu_model}, {"logical_cores", h.logical_cores}, {"memory_bytes", h.memory_bytes}, {"os", h.os}};
}

}  // namespace lp
