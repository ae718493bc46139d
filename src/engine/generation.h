#pragma once
// Generating text from a prompt: the prompt is evaluated (sharing any prefix the session
// already holds), then tokens are sampled one at a time until an end-of-generation token,
// a stop string or the token limit. Timings are the ones Ollama reports.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/inference_session.h"
#include "engine/token_stream.h"
#include "tokenizer/tokenizer.h"

namespace lp {

struct GenerationTimings {
  int64_t prompt_tokens = 0;     // evaluated this turn (a shared prefix is not counted)
  double prompt_seconds = 0.0;
  int64_t generated_tokens = 0;
  int64_t decoded_tokens = 0;       // single-token forward passes (generated tokens fed back)
  double decode_seconds = 0.0;      // time in those passes: decode speed is decoded_tokens / decode_seconds
  double first_token_seconds = 0.0; // from the start of the prompt's evaluation
};

struct GenerationResult {
  std::vector<int32_t> tokens;
  std::vector<TokenLogprob> logprobs;  // with settings.top_logprobs >= 0
  std::string text;
  std::string stop_reason;  // "eos", "stop_string", "length", "context"
  GenerationTimings timings;
};

// End-of-generation ids: the model's EOS ids and the special tokens that end a chat turn.
std::vector<int32_t> end_of_generation_ids(const Tokenizer& tokenizer, const std::vector<int64_t>& eos_ids);

class Generator {
 public:
  Generator(SequenceEvaluator& session, const Tokenizer& tokenizer, std::vector<int32_t> end_ids);
  // `on_text` receives the text of each new token as soon as it is complete UTF-8.
  GenerationResult generate(const std::vector<int32_t>& prompt, const GenerationSettings& settings,
                            const std::function<void(const std::string&)>& on_text);

 private:
  SequenceEvaluator& session_;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> end_ids_;
  std::vector<int32_t> history_;  // the tokens the session's cache holds
  std::vector<float> logits_;
};

}  // namespace lp
