#include "engine/token_stream.h"

#include <algorithm>
#include <cmath>

namespace lp {
namespace {

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

TokenLogprob token_logprob(std::span<const float> logits, int32_t token, int64_t top) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  const double log_norm = static_cast<double>(max) + std::log(sum);
  TokenLogprob out;
  out.token = token;
  out.logprob = static_cast<double>(logits[static_cast<size_t>(token)]) - log_norm;
  const auto k = static_cast<size_t>(std::min<int64_t>(top, static_cast<int64_t>(logits.size())));
  if (k == 0) return out;
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    [&](int32_t a, int32_t b) { return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)]; });
  for (size_t i = 0; i < k; ++i) out.top.emplace_back(ids[i], static_cast<double>(logits[static_cast<size_t>(ids[i])]) - log_norm);
  return out;
}

}  // namespace

TokenStream::TokenStream(const Tokenizer& tokenizer, const std::vector<int32_t>& end_ids, const GenerationSettings& settings,
                         std::vector<int32_t> history)
    : tokenizer_(tokenizer), end_ids_(end_ids), settings_(settings), sampler_(settings.sampling),
      decoder_(tokenizer, true), history_(std::move(history)) {
  if (settings_.max_new_tokens == 0) end("length");
}

std::optional<int32_t> TokenStream::next(std::span<const float> logits, int64_t n_past, int64_t ctx_size) {
  if (finished_) return std::nullopt;
  const int32_t token = sampler_.sample(logits, history_);
  if (!settings_.ignore_eos && std::binary_search(end_ids_.begin(), end_ids_.end(), token)) {
    end("eos");
    return std::nullopt;
  }
  tokens_.push_back(token);
  history_.push_back(token);
  if (settings_.top_logprobs >= 0) logprobs_.push_back(token_logprob(logits, token, settings_.top_logprobs));
  text_ += decoder_.step(token);
  if (const size_t at = find_stop(text_, settings_.stop_strings); at != std::string::npos) {
    text_.resize(at);
    safe_ = text_.size();
    stop_reason_ = "stop_string";
    finished_ = true;
    return std::nullopt;
  }
  safe_ = std::max(safe_, text_.size() - pending_stop_prefix(text_, settings_.stop_strings));
  if (settings_.max_new_tokens >= 0 && static_cast<int64_t>(tokens_.size()) >= settings_.max_new_tokens) {
    end("length");
    return std::nullopt;
  }
  if (n_past + 1 >= ctx_size) {
    end("context");
    return std::nullopt;
  }
  return token;
}

void TokenStream::end(const std::string& reason) {
  if (finished_) return;
  stop_reason_ = reason;
  finished_ = true;
  text_ += decoder_.finish();
  safe_ = text_.size();
}

void TokenStream::finish(const std::string& reason) { end(reason); }

std::string TokenStream::take_text() {
  std::string out = text_.substr(taken_, safe_ > taken_ ? safe_ - taken_ : 0);
  taken_ = std::max(taken_, safe_);
  return out;
}

}  // namespace lp
