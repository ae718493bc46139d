#include "validate/token_scoring.h"

#include <cmath>

namespace lp::validate {

LogitsRow summarize_row(const float* logits, int64_t n_vocab) {
  LogitsRow r{logits, logits[0], 0, 0.0};
  for (int64_t i = 1; i < n_vocab; ++i) {
    if (logits[i] > r.max) {
      r.max = logits[i];
      r.argmax = i;
    }
  }
  double sum = 0;
  for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(logits[i] - r.max);
  r.log_sum_exp = r.max + std::log(sum);
  return r;
}

double token_nll(const float* logits, int64_t n_vocab, int32_t token) {
  return -summarize_row(logits, n_vocab).log_prob(token);
}

TokenScore score_against_logits(const float* model, const float* reference, int64_t n_vocab, int32_t token) {
  const LogitsRow q = summarize_row(model, n_vocab);
  const LogitsRow p = summarize_row(reference, n_vocab);
  TokenScore s;
  s.nll = -q.log_prob(token);
  s.nll_ref = -p.log_prob(token);
  double kld = 0;
  for (int64_t v = 0; v < n_vocab; ++v) {
    const double lp = p.log_prob(v);
    kld += std::exp(lp) * (lp - q.log_prob(v));
  }
  // Rounding can leave a tiny negative sum for near-identical rows; KL is never negative.
  s.kld = kld > 0 ? kld : 0.0;
  s.p_diff = std::exp(-s.nll) - std::exp(-s.nll_ref);
  s.same_top = q.argmax == p.argmax;
  return s;
}

TokenScore score_against_quantized(const float* model, const QuantizedLogProbs& reference, int64_t n_vocab,
                                   int32_t token) {
  const LogitsRow q = summarize_row(model, n_vocab);
  TokenScore s;
  s.nll = -q.log_prob(token);
  s.nll_ref = -static_cast<double>(reference.log_prob(token));
  double kld = 0;
  int64_t argmax_ref = 0;
  float best = reference.log_prob(0);
  for (int64_t v = 0; v < n_vocab; ++v) {
    const float lp = reference.log_prob(v);
    if (lp > best) {
      best = lp;
      argmax_ref = v;
    }
    if (lp > -16.f) kld += std::exp(static_cast<double>(lp)) * (lp - q.log_prob(v));
  }
  s.kld = kld;  // may be slightly negative: the skipped tail is not renormalized (as in llama.cpp)
  s.p_diff = std::exp(-s.nll) - std::exp(-s.nll_ref);
  s.same_top = q.argmax == argmax_ref;
  return s;
}

}  // namespace lp::validate
