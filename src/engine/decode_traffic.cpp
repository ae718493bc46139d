#include "engine/decode_traffic.h"

#include <algorithm>

#include "engine/model_weights.h"

namespace lp {

DecodeTraffic decode_traffic(const LoadedModel& model, int64_t n_past, int64_t n_gen, GgmlType kv_type) {
  const ModelWeights& w = model.weights();
  const ModelHParams& h = model.hparams();
  DecodeTraffic traffic;
  traffic.weight_bytes = model.active_weight_bytes();
  if (w.output.data != w.token_embd.data) {
    traffic.weight_bytes -= static_cast<uint64_t>(w.token_embd.rows - 1) * w.token_embd.row_bytes;
  }
  if (n_gen <= 0) return traffic;
  // Each layer reads a K and a V row per KV head and cached position; the token at position p
  // sees p + 1 positions (at most the window on a sliding-window layer).
  const double row_bytes = static_cast<double>(h.head_count_kv) *
                           static_cast<double>(ggml_row_bytes(kv_type, h.key_length).value_or(0) +
                                               ggml_row_bytes(kv_type, h.value_length).value_or(0));
  double positions = 0.0;
  for (const LayerWeights& L : w.layers) {
    const auto window = L.sliding_window ? static_cast<int64_t>(h.sliding_window) : int64_t{0};
    for (int64_t p = n_past; p < n_past + n_gen; ++p) {
      positions += static_cast<double>(window > 0 ? std::min(p + 1, window) : p + 1);
    }
  }
  traffic.kv_bytes = positions * row_bytes / static_cast<double>(n_gen);
  return traffic;
}

std::vector<std::span<const uint8_t>> decode_weight_regions(const LoadedModel& model) {
  const ModelWeights& w = model.weights();
  std::vector<std::span<const uint8_t>> regions;
  auto add = [&](const WeightMatrix& m) {
    if (m.data != nullptr) regions.emplace_back(m.data, static_cast<uint64_t>(m.rows) * m.row_bytes);
  };
  const auto used = static_cast<size_t>(model.hparams().expert_used_count);
  for (const LayerWeights& L : w.layers) {
    for (const WeightMatrix* m : {&L.attn_q, &L.attn_k, &L.attn_v, &L.attn_qkv, &L.attn_output, &L.ffn_gate, &L.ffn_up,
                                  &L.ffn_down, &L.ffn_gate_inp})
      add(*m);
    // A token reads its expert_used_count experts; the first ones stand for whichever it picks.
    for (size_t e = 0; e < used && e < L.ffn_down_exps.size(); ++e) {
      add(L.ffn_gate_exps[e]);
      add(L.ffn_up_exps[e]);
      add(L.ffn_down_exps[e]);
    }
  }
  add(w.output);
  return regions;
}

}  // namespace lp
