#pragma once
// The merge step of a sharded text or mc step (`matrix --shards N`, sweep_graph.h): the shards'
// records joined by validate-merge's code (validate/shard_merge.h) into the result the unsharded
// step would have recorded, and when such a merged record stops standing for its shards.
#include <filesystem>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lp::decide {

// A shard step's record file and its content.
using ShardRecord = std::pair<std::filesystem::path, nlohmann::json>;

// The whole step's result from its shards' records (shard order): the unsharded validate record
// but its timings and machine. An mc step's shards' samples are joined task by task, each
// task's questions in order, into `samples` (the unsharded step's file), which the result names.
// InputError when the shards do not merge or a shard's samples are missing.
nlohmann::json merge_shard_results(const std::vector<ShardRecord>& shards, const std::filesystem::path& samples);

// What a merged record was made from: [[record file name, SHA-256 of that record], ...].
nlohmann::json merged_from(const std::vector<ShardRecord>& shards);

// A merged record stands while every record it was made from is in `records_dir` unchanged (a
// shard run again makes its merge stale, so the merge runs again too); any other record stands.
bool merged_record_stands(const nlohmann::json& record, const std::filesystem::path& records_dir);

}  // namespace lp::decide
