#pragma once
// A model's chat template and the prompt it makes of a conversation, rendered the way
// transformers' apply_chat_template does (same variables, same jinja2 semantics), so the
// prompt we feed a model is the one it was trained on.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja_interpreter.h"

namespace lp {

struct ChatTemplate {
  std::string text;
  std::optional<std::string> bos_token, eos_token;  // passed to the template as bos_token / eos_token
};

// From a GGUF file's tokenizer.chat_template, or a Hugging Face directory's
// tokenizer_config.json (a string, or the "default" of a list of named templates) or
// chat_template.jinja. InputError when the model has none. With `template_file`, that
// file's text replaces the model's template (the model still gives bos/eos tokens).
ChatTemplate load_chat_template(const std::filesystem::path& model,
                                const std::optional<std::filesystem::path>& template_file = std::nullopt);

// The model's template, or none where load_chat_template finds none (a base model, whose
// prompts are plain completions).
std::optional<ChatTemplate> chat_template_if_any(const std::filesystem::path& model);

// What a conversation file holds: {"messages": [...], "tools": [...], other template
// variables...} or just the list of messages. Key order is kept: tojson prints it.
struct ChatRequest {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;      // null when absent
  nlohmann::ordered_json documents;  // null when absent
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // more variables, e.g. enable_thinking
  bool add_generation_prompt = true;
};

ChatRequest read_chat_request(const std::string& path);
// The same from the file's text; `path` names it in errors.
ChatRequest parse_chat_request(std::string_view text, const std::string& path);

// Errors (a syntax error, an unsupported construct, raise_exception, a runaway template)
// are InputErrors naming the template line.
std::string render_chat_template(const ChatTemplate& tmpl, const ChatRequest& request,
                                 const jinja::RenderLimits& limits = {});

}  // namespace lp
