#include "validate/greedy_chat.h"

#include "core/error.h"

namespace lp::validate {

GreedyChat::GreedyChat(const LoadedModel& model, const Tokenizer& tokenizer, const std::filesystem::path& model_path,
                       const SessionOptions& options)
    : tokenizer_(tokenizer),
      template_(chat_template_if_any(model_path)),
      session_(model, options),
      generator_(session_, tokenizer, end_of_generation_ids(tokenizer, model.hparams().eos_token_ids)) {}

std::vector<int32_t> GreedyChat::prompt_tokens(const std::string& user_message) const {
  if (!template_) return tokenizer_.encode(user_message, true);
  ChatRequest request;
  request.messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", user_message}}});
  return tokenizer_.encode(render_chat_template(*template_, request), false);
}

GenerationResult GreedyChat::answer(const std::string& user_message, int64_t max_new_tokens) {
  GenerationSettings settings;
  settings.sampling.temperature = 0.0;  // greedy: deterministic, as TR125 generates
  settings.max_new_tokens = max_new_tokens;
  const std::vector<int32_t> prompt = prompt_tokens(user_message);
  if (static_cast<int64_t>(prompt.size()) + max_new_tokens > session_.ctx_size()) {
    fail("a prompt of {} tokens and {} generated tokens do not fit the context of {} tokens (raise --ctx-size)",
         prompt.size(), max_new_tokens, session_.ctx_size());
  }
  return generator_.generate(prompt, settings, nullptr);
}

std::string GreedyChat::prompt_format() const { return template_ ? "chat_template" : "raw (no chat template)"; }

}  // namespace lp::validate
