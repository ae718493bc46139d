#include "quant/expert_allocation.h"

#include <algorithm>
#include <limits>
#include <mutex>

#include "core/error.h"
#include "core/parallel.h"

namespace lp {
namespace {

// Rows of each expert whose quantization error is measured: enough for a stable estimate,
// few enough that a 30B model's experts are sampled in minutes, not hours.
constexpr int64_t kSampledRowsPerExpert = 32;

// Estimated E(t, T) for every candidate type of one stacked tensor (infinity where T cannot
// hold its rows).
std::vector<double> tensor_errors(const QuantSource& source, const PlannedTensor& t, const std::vector<float>& importance,
                                  const std::vector<float>& counts, std::span<const GgmlType> ladder) {
  const auto cols = static_cast<int64_t>(t.shape[0]), rows = static_cast<int64_t>(t.shape[1]);
  const auto experts = static_cast<int64_t>(t.shape[2]);
  double total = 0.0;
  for (float c : counts) total += c;
  std::vector<double> errors(ladder.size(), 0.0);
  const int64_t sampled = std::min(rows, kSampledRowsPerExpert);
  std::vector<float> row(static_cast<size_t>(cols)), back(static_cast<size_t>(cols));
  std::vector<uint8_t> bytes;
  for (int64_t e = 0; e < experts; ++e) {
    const double share = total > 0 ? counts[static_cast<size_t>(e)] / total : 1.0 / static_cast<double>(experts);
    if (share == 0.0) continue;  // an expert the text never reached adds no expected error
    const float* imp = importance.data() + e * cols;
    for (int64_t s = 0; s < sampled; ++s) {
      const int64_t r = s * rows / sampled;  // evenly spread over the expert's rows
      source.read_rows(t.source_index, e * rows + r, e * rows + r + 1, row.data());
      for (size_t k = 0; k < ladder.size(); ++k) {
        const auto& traits = ggml_type_traits(ladder[k]);
        const auto row_bytes = ggml_row_bytes(ladder[k], static_cast<uint64_t>(cols));
        if (!row_bytes) {
          errors[k] = std::numeric_limits<double>::infinity();
          continue;
        }
        bytes.resize(*row_bytes);
        traits.quantize(row.data(), bytes.data(), cols, imp);
        traits.dequantize(bytes.data(), back.data(), cols);
        double err = 0.0;
        for (int64_t j = 0; j < cols; ++j) {
          const double d = static_cast<double>(row[j]) - back[j];
          err += imp[j] * d * d;
        }
        errors[k] += share * err * static_cast<double>(rows) / static_cast<double>(sampled);
      }
    }
  }
  return errors;
}

}  // namespace

bool is_stacked_expert_tensor(const PlannedTensor& t) { return t.shape.size() == 3 && t.shape[2] > 1; }

ExpertAllocation allocate_expert_types(const QuantSource& source, const std::vector<PlannedTensor>& plan,
                                       uint64_t budget_bytes, const ImportanceMatrix& importance,
                                       std::span<const GgmlType> ladder, unsigned threads) {
  std::vector<const PlannedTensor*> stacked;
  for (const auto& t : plan)
    if (is_stacked_expert_tensor(t)) stacked.push_back(&t);
  if (stacked.empty()) fail("the model has no stacked expert tensors to allocate precision among");
  for (const PlannedTensor* t : stacked) {
    const auto imp = importance.columns.find(t->name);
    if (imp == importance.columns.end() || importance.counts.at(t->name).size() != t->shape[2]) {
      fail("the importance matrix has no per-expert data for '{}' (compute it with `imatrix` on this model)", t->name);
    }
  }

  // errors[i][k], bytes[i][k]: tensor i at ladder type k.
  std::vector<std::vector<double>> errors(stacked.size());
  std::vector<std::vector<uint64_t>> bytes(stacked.size(), std::vector<uint64_t>(ladder.size()));
  parallel_for(static_cast<int64_t>(stacked.size()), threads, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const PlannedTensor& t = *stacked[static_cast<size_t>(i)];
      errors[static_cast<size_t>(i)] =
          tensor_errors(source, t, importance.columns.at(t.name), importance.counts.at(t.name), ladder);
    }
  });
  for (size_t i = 0; i < stacked.size(); ++i) {
    const PlannedTensor& t = *stacked[i];
    for (size_t k = 0; k < ladder.size(); ++k) {
      const auto row = ggml_row_bytes(ladder[k], t.shape[0]);
      bytes[i][k] = row ? *row * t.shape[1] * t.shape[2] : std::numeric_limits<uint64_t>::max() / 4;
    }
  }

  // Start at each tensor's cheapest usable type; take the best error-per-byte upgrade while it fits.
  std::vector<size_t> level(stacked.size(), 0);
  uint64_t used = 0;
  for (size_t i = 0; i < stacked.size(); ++i) {
    while (level[i] + 1 < ladder.size() && !std::isfinite(errors[i][level[i]])) ++level[i];
    if (!std::isfinite(errors[i][level[i]])) fail("no candidate type holds the rows of '{}'", stacked[i]->name);
    used += bytes[i][level[i]];
  }
  if (used > budget_bytes) {
    fail("the expert tensors need {} bytes at the cheapest type, more than the budget of {}", used, budget_bytes);
  }
  for (;;) {
    double best_gain = 0.0;
    size_t best_i = 0, best_k = 0;
    for (size_t i = 0; i < stacked.size(); ++i) {
      for (size_t k = level[i] + 1; k < ladder.size(); ++k) {
        if (!std::isfinite(errors[i][k]) || bytes[i][k] <= bytes[i][level[i]]) continue;
        const uint64_t extra = bytes[i][k] - bytes[i][level[i]];
        if (used + extra > budget_bytes) continue;
        const double gain = (errors[i][level[i]] - errors[i][k]) / static_cast<double>(extra);
        if (gain > best_gain) best_gain = gain, best_i = i, best_k = k;
      }
    }
    if (best_gain <= 0.0) break;
    used += bytes[best_i][best_k] - bytes[best_i][level[best_i]];
    level[best_i] = best_k;
  }

  ExpertAllocation out;
  out.budget_bytes = budget_bytes;
  out.used_bytes = used;
  for (size_t i = 0; i < stacked.size(); ++i) {
    out.choices.push_back({stacked[i]->name, ladder[level[i]], bytes[i][level[i]], errors[i][level[i]]});
  }
  return out;
}

}  // namespace lp
