#pragma once
// What one scored position contributes to perplexity and to the KL-divergence statistics:
// the negative log-likelihood of the true next token under the model (and the reference),
// KL(reference || model) over the whole vocabulary, Δp = p_model(true) − p_ref(true), and
// whether both put their highest probability on the same token.
#include <cstdint>

#include "validate/reference_logits_file.h"

namespace lp::validate {

struct TokenScore {
  double nll = 0.0;      // −log p_model(token)
  double nll_ref = 0.0;  // −log p_ref(token)
  double kld = 0.0;      // Σ_v p_ref(v) (log p_ref(v) − log p_model(v))
  double p_diff = 0.0;   // p_model(token) − p_ref(token)
  bool same_top = false;
};

// The log-sum-exp of a row of logits and its first largest entry. Exponentials in float
// summed in double, like llama-perplexity.
struct LogitsRow {
  const float* logits;
  float max;
  int64_t argmax;
  double log_sum_exp;  // log Σ exp(logit); log p(v) = logit(v) − log_sum_exp

  double log_prob(int64_t v) const { return static_cast<double>(logits[v]) - log_sum_exp; }
};
LogitsRow summarize_row(const float* logits, int64_t n_vocab);

// Perplexity only.
double token_nll(const float* logits, int64_t n_vocab, int32_t token);

// Both models evaluated here: the exact KL over every vocabulary entry (≥ 0; exactly 0 for
// two identical rows).
TokenScore score_against_logits(const float* model, const float* reference, int64_t n_vocab, int32_t token);

// Reference from a base-logits file: llama-perplexity's rule, so the two tools agree on the
// same file. Entries whose stored log-prob is at or below −16 are skipped: the format clamps
// them to its floor (reference_logits_file.h), so they carry no information.
TokenScore score_against_quantized(const float* model, const QuantizedLogProbs& reference, int64_t n_vocab,
                                   int32_t token);

}  // namespace lp::validate
