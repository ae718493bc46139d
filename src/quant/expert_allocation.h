#pragma once
// Expert-aware precision for mixture-of-experts models, inside llama.cpp's format: a stacked
// expert tensor ([expert][row][column]) holds one type for all its experts, so precision is
// chosen per layer and kind (gate, up, down), where it buys the most. For each stacked tensor
// and each candidate type the expected output error is estimated from sampled rows:
//
//   E(t, T) = sum_e f_e * sum_rows sum_j imp_e[j] * (w - dequantize(quantize_T(w)))^2
//
// where f_e is how often the router chose expert e over the calibration text (the imatrix's
// per-expert token counts) and imp_e its per-column mean squared activation: an expert used
// twice as often costs twice as much when it is quantized badly. Then a greedy knapsack:
// every tensor starts at the cheapest type and the upgrade with the largest error saved per
// byte is taken while the stacked tensors' byte budget allows.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/ggml_types.h"
#include "quant/imatrix.h"
#include "quant/quantize_model.h"

namespace lp {

struct ExpertTypeChoice {
  std::string name;
  GgmlType type;
  uint64_t bytes = 0;
  double error = 0.0;  // E(t, type), in the units above (relative across tensors)
};

struct ExpertAllocation {
  std::vector<ExpertTypeChoice> choices;  // one per stacked expert tensor, in `plan` order
  uint64_t budget_bytes = 0, used_bytes = 0;
};

// `plan`: the recipe's plan for every tensor; `budget_bytes`: what the stacked expert tensors
// may take in total. `ladder`: candidate types, cheapest first (a type whose block does not
// divide a tensor's rows is skipped for it). InputError when the imatrix lacks per-expert
// counts for a stacked tensor, or the budget is below the cheapest choice.
ExpertAllocation allocate_expert_types(const QuantSource& source, const std::vector<PlannedTensor>& plan,
                                       uint64_t budget_bytes, const ImportanceMatrix& importance,
                                       std::span<const GgmlType> ladder, unsigned threads);

// Whether a planned tensor is a stacked expert tensor (3-D, more than one expert).
bool is_stacked_expert_tensor(const PlannedTensor& t);

}  // namespace lp
