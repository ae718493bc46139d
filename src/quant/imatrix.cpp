#include "quant/imatrix.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "formats/gguf_reader.h"

namespace lp {

ImportanceMatrix load_imatrix(const std::filesystem::path& path) {
  const GgufModel file = GgufModel::open(path);
  const GgufValue* type = file.find("general.type");
  if (type == nullptr || type->as_string() == nullptr || *type->as_string() != "imatrix") {
    fail("{} is not an importance matrix (general.type is not \"imatrix\"; the legacy .dat format is not read)",
         path.string());
  }
  auto f32 = [&](const GgufTensorInfo& t) {
    if (t.type != GgmlType::F32) fail("{}: tensor '{}' must be F32", path.string(), t.name);
    std::vector<float> v(t.n_elements);
    // A tensor of zero elements has no data pointer, and memcpy's arguments must not be null.
    if (t.n_bytes > 0) std::memcpy(v.data(), t.data.data(), t.n_bytes);
    return v;
  };
  ImportanceMatrix m;
  constexpr std::string_view kSums = ".in_sum2";
  for (const auto& t : file.tensors()) {
    if (!t.name.ends_with(kSums)) continue;
    const std::string weight = t.name.substr(0, t.name.size() - kSums.size());
    const GgufTensorInfo* counts = file.find_tensor(weight + ".counts");
    if (counts == nullptr) fail("{}: '{}' has sums but no counts", path.string(), weight);
    auto sums = f32(t);
    const auto n = f32(*counts);
    if (n.empty() || sums.size() % n.size() != 0) {
      fail("{}: '{}' has {} sums for {} experts", path.string(), weight, sums.size(), n.size());
    }
    const size_t per_expert = sums.size() / n.size();
    for (size_t e = 0; e < n.size(); ++e) {
      const float count = static_cast<float>(std::lround(n[e]));
      for (size_t j = 0; j < per_expert; ++j) {
        float& v = sums[e * per_expert + j];
        v = count > 0 ? v / count : 1.0f;  // as llama-quantize: no tokens seen -> uniform
        if (!std::isfinite(v) || v < 0) fail("{}: '{}' holds a negative or non-finite value", path.string(), weight);
      }
    }
    m.columns.emplace(weight, std::move(sums));
    m.counts.emplace(weight, n);
  }
  if (m.columns.empty()) fail("{} holds no importance data", path.string());
  return m;
}

void balance_expert_importance(ImportanceMatrix& m, double prior_tokens) {
  for (auto& [name, values] : m.columns) {
    const std::vector<float>& counts = m.counts.at(name);
    if (counts.size() < 2) continue;
    const size_t experts = counts.size(), cols = values.size() / experts;
    // The layer's means over all routed tokens (an expert with no token had its means set to 1).
    std::vector<double> layer(cols, 0.0);
    double total = 0.0;
    for (size_t e = 0; e < experts; ++e) {
      total += counts[e];
      for (size_t j = 0; j < cols; ++j) layer[j] += static_cast<double>(counts[e]) * values[e * cols + j];
    }
    if (total <= 0) continue;
    for (size_t e = 0; e < experts; ++e) {
      const double c = counts[e];
      for (size_t j = 0; j < cols; ++j) {
        float& v = values[e * cols + j];
        v = static_cast<float>((c * v + prior_tokens * layer[j] / total) / (c + prior_tokens));
      }
    }
  }
}

}  // namespace lp
