#include "decide/matrix_shards.h"

#include <fstream>
#include <map>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sha256.h"
#include "decide/matrix_records.h"
#include "validate/shard_merge.h"

namespace lp::decide {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Every shard's sample lines, kept byte for byte, in the unsharded run's order: by task (as the
// run lists them), then by shard, each shard's lines of a task being its range of questions.
std::string joined_samples(const std::vector<ShardRecord>& shards, const json& tasks) {
  std::map<std::string, std::string> by_task;
  for (const auto& [file, record] : shards) {
    const std::string path = record.at("result").at("settings").at("multiple_choice").at("samples").get<std::string>();
    std::ifstream in(path);
    if (!in) fail("{} names samples {}, which are missing: delete that record to run its shard again", file.string(), path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const json sample = json::parse(line, nullptr, false);
      if (!sample.is_object() || !sample.contains("task")) fail("{} holds a line that is not a question's sample", path);
      by_task[sample["task"].get<std::string>()] += line + "\n";
    }
  }
  std::string out;
  for (const json& task : tasks) out += by_task[task.get<std::string>()];
  return out;
}

}  // namespace

json merge_shard_results(const std::vector<ShardRecord>& shards, const fs::path& samples) {
  std::vector<std::pair<std::string, json>> results;
  for (const auto& [file, record] : shards) {
    // What the matrix step added to validate's record is each shard's own (the merge step adds its own).
    results.emplace_back(file.string(), record.at("result"));
    results.back().second.erase("per_question");
  }
  json merged = validate::merge_shard_records(results);
  // The matrix record names its shards itself (merged_from); the result stays the unsharded one.
  merged.erase("merged_shards");
  json& settings = merged.at("settings");
  if (settings.contains("multiple_choice") && !settings["multiple_choice"]["samples"].is_null()) {
    write_file_atomically(samples, joined_samples(shards, settings["multiple_choice"].at("tasks")));
    settings["multiple_choice"]["samples"] = samples.string();
  }
  return merged;
}

json merged_from(const std::vector<ShardRecord>& shards) {
  json from = json::array();
  for (const auto& [file, record] : shards) from.push_back({file.filename().string(), sha256_hex(record.dump())});
  return from;
}

bool merged_record_stands(const json& record, const fs::path& records_dir) {
  if (!record.contains("merged_from")) return true;
  for (const json& shard : record["merged_from"]) {
    const auto now = read_record(records_dir / shard.at(0).get<std::string>());
    if (!now || sha256_hex(now->dump()) != shard.at(1).get<std::string>()) return false;
  }
  return true;
}

}  // namespace lp::decide
