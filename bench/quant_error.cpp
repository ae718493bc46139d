// Quantizes a matrix of float32 values with every type we can write and prints the
// (importance-weighted) squared error per type as JSON, for bench/quant_error_vs_llamacpp.py.
//   lp_quant_error VALUES.f32 ROWS COLS [IMPORTANCE.f32 (COLS values)]
#include <fmt/core.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ggml_types.h"

namespace {

std::vector<float> read_floats(const std::string& path, size_t n) {
  std::vector<float> v(n);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * 4));
  if (!in) throw std::runtime_error("cannot read " + std::to_string(n) + " floats from " + path);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    fmt::print(stderr, "usage: lp_quant_error VALUES.f32 ROWS COLS [IMPORTANCE.f32]\n");
    return 2;
  }
  const size_t rows = std::stoul(argv[2]), cols = std::stoul(argv[3]);
  const auto x = read_floats(argv[1], rows * cols);
  const auto importance = argc == 5 ? read_floats(argv[4], cols) : std::vector<float>();
  nlohmann::json out = nlohmann::json::object();
  for (const auto& t : lp::all_ggml_types()) {
    if (t.quantize == nullptr || t.block_size == 1 || t.type == lp::GgmlType::Q8_K) continue;
    if (cols % t.block_size != 0) continue;
    std::vector<uint8_t> q(*lp::ggml_row_bytes(t.type, cols));
    std::vector<float> y(cols);
    double error = 0;
    for (size_t r = 0; r < rows; ++r) {
      const float* row = x.data() + r * cols;
      t.quantize(row, q.data(), static_cast<int64_t>(cols), importance.empty() ? nullptr : importance.data());
      t.dequantize(q.data(), y.data(), static_cast<int64_t>(cols));
      for (size_t c = 0; c < cols; ++c) {
        const double d = row[c] - y[c];
        error += (importance.empty() ? 1.0 : importance[c]) * d * d;
      }
    }
    out[std::string(t.name)] = error;
  }
  fmt::print("{}\n", out.dump());
  return 0;
}
