#include "engine/decode_traffic.h"

#include <algorithm>

#include "engine/model_weights.h"

namespace lp {

DecodeTraffic decode_traffic(const LoadedModel& model, int64_t n_past, int64_t n_gen, bool kv_f32) {
  const ModelWeights& w = model.weights();
  const ModelHParams& h = model.hparams();
  DecodeTraffic traffic;
  traffic.weight_bytes = model.weight_bytes();
  if (w.output.data != w.token_embd.data) {
    traffic.weight_bytes -= static_cast<uint64_t>(w.token_embd.rows - 1) * w.token_embd.row_bytes;
  }
  if (n_gen <= 0) return traffic;
  // Each layer reads n_head_kv * (key_length + value_length) values per cached position; the
  // token at position p sees p + 1 positions (at most the window on a sliding-window layer).
  const double row_values = static_cast<double>(h.head_count_kv) * static_cast<double>(h.key_length + h.value_length);
  const double value_bytes = kv_f32 ? 4.0 : 2.0;
  double positions = 0.0;
  for (const LayerWeights& L : w.layers) {
    const auto window = L.sliding_window ? static_cast<int64_t>(h.sliding_window) : int64_t{0};
    for (int64_t p = n_past; p < n_past + n_gen; ++p) {
      positions += static_cast<double>(window > 0 ? std::min(p + 1, window) : p + 1);
    }
  }
  traffic.kv_bytes = positions * row_values * value_bytes / static_cast<double>(n_gen);
  return traffic;
}

}  // namespace lp
