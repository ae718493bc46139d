#pragma once
// What decoding one token reads from memory: the bytes a decode speed is judged by against
// the machine's read bandwidth (a token cannot come faster than bandwidth / bytes).
#include <cstdint>
#include <span>
#include <vector>

#include "core/ggml_types.h"

namespace lp {

class LoadedModel;

struct DecodeTraffic {
  uint64_t weight_bytes = 0;  // every weight the forward pass uses (a mixture: the used experts), read once per token
  double kv_bytes = 0.0;      // K and V rows read by attention, averaged over the run's tokens
  double total() const { return static_cast<double>(weight_bytes) + kv_bytes; }
};

// Per token of a run that decodes `n_gen` tokens one at a time after `n_past` cached positions,
// with the KV cache's rows of `kv_type`. The weights are all of the model's
// bytes but the token embedding table, of which a token reads one row, unless the output
// projection is tied to it (then the whole table is read as the output matrix).
DecodeTraffic decode_traffic(const LoadedModel& model, int64_t n_past, int64_t n_gen, GgmlType kv_type);

// The weight bytes decoding one token reads in full: every layer's matrices and the output
// matrix (the embedding table's one row left out), as the engine holds them (interleaved
// copies included): what a bandwidth probe reads to time the ceiling on the same memory.
std::vector<std::span<const uint8_t>> decode_weight_regions(const LoadedModel& model);

}  // namespace lp
