#pragma once
// One pass over a text's windows (perplexity_chunks.h): the model, and the reference when
// there is one, evaluate each window from an empty cache; every scored position is scored
// (token_scoring.h) and accumulated in text order (score_summary.h). The reference is a
// second model evaluated on the same window, or rows read from a base-logits file; the rows
// the reference (or, without one, the model) gave can be saved to such a file for later runs.
#include <functional>
#include <span>
#include <vector>

#include "engine/inference_session.h"
#include "validate/perplexity_chunks.h"
#include "validate/reference_logits_file.h"
#include "validate/score_summary.h"

namespace lp::validate {

struct PerplexityRun {
  const LoadedModel* model = nullptr;
  const LoadedModel* reference = nullptr;             // one-pass KL-divergence
  const ReferenceLogitsReader* reference_file = nullptr;  // KL-divergence from saved rows
  ReferenceLogitsWriter* save = nullptr;  // receives the reference's rows (the model's without one)
  SessionOptions options;                 // ctx_size is raised to the window when smaller
  std::span<const int32_t> tokens;
  ChunkPlan plan;
  // A shard: windows [chunk_begin, chunk_end) of the plan (chunk_end < 0: to the last).
  int64_t chunk_begin = 0, chunk_end = -1;
  // Receives every scored token's score in text order: what merges shards exactly (shard_merge.h).
  std::vector<TokenScore>* scores_out = nullptr;
  // Called after each window with its 1-based number and the statistics so far.
  std::function<void(int64_t chunk, const ScoreAccumulator&)> on_chunk;
};

ScoreAccumulator run_perplexity(const PerplexityRun& run);

}  // namespace lp::validate
