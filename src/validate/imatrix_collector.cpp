#include "validate/imatrix_collector.h"

#include <fmt/core.h>

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "formats/gguf_writer.h"

namespace lp::validate {

// llama-imatrix ignores plain products of fewer than 16 tokens (its note: small batches, such
// as single-token decoding, would skew the statistics) and keeps every expert product.
constexpr int64_t kMinTokens = 16;

void ImatrixCollector::observe(int64_t layer, MatrixRole role, int64_t expert, const float* x, int64_t n_tokens,
                               int64_t cols) {
  const bool stacked = is_expert_role(role);
  if (!stacked && n_tokens < kMinTokens) return;
  const std::string name = fmt::format("blk.{}.{}.weight", layer, matrix_role_name(role));
  Entry& e = entries_[name];
  const int64_t mats = stacked ? n_expert_ : 1;
  if (e.sums.empty()) {
    e.sums.assign(static_cast<size_t>(mats * cols), 0.0);
    e.counts.assign(static_cast<size_t>(mats), 0);
  }
  if (e.sums.size() != static_cast<size_t>(mats * cols)) fail("internal: '{}' seen with {} columns", name, cols);
  const int64_t slot = stacked ? expert : 0;
  if (slot < 0 || slot >= mats) fail("internal: expert {} of '{}' is out of range", expert, name);
  // Sums in double: a long calibration text adds millions of terms (llama.cpp sums in float).
  double* sums = e.sums.data() + slot * cols;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* row = x + t * cols;
    for (int64_t j = 0; j < cols; ++j) sums[j] += static_cast<double>(row[j]) * row[j];
  }
  e.counts[static_cast<size_t>(slot)] += n_tokens;
}

int64_t ImatrixCollector::unused_experts() const {
  int64_t unused = 0;
  for (const auto& [name, e] : entries_)
    if (e.counts.size() > 1)
      for (int64_t c : e.counts) unused += c == 0 ? 1 : 0;
  return unused;
}

void ImatrixCollector::write(const std::filesystem::path& path, const std::vector<std::string>& datasets,
                             int64_t chunk_count, int64_t chunk_size) const {
  if (entries_.empty()) fail("no matrix saw {} tokens or more at once: nothing to write", kMinTokens);
  GgufWriter w;
  w.set("general.type", GgufValue("imatrix"));
  std::vector<GgufValue> names;
  for (const auto& d : datasets) names.emplace_back(d);
  w.set("imatrix.datasets", GgufValue::array(GgufValueType::STRING, std::move(names)));
  w.set("imatrix.chunk_count", GgufValue(static_cast<uint32_t>(chunk_count)));
  w.set("imatrix.chunk_size", GgufValue(static_cast<uint32_t>(chunk_size)));
  // The float32 bytes of every tensor, kept alive until the file is written (a map: the
  // names come out sorted, as llama-imatrix writes them).
  std::vector<std::vector<float>> data;
  data.reserve(2 * entries_.size());
  for (const auto& [name, e] : entries_) {
    const uint64_t mats = e.counts.size(), cols = e.sums.size() / mats;
    auto& sums = data.emplace_back(e.sums.begin(), e.sums.end());
    auto& counts = data.emplace_back(e.counts.begin(), e.counts.end());
    auto bytes = [](const std::vector<float>& v) {
      return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float));
    };
    w.add_tensor(name + ".in_sum2", GgmlType::F32, {cols, mats}, bytes(sums));
    w.add_tensor(name + ".counts", GgmlType::F32, {1, mats}, bytes(counts));
  }
  w.write(path);
}

}  // namespace lp::validate
