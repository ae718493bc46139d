#pragma once
// One sequence's generation between forward passes: sample the next token from the logits,
// decide whether generation ends (an end-of-generation token, a stop string, the token limit,
// a full context), and turn tokens into text, holding back a tail that may still become a
// stop string so nothing handed out is taken back. Generator drives one of these over its
// own session; the server drives one per request over a shared, batched session.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "tokenizer/tokenizer.h"

namespace lp {

struct GenerationSettings {
  SamplingSettings sampling;
  int64_t max_new_tokens = 256;  // < 0: until the context is full
  bool ignore_eos = false;
  std::vector<std::string> stop_strings;
  int64_t top_logprobs = -1;     // >= 0: record each token's log-probability and this many alternatives
};

// A generated token's log-probability under the model (softmax of the raw logits, before
// sampling settings), with the most likely alternatives.
struct TokenLogprob {
  int32_t token = 0;
  double logprob = 0.0;
  std::vector<std::pair<int32_t, double>> top;
};

class TokenStream {
 public:
  // `history`: every token the sequence holds (the prompt), for the repetition penalties.
  TokenStream(const Tokenizer& tokenizer, const std::vector<int32_t>& end_ids, const GenerationSettings& settings,
              std::vector<int32_t> history);

  // Samples from `logits` (the last position's); returns the token to feed back next, or
  // nothing when generation has ended. `n_past`/`ctx_size`: the sequence's cache, after
  // which a token fed back must still fit.
  std::optional<int32_t> next(std::span<const float> logits, int64_t n_past, int64_t ctx_size);
  // Ends generation now (the caller stops, e.g. a client went away); reason as stop_reason().
  void finish(const std::string& reason);

  bool finished() const { return finished_; }
  // Text that became final since the last call (complete UTF-8, past any pending stop string).
  std::string take_text();
  const std::string& text() const { return text_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const std::vector<TokenLogprob>& logprobs() const { return logprobs_; }
  const std::string& stop_reason() const { return stop_reason_; }  // "eos", "stop_string", "length", "context"

 private:
  void end(const std::string& reason);

  const Tokenizer& tokenizer_;
  const std::vector<int32_t>& end_ids_;  // sorted
  GenerationSettings settings_;
  Sampler sampler_;
  StreamDecoder decoder_;
  std::vector<int32_t> history_, tokens_;
  std::vector<TokenLogprob> logprobs_;
  std::string text_, stop_reason_ = "length";
  size_t safe_ = 0, taken_ = 0;  // bytes of text_ that are final / handed out
  bool finished_ = false;
};

}  // namespace lp
