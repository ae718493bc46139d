#pragma once
// One user message in, the model's greedy answer out: the way `validate` generates for
// generate-and-rescore multiple choice and for generation fidelity (TR125 generates at
// temperature 0 through each model's chat template). A model without a chat template (a base
// model) gets the message as a plain completion prompt, with its tokenizer's BOS.
#include <memory>
#include <optional>
#include <string>

#include "engine/generation.h"
#include "engine/inference_session.h"
#include "engine/model_weights.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace lp::validate {

class GreedyChat {
 public:
  GreedyChat(const LoadedModel& model, const Tokenizer& tokenizer, const std::filesystem::path& model_path,
             const SessionOptions& options);
  GenerationResult answer(const std::string& user_message, int64_t max_new_tokens);
  // "chat_template" or "raw (no chat template)": recorded with the results.
  std::string prompt_format() const;

 private:
  // The prompt tokens answer() feeds the model for a message.
  std::vector<int32_t> prompt_tokens(const std::string& user_message) const;

  const Tokenizer& tokenizer_;
  std::optional<ChatTemplate> template_;
  InferenceSession session_;
  Generator generator_;
};

}  // namespace lp::validate
