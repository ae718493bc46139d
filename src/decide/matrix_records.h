#pragma once
// The records of a `matrix` sweep: one JSON file per finished step in DIR/records/, named by
// the step, the level and a key that is the SHA-256 of everything the step's result depends on
// (the model file's hash, the settings, the tool version; for speed, the machine). A step whose
// record exists is done; records are written atomically, so a killed sweep leaves none half
// written. Several folders (from several machines) can be read together.
//
// File: {"schema": "llama-pajamas/matrix-step/1", "step": "model"|"reference"|"text"|"mc"|"gen"|"bench"
//        (or a shard, "mc#2/3"), "level", "key", "inputs": {...}, "finished_utc", "seconds", "result": {...}}
// A merge of shards adds "merged_from" (matrix_shards.h); a copy from a level with the same tensors "same_model_as".
// result: model {"file": FILE}; reference/text/mc/gen: the validate record; bench {"bench": [llama-bench rows],
// "run": run --json output}.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lp::decide {

inline constexpr const char* kMatrixStepSchema = "llama-pajamas/matrix-step/1";

std::string record_key(const nlohmann::json& inputs);  // hex SHA-256 of the inputs' canonical dump
// "mc-Q4_K_M"; a shard's "mc#2of3-Q4_K_M" (no slash: it names files).
std::string step_file_stem(const std::string& step, const std::string& level);
std::filesystem::path record_path(const std::filesystem::path& records_dir, const std::string& step,
                                  const std::string& level, const std::string& key);

// The record at `path` if it is a complete matrix record (else nullopt: absent or not ours).
std::optional<nlohmann::json> read_record(const std::filesystem::path& path);
void write_record(const std::filesystem::path& path, const nlohmann::json& record);

// Every matrix record in the folders (non-recursive), in file-name order.
std::vector<nlohmann::json> read_records(const std::vector<std::filesystem::path>& dirs);

// SHA-256 of a file, or of a Hugging Face directory's files ("<sha256>  <name>\n" per file, sorted).
std::string content_sha256(const std::filesystem::path& path);

}  // namespace lp::decide
