#pragma once
// Large evaluations in shards (validate --shard I/N) whose records merge into exactly the
// unsharded record's metrics (validate-merge): shard I of N scores windows [(I-1)·n/N, I·n/N)
// of the perplexity text and questions [(I-1)·q/N, I·q/N) of each multiple-choice task. A
// shard record carries, under "shard", what its metrics cannot give back: every scored token's
// NLL (and KL-divergence, Δp, same-top against the reference), replayed in text order through
// the same accumulator, so means, errors and percentiles are the unsharded run's to the bit;
// and each task's generated-token total. Accuracies are counts, summed; MMLU subjects split
// across shards merge the same way.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "validate/token_scoring.h"

namespace lp::validate {

struct Shard {
  int64_t index = 0, count = 1;  // 0-based index
};

// "I/N" (1 <= I <= N); InputError otherwise.
Shard parse_shard(const std::string& text);

// The half-open range of `n` items shard `s` takes.
std::pair<int64_t, int64_t> shard_range(int64_t n, const Shard& s);

nlohmann::json token_scores_json(const std::vector<TokenScore>& scores, bool with_reference);

// The records of every shard of one run (any order) as one record, metrics as if unsharded.
// InputError (naming the file) for a record that is not a shard, a missing or repeated shard,
// or shards of different runs (settings other than the shard differ).
nlohmann::json merge_shard_records(const std::vector<std::pair<std::string, nlohmann::json>>& records);

}  // namespace lp::validate
