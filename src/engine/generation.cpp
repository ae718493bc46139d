#include "engine/generation.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace lp {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Chat turns end with one of these; a model lists some of them as EOS and not others.
constexpr std::string_view kTurnEndTokens[] = {"<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|eom_id|>",
                                               "<|end|>",    "<|endoftext|>", "</s>",       "<eos>"};

}  // namespace

std::vector<int32_t> end_of_generation_ids(const Tokenizer& tokenizer, const std::vector<int64_t>& eos_ids) {
  std::vector<int32_t> ids;
  for (int64_t id : eos_ids) ids.push_back(static_cast<int32_t>(id));
  for (size_t id = 0; id < tokenizer.vocab_size(); ++id) {
    const auto text = tokenizer.token_text(static_cast<int32_t>(id));
    if (!text || !tokenizer.is_special(static_cast<int32_t>(id))) continue;
    for (auto end : kTurnEndTokens) {
      if (*text == end) ids.push_back(static_cast<int32_t>(id));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Generator::Generator(SequenceEvaluator& session, const Tokenizer& tokenizer, std::vector<int32_t> end_ids)
    : session_(session), tokenizer_(tokenizer), end_ids_(std::move(end_ids)),
      logits_(static_cast<size_t>(session.vocab_size())) {}

GenerationResult Generator::generate(const std::vector<int32_t>& prompt, const GenerationSettings& settings,
                                     const std::function<void(const std::string&)>& on_text) {
  if (prompt.empty()) fail("the prompt has no tokens");
  GenerationResult result;
  // Keep what the cache already holds of this prompt; evaluate at least the last token to get logits.
  size_t shared = 0;
  while (shared < history_.size() && shared + 1 < prompt.size() && history_[shared] == prompt[shared]) ++shared;
  session_.rewind(static_cast<int64_t>(shared));
  history_.resize(shared);
  const std::vector<int32_t> fresh(prompt.begin() + static_cast<std::ptrdiff_t>(shared), prompt.end());
  if (static_cast<int64_t>(prompt.size()) >= session_.ctx_size()) {
    fail("the prompt has {} tokens and the context holds {}; raise --ctx-size", prompt.size(), session_.ctx_size());
  }

  const auto start = Clock::now();
  session_.eval(fresh, logits_, false);
  history_.insert(history_.end(), fresh.begin(), fresh.end());
  result.timings.prompt_tokens = static_cast<int64_t>(fresh.size());
  result.timings.prompt_seconds = since(start);

  TokenStream stream(tokenizer_, end_ids_, settings, history_);
  while (true) {
    const std::optional<int32_t> token = stream.next(logits_, session_.n_past(), session_.ctx_size());
    if (result.timings.first_token_seconds == 0.0) result.timings.first_token_seconds = since(start);
    if (on_text) {
      if (std::string piece = stream.take_text(); !piece.empty()) on_text(piece);
    }
    if (!token) break;
    const auto t0 = Clock::now();
    session_.eval(std::span(&*token, 1), logits_, false);
    result.timings.decode_seconds += since(t0);
    ++result.timings.decoded_tokens;
    history_.push_back(*token);
  }
  result.tokens = stream.tokens();
  result.logprobs = stream.logprobs();
  result.text = stream.text();
  result.stop_reason = stream.stop_reason();
  result.timings.generated_tokens = static_cast<int64_t>(result.tokens.size());
  return result;
}

}  // namespace lp
