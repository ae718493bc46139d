#pragma once
// What machine a measurement was taken on, for the records: CPU model, logical cores and
// memory, read from /proc (empty/zero where the system does not expose them).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace lp {

struct HostInfo {
  std::string cpu_model;
  unsigned logical_cores = 0;
  uint64_t memory_bytes = 0;  // MemTotal
  uint64_t available_bytes = 0;  // MemAvailable: what can be allocated now without swapping
  std::string os;             // uname: sysname release machine
};

HostInfo host_info();
nlohmann::json host_info_json(const HostInfo& h);

}  // namespace lp
