#include "cli/model_argument.h"

#include <memory>
#include <vector>

#include "formats/hub_download.h"

namespace lp::cli {

namespace {

struct ModelArgument {
  CLI::App* command;
  CLI::Option* option;
  std::string* target;
  std::shared_ptr<HubOptions> hub;  // shared by the command's model arguments
};

// Commands are registered once, at start-up, on one thread.
std::vector<ModelArgument>& model_arguments() {
  static std::vector<ModelArgument> arguments;
  return arguments;
}

}  // namespace

CLI::Option* add_model_option(CLI::App* cmd, const std::string& name, std::string& target, const std::string& description) {
  std::shared_ptr<HubOptions> hub;
  for (const auto& argument : model_arguments())
    if (argument.command == cmd) hub = argument.hub;
  if (!hub) {
    hub = std::make_shared<HubOptions>();
    // One glob per flag, so `--include '*Q4_K_M*' org/repo` leaves the model argument alone.
    cmd->add_option("--include", hub->include,
                    "Hub repositories: fetch only the files matching this glob (repeat the flag for more), e.g. '*Q4_K_M*'")
        ->allow_extra_args(false);
  }
  CLI::Option* option = cmd->add_option(name, target, description + " (or a hub id: org/repo[@revision][:file])");
  model_arguments().push_back({cmd, option, &target, hub});
  return option;
}

void resolve_model_arguments() {
  for (const auto& argument : model_arguments()) {
    if (!argument.command->parsed() || argument.option->count() == 0) continue;
    *argument.target = resolve_model_argument(*argument.target, *argument.hub).string();
  }
}

}  // namespace lp::cli
