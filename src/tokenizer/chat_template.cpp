#include "tokenizer/chat_template.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf_reader.h"
#include "formats/json_guard.h"
#include "tokenizer/jinja_interpreter.h"
#include "tokenizer/jinja_parser.h"
#include "tokenizer/tokenizer_summary.h"

namespace lp {
namespace {

std::optional<std::string> special_text(const TokenizerSummary& t, const char* role) {
  for (const auto& s : t.special) {
    if (s.role == role && !s.text.empty()) return s.text;
  }
  return std::nullopt;
}

// transformers copies a message's reasoning, under whichever name it came, to
// `reasoning_content` (which templates read) and to `thinking` (gpt-oss reads that).
jinja::Value alias_reasoning(const jinja::Value& message) {
  if (!message.is_dict()) return message;
  const auto& d = message.dict_data();
  const jinja::Value* reasoning = nullptr;
  for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
    const jinja::Value* v = d.find(key);
    if (v != nullptr && !v->is_none()) {
      reasoning = v;
      break;
    }
  }
  if (reasoning == nullptr) return message;
  jinja::Value out = jinja::Value::dict();
  out.dict_data().set("thinking", *reasoning);
  for (const auto& [k, v] : d.items) out.dict_data().set(k, v);
  out.dict_data().set("reasoning_content", *reasoning);
  return out;
}

// The variables transformers passes: tools and documents are always defined (None when absent).
void set_variables(const ChatTemplate& tmpl, const ChatRequest& request, jinja::DictData& vars) {
  std::vector<jinja::Value> messages;
  for (const auto& m : request.messages) messages.push_back(alias_reasoning(jinja::Value::from_json(m)));
  vars.set("messages", jinja::Value::list(std::move(messages)));
  vars.set("tools", jinja::Value::from_json(request.tools));
  vars.set("documents", jinja::Value::from_json(request.documents));
  vars.set("add_generation_prompt", jinja::Value(request.add_generation_prompt));
  if (tmpl.bos_token) vars.set("bos_token", jinja::Value(*tmpl.bos_token));
  if (tmpl.eos_token) vars.set("eos_token", jinja::Value(*tmpl.eos_token));
  for (const auto& [key, value] : request.extra.items()) vars.set(key, jinja::Value::from_json(value));
}

}  // namespace

ChatTemplate load_chat_template(const std::filesystem::path& model, const std::optional<std::filesystem::path>& template_file) {
  std::error_code ec;
  std::optional<TokenizerSummary> summary;
  if (std::filesystem::is_directory(model, ec)) {
    summary = tokenizer_summary_from_hf(model);
    if (!summary) fail("{} has no tokenizer.json, so it has no chat template to read", model.string());
  } else {
    summary = tokenizer_summary_from_gguf(GgufModel::open(model));
  }
  if (template_file) {
    const MappedFile file = MappedFile::open(*template_file);
    summary->chat_template = std::string(reinterpret_cast<const char*>(file.bytes().data()), file.size());
  }
  if (!summary->chat_template) {
    fail("{} has no chat template (a base model?): neither tokenizer.chat_template nor a chat_template in its tokenizer files",
         model.string());
  }
  return {*summary->chat_template, special_text(*summary, "bos"), special_text(*summary, "eos")};
}

std::optional<ChatTemplate> chat_template_if_any(const std::filesystem::path& model) {
  try {
    return load_chat_template(model);
  } catch (const InputError&) {
    return std::nullopt;
  }
}

ChatRequest read_chat_request(const std::string& path) {
  const MappedFile file = MappedFile::open(path);
  return parse_chat_request(std::string_view(reinterpret_cast<const char*>(file.bytes().data()), file.size()), path);
}

ChatRequest parse_chat_request(std::string_view text, const std::string& path) {
  parse_untrusted_json(text, path);  // bounds nesting and reports invalid JSON
  // Parsed again keeping key order, which tojson reproduces in the prompt.
  const auto j = nlohmann::ordered_json::parse(text.begin(), text.end());
  ChatRequest r;
  if (j.is_array()) {
    r.messages = j;
  } else if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "messages") r.messages = value;
      else if (key == "tools") r.tools = value;
      else if (key == "documents") r.documents = value;
      else if (key == "add_generation_prompt") fail("{}: set add_generation_prompt with --no-generation-prompt, not in the file", path);
      else r.extra[key] = value;
    }
    if (!j.contains("messages")) fail("{} has no \"messages\" list", path);
  } else {
    fail("{} must hold a list of messages or an object with \"messages\"", path);
  }
  if (!r.messages.is_array()) fail("{}: \"messages\" must be a list", path);
  for (const auto& m : r.messages) {
    if (!m.is_object()) fail("{}: every message must be an object such as {{\"role\": \"user\", \"content\": \"...\"}}", path);
  }
  if (!r.tools.is_null() && !r.tools.is_array()) fail("{}: \"tools\" must be a list", path);
  return r;
}

std::string render_chat_template(const ChatTemplate& tmpl, const ChatRequest& request, const jinja::RenderLimits& limits) {
  const jinja::Body program = jinja::parse_template(tmpl.text);
  jinja::DictData vars;
  try {
    set_variables(tmpl, request, vars);
  } catch (const jinja::TemplateError& e) {
    fail("the conversation cannot be passed to the chat template: {}", e.what());
  }
  return jinja::render(program, vars, limits);
}

}  // namespace lp
