// Test helper (not shipped): lets the Python reference checks see exactly what our GGUF
// reader reads and have our writer produce the every-type sample.
//   lp_gguf_tool write-sample OUT [ALIGNMENT]   writes the sample of support/sample_gguf.h
//   lp_gguf_tool dump FILE                      prints metadata (typed) and tensors (hex bytes) as JSON
//   lp_gguf_tool types                          prints the GGML type table as JSON
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "support/sample_gguf.h"

namespace {

nlohmann::json typed(const lp::GgufValue& value) {
  nlohmann::json j = {{"type", lp::gguf_value_type_name(value.type())}};
  std::visit(
      [&j](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, lp::GgufArray>) {
          j["element_type"] = lp::gguf_value_type_name(v.element_type);
          nlohmann::json items = nlohmann::json::array();
          for (const auto& item : v.items) items.push_back(typed(item));
          j["items"] = items;
        } else if constexpr (std::is_same_v<T, std::string>) {
          // Hex keeps strings byte-exact whatever their encoding.
          std::string hex;
          for (unsigned char c : v) hex += fmt::format("{:02x}", c);
          j["hex"] = hex;
        } else {
          j["value"] = v;
        }
      },
      value.storage());
  return j;
}

int dump(const std::string& path) {
  const auto model = lp::GgufModel::open(path);
  nlohmann::json metadata = nlohmann::json::array();
  for (const auto& kv : model.metadata()) metadata.push_back({{"key", kv.key}, {"value", typed(kv.value)}});
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : model.tensors()) {
    std::string hex;
    hex.reserve(t.data.size() * 2);
    for (const uint8_t b : t.data) hex += fmt::format("{:02x}", b);
    tensors.push_back({{"name", t.name},
                       {"type", lp::ggml_type_traits(t.type).name},
                       {"shape", t.shape},
                       {"offset", t.offset},
                       {"file_index", t.file_index},
                       {"hex", hex}});
  }
  nlohmann::json out = {{"version", model.version()}, {"alignment", model.alignment()},
                        {"metadata", metadata},       {"tensors", tensors}};
  fmt::print("{}\n", out.dump());
  return 0;
}

int types() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : lp::all_ggml_types()) {
    out.push_back({{"id", static_cast<uint32_t>(t.type)}, {"name", t.name}, {"block_size", t.block_size},
                   {"block_bytes", t.block_bytes}});
  }
  fmt::print("{}\n", out.dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "write-sample" && argc >= 3) {
      lp::testing::write_sample_gguf(argv[2], argc > 3 ? static_cast<uint32_t>(std::stoul(argv[3])) : 32);
      return 0;
    }
    if (command == "dump" && argc == 3) return dump(argv[2]);
    if (command == "types") return types();
    fmt::print(stderr, "usage: lp_gguf_tool write-sample OUT [ALIGNMENT] | dump FILE | types\n");
    return 2;
  } catch (const lp::InputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
}
