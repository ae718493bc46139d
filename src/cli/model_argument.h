#pragma once
// The one place where a command's model argument learns about the Hugging Face hub: commands
// register their model options with add_model_option, and main resolves every such argument
// that names a hub id (org/repo[@revision][:file]) to its local snapshot before any command
// runs, so each command keeps reading plain paths.
#include <CLI/CLI.hpp>
#include <string>

namespace lp::cli {

// Adds the option (as add_option would) and, once per command, `--include GLOB` for picking
// files of a hub repository. `target` must outlive parsing (commands keep it in shared state).
CLI::Option* add_model_option(CLI::App* cmd, const std::string& name, std::string& target, const std::string& description);

// Replaces each registered model argument of the command that was parsed by its local path
// (downloading what is missing). main calls it once parsing is complete, after --help and
// missing-option errors, so neither waits for a download. Throws InputError.
void resolve_model_arguments();

}  // namespace lp::cli
