#include "validate/mc_scoring.h"

#include <algorithm>

#include "core/error.h"
#include "validate/token_scoring.h"

namespace lp::validate {

EncodedQuestion encode_question(const Tokenizer& tokenizer, const McQuestion& q) {
  std::string context = q.context;
  const size_t kept = context.find_last_not_of(" \t\n\r\f\v");  // Python's rstrip()
  const std::string moved = kept == std::string::npos ? context : context.substr(kept + 1);
  context.resize(context.size() - moved.size());
  EncodedQuestion e;
  e.context = tokenizer.encode(context, false);
  if (e.context.empty()) fail("question {}: its context encodes to no tokens", q.id);
  for (const std::string& c : q.continuations) {
    const std::vector<int32_t> whole = tokenizer.encode(context + moved + c, false);
    // lm-eval slices by the context's token count even when the merge at the boundary makes
    // the whole's first tokens differ from the context's: we do the same.
    std::vector<int32_t> cont;
    if (whole.size() > e.context.size()) cont.assign(whole.begin() + static_cast<ptrdiff_t>(e.context.size()), whole.end());
    if (cont.empty()) fail("question {}: choice '{}' adds no tokens to the context", q.id, c);
    e.continuations.push_back(std::move(cont));
  }
  return e;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

size_t argmax_first(const std::vector<double>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

McScorer::McScorer(const LoadedModel& model, const Tokenizer& tokenizer, const SessionOptions& options)
    : session_(model, options), tokenizer_(tokenizer), n_vocab_(session_.vocab_size()),
      last_row_(static_cast<size_t>(n_vocab_)) {}

McResult McScorer::score(const McQuestion& q) {
  EncodedQuestion e = encode_question(tokenizer_, q);
  McResult r;
  size_t longest = 0;
  for (const auto& c : e.continuations) longest = std::max(longest, c.size());
  const int64_t room = session_.ctx_size() + 1 - static_cast<int64_t>(longest);
  if (room < 1) fail("question {}: a choice of {} tokens does not fit the context of {}", q.id, longest, session_.ctx_size());
  if (static_cast<int64_t>(e.context.size()) > room) {
    r.truncated_tokens = static_cast<int64_t>(e.context.size()) - room;
    e.context.erase(e.context.begin(), e.context.begin() + r.truncated_tokens);
  }
  r.context_tokens = static_cast<int64_t>(e.context.size());

  // Keep what the cache already holds of this context; evaluate at least its last token, whose
  // row predicts every continuation's first token.
  size_t common = 0;
  const size_t limit = std::min(cached_.size(), e.context.size() - 1);
  while (common < limit && cached_[common] == e.context[common]) ++common;
  session_.rewind(static_cast<int64_t>(common));
  session_.eval(std::span(e.context).subspan(common), last_row_, false);
  cached_ = e.context;
  const LogitsRow last = summarize_row(last_row_.data(), n_vocab_);

  std::vector<double> acc, norm;
  for (size_t i = 0; i < e.continuations.size(); ++i) {
    const std::vector<int32_t>& cont = e.continuations[i];
    ChoiceScore s;
    s.tokens = static_cast<int64_t>(cont.size());
    s.logprob = last.log_prob(cont[0]);
    s.greedy = last.argmax == cont[0];
    if (cont.size() > 1) {
      // Rows for the continuation's tokens but its last predict tokens 1..n-1.
      const size_t n = cont.size() - 1;
      rows_.resize(n * static_cast<size_t>(n_vocab_));
      session_.rewind(static_cast<int64_t>(e.context.size()));
      session_.eval(std::span(cont).first(n), rows_, true);
      for (size_t t = 0; t < n; ++t) {
        const LogitsRow row = summarize_row(rows_.data() + t * static_cast<size_t>(n_vocab_), n_vocab_);
        s.logprob += row.log_prob(cont[t + 1]);
        s.greedy = s.greedy && row.argmax == cont[t + 1];
      }
    }
    acc.push_back(s.logprob);
    const size_t len = utf8_length(q.choice_texts[i]);
    norm.push_back(s.logprob / static_cast<double>(len > 0 ? len : 1));
    r.choices.push_back(s);
  }
  session_.rewind(static_cast<int64_t>(e.context.size()));
  r.chosen = argmax_first(acc);
  r.chosen_norm = argmax_first(norm);
  return r;
}

}  // namespace lp::validate
