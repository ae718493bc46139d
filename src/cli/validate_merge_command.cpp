// `validate-merge SHARD...`: the records of `validate --shard I/N` runs joined into the record the
// whole run would have written (validate/shard_merge.h).
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/atomic_file.h"
#include "formats/json_guard.h"
#include "validate/shard_merge.h"

namespace lp::cli {

void add_validate_merge_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate-merge", "Join the records of validate --shard I/N runs into the whole run's record");
  auto files = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("records", *files, "Every shard's record (validate --shard I/N -o FILE)")->required();
  cmd->add_option("-o,--out", *out, "Write the merged record to this file (atomically)");
  cmd->add_flag("--json", *json, "Print the merged record");
  cmd->callback([files, out, json] {
    std::vector<std::pair<std::string, nlohmann::json>> records;
    for (const auto& f : *files) records.emplace_back(f, read_json_file(f));
    const nlohmann::json merged = validate::merge_shard_records(records);
    const std::string text = merged.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (!out->empty()) write_file_atomically(*out, text);
    if (*json || out->empty()) print_json(merged);
  });
}

}  // namespace lp::cli
