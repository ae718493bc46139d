#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "model/model_summary.h"

namespace lp::cli {

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "inspect", "Show a model's architecture, hyperparameters, tokenizer, tensors and size (GGUF file or HF directory)");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  add_model_option(cmd, "path", *path, "GGUF file (any part of a split model) or Hugging Face model directory")->required();
  cmd->add_flag("--json", *json, "Print the same information as JSON");
  cmd->callback([path, json] {
    // Only headers are read; tensor data stays untouched on disk.
    const ModelSummary summary = summarize_model(*path);
    if (*json) {
      print_json(summary_to_json(summary));
    } else {
      fmt::print("{}", summary_to_text(summary));
    }
  });
}

}  // namespace lp::cli
