#pragma once
// What a model needs resident to run on our engine at a given context: each term predicted
// from the file's headers and the model's real hyperparameters (grouped-query attention,
// head sizes, sliding windows), without loading a weight. The terms follow what the engine
// allocates (engine/inference_session.cpp, engine/model_weights.cpp, kernels/matmul.cpp), so
// the total can be checked against the peak resident memory `bench` measures.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/ggml_types.h"
#include "model/model_summary.h"

namespace lp::decide {

struct MemorySettings {
  int64_t ctx_size = 4096;   // positions the KV cache holds
  int64_t batch_size = 512;  // tokens per forward pass while prefilling (capped at ctx_size)
  GgmlType kv_type = GgmlType::F16;  // the KV cache's rows: F16, F32, Q8_0 or Q4_0 (kernels/kv_rows.h)
  bool all_logits = false;   // a row of logits per token of a batch (validate, logits) instead of one
  unsigned threads = 1;
};

struct MemoryTerm {
  std::string name;    // weights, weight_copies, kv_cache, compute, runtime
  uint64_t bytes = 0;
  std::string detail;  // how it was counted, for `fit --explain`
};

struct MemoryEstimate {
  std::vector<MemoryTerm> terms;
  // Gemma 3-style models: what the KV cache would take if sliding-window layers held only
  // their window (as llama.cpp's SWA cache does); our engine holds the whole context on every
  // layer. Equal to the kv_cache term when the model has no sliding window.
  uint64_t kv_cache_windowed_bytes = 0;
  // Weights one decoded token reads: every matrix (of a mixture's experts, the used ones), one
  // embedding row unless tied.
  uint64_t decode_bytes_per_token = 0;
  uint64_t total() const;
  uint64_t term(std::string_view name) const;
};

// The process's own resident memory before any model: the binary, its libraries, the C++
// runtime and the allocator's arenas. Measured (bench/memory_model_vs_rss.py prints it: the
// peak resident memory of `inspect` on a tiny file); see bench/RESULTS.md. 12 MiB until session
// 15, when the AVX2 panel and interleaved kernels and the Slurm code added 0.3 MiB of text and
// `bench` on the tiny Llama reached 12.4 MiB (test_fit_cli's small mixtures sit that close).
inline constexpr uint64_t kRuntimeBaseBytes = 25ull << 19;  // 12.5 MiB

// InputError when the context is not positive or exceeds the model's trained context length
// (when the file states one).
MemoryEstimate estimate_memory(const ModelSummary& model, const MemorySettings& settings);

nlohmann::json memory_estimate_json(const MemoryEstimate& e);

}  // namespace lp::decide
