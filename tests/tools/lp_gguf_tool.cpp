// Test helper (not shipped): lets the Python reference checks see exactly what our GGUF
// reader reads and have our writer produce the every-type sample.
//   lp_gguf_tool write-sample OUT [ALIGNMENT]   writes the sample of support/sample_gguf.h
//   lp_gguf_tool dump FILE                      prints metadata (typed) and tensors (hex bytes) as JSON
//   lp_gguf_tool types                          prints the GGML type table as JSON
//   lp_gguf_tool write-quantized OUT            quantizes pseudo-random rows into every type we write
//   lp_gguf_tool dequantize FILE OUT.bin NAME.. writes the named tensors, dequantized, as float32
//   lp_gguf_tool quantize FILE TYPE OUT.bin NAME..  writes the named F32 tensors quantized to TYPE (raw blocks)
#include <fmt/core.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
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

// Rows of Gaussian values with the awkward cases a quantizer must survive: an all-zero
// block, a constant block, a single outlier, and tiny values.
std::vector<float> test_rows(uint64_t rows, uint64_t cols, uint32_t seed) {
  const auto bytes = lp::testing::pseudo_random_bytes(rows * cols * 8, seed);
  std::vector<float> x(rows * cols);
  for (size_t i = 0; i < x.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, bytes.data() + 8 * i, 4);
    std::memcpy(&b, bytes.data() + 8 * i + 4, 4);
    const double u1 = (a + 1.0) / 4294967297.0, u2 = b / 4294967296.0;
    x[i] = static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
  for (uint64_t j = 0; j < 256 && j < cols; ++j) x[j] = 0.0f;                 // zero block
  for (uint64_t j = 256; j < 512 && j < cols; ++j) x[cols + j] = 0.75f;       // constant block
  if (rows > 2) x[2 * cols + 7] = 40.0f;                                      // outlier
  if (rows > 3) for (uint64_t j = 0; j < cols; ++j) x[3 * cols + j] *= 1e-6f; // tiny
  return x;
}

int write_quantized(const std::string& path) {
  constexpr uint64_t kRows = 6, kCols = 1024;
  const auto x = test_rows(kRows, kCols, 11);
  lp::GgufWriter writer;
  writer.set("general.architecture", lp::GgufValue("test"));
  for (const auto& t : lp::all_ggml_types()) {
    if (t.quantize == nullptr || t.type == lp::GgmlType::Q8_K) continue;  // Q8_K is never stored
    writer.add_tensor(std::string("q.") + std::string(t.name), t.type, {kCols, kRows}, [&x, &t](lp::ByteSink& sink) {
      std::vector<uint8_t> row(*lp::ggml_row_bytes(t.type, kCols));
      for (uint64_t r = 0; r < kRows; ++r) {
        t.quantize(x.data() + r * kCols, row.data(), kCols, nullptr);
        sink.write(row);
      }
    });
  }
  writer.write(path);
  return 0;
}

int dequantize(const std::string& path, const std::string& out_path, const std::vector<std::string>& names) {
  const auto model = lp::GgufModel::open(path);
  std::ofstream out(out_path, std::ios::binary);
  for (const auto& name : names) {
    const auto* t = model.find_tensor(name);
    if (t == nullptr) lp::fail("{} has no tensor '{}'", path, name);
    const auto& traits = lp::ggml_type_traits(t->type);
    if (traits.dequantize == nullptr) lp::fail("no dequantizer for {}", traits.name);
    std::vector<float> values(t->n_elements);
    traits.dequantize(t->data.data(), values.data(), static_cast<int64_t>(t->n_elements));
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  }
  return 0;
}

// Our quantizer on floats another tool wrote (gguf-py), row by row as a model's tensors are.
int quantize(const std::string& path, const std::string& type_name, const std::string& out_path,
             const std::vector<std::string>& names) {
  const auto model = lp::GgufModel::open(path);
  const auto type = lp::ggml_type_from_name(type_name);
  if (!type || lp::ggml_type_traits(*type).quantize == nullptr) lp::fail("cannot quantize to {}", type_name);
  const auto& traits = lp::ggml_type_traits(*type);
  std::ofstream out(out_path, std::ios::binary);
  for (const auto& name : names) {
    const auto* t = model.find_tensor(name);
    if (t == nullptr) lp::fail("{} has no tensor '{}'", path, name);
    if (t->type != lp::GgmlType::F32) lp::fail("{} is {}, not F32", name, lp::ggml_type_traits(t->type).name);
    const uint64_t cols = t->shape.at(0), rows = t->n_elements / cols;
    const auto row_bytes = lp::ggml_row_bytes(*type, cols);
    if (!row_bytes) lp::fail("{}: rows of {} are not whole {} blocks", name, cols, traits.name);
    std::vector<float> values(cols);
    std::vector<uint8_t> row(*row_bytes);
    for (uint64_t r = 0; r < rows; ++r) {
      std::memcpy(values.data(), t->data.data() + r * cols * 4, cols * 4);
      traits.quantize(values.data(), row.data(), static_cast<int64_t>(cols), nullptr);
      out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size()));
    }
  }
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
    if (command == "write-quantized" && argc == 3) return write_quantized(argv[2]);
    if (command == "dequantize" && argc >= 4) return dequantize(argv[2], argv[3], {argv + 4, argv + argc});
    if (command == "quantize" && argc >= 5) return quantize(argv[2], argv[3], argv[4], {argv + 5, argv + argc});
    fmt::print(stderr, "usage: lp_gguf_tool write-sample OUT [ALIGNMENT] | dump FILE | types | write-quantized OUT | dequantize FILE OUT.bin NAME... | quantize FILE TYPE OUT.bin NAME...\n");
    return 2;
  } catch (const lp::InputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
}
