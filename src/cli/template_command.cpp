#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "tokenizer/chat_template.h"

namespace lp::cli {

void add_template_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("template", "Render a conversation into a prompt with the model's chat template");
  auto model = std::make_shared<std::string>();
  auto messages = std::make_shared<std::string>();
  auto template_file = std::make_shared<std::string>();
  auto no_generation_prompt = std::make_shared<bool>(false);
  add_model_option(cmd, "model", *model, "GGUF file or Hugging Face model directory")->required();
  cmd->add_option("--messages", *messages,
                  "JSON file: a list of messages, or {\"messages\": [...], \"tools\": [...], other template variables}")
      ->required();
  cmd->add_option("--chat-template", *template_file, "Use this Jinja file instead of the model's own template");
  cmd->add_flag("--no-generation-prompt", *no_generation_prompt, "Do not open an assistant turn at the end");
  cmd->callback([=] {
    const ChatTemplate tmpl = load_chat_template(
        *model, template_file->empty() ? std::nullopt : std::optional<std::filesystem::path>(*template_file));
    ChatRequest request = read_chat_request(*messages);
    request.add_generation_prompt = !*no_generation_prompt;
    fmt::print("{}", render_chat_template(tmpl, request));
  });
}

}  // namespace lp::cli
