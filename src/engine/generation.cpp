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

size_t find_stop(const std::string& text, const std::vector<std::string>& stops) {
  size_t first = std::string::npos;
  for (const auto& stop : stops) {
    if (!stop.empty()) first = std::min(first, text.find(stop));
  }
  return first;
}

// Length of the longest tail of `text` that begins some stop string.
size_t pending_stop_prefix(const std::string& text, const std::vector<std::string>& stops) {
  size_t longest = 0;
  for (const auto& stop : stops) {
    for (size_t n = std::min(stop.size() - (stop.empty() ? 0 : 1), text.size()); n > longest; --n) {
      if (text.compare(text.size() - n, n, stop, 0, n) == 0) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

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

  Sampler sampler(settings.sampling);
  StreamDecoder decoder(tokenizer_, true);
  result.stop_reason = "length";
  size_t emitted = 0;  // bytes of result.text handed to on_text
  while (settings.max_new_tokens != 0) {
    const int32_t token = sampler.sample(logits_, history_);
    if (result.tokens.empty()) result.timings.first_token_seconds = since(start);
    if (!settings.ignore_eos && std::binary_search(end_ids_.begin(), end_ids_.end(), token)) {
      result.stop_reason = "eos";
      break;
    }
    result.tokens.push_back(token);
    result.text += decoder.step(token);
    if (const size_t at = find_stop(result.text, settings.stop_strings); at != std::string::npos) {
      result.text.resize(at);
      result.stop_reason = "stop_string";
      break;
    }
    // Hold back a tail that may be the start of a stop string, so nothing printed is taken back.
    const size_t safe = result.text.size() - pending_stop_prefix(result.text, settings.stop_strings);
    if (on_text && safe > emitted) on_text(result.text.substr(emitted, safe - emitted));
    emitted = std::max(emitted, safe);
    if (settings.max_new_tokens >= 0 && static_cast<int64_t>(result.tokens.size()) >= settings.max_new_tokens) break;
    if (session_.n_past() + 1 >= session_.ctx_size()) {
      result.stop_reason = "context";
      break;
    }
    const auto t0 = Clock::now();
    session_.eval(std::span(&token, 1), logits_, false);
    result.timings.decode_seconds += since(t0);
    ++result.timings.decoded_tokens;
    history_.push_back(token);
  }
  if (result.stop_reason != "stop_string") result.text += decoder.finish();
  if (on_text && result.text.size() > emitted) on_text(result.text.substr(emitted));
  result.timings.generated_tokens = static_cast<int64_t>(result.tokens.size());
  return result;
}

}  // namespace lp
