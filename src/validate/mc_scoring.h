#pragma once
// Log-likelihood scoring of multiple-choice questions as lm-evaluation-harness does it
// (HFLM.loglikelihood): each choice's score is the sum of log p(token) over the
// continuation's tokens given the context; acc picks the highest sum, acc_norm the highest
// sum divided by the choice text's length (lm-eval's len(choice), Unicode characters).
//
// Tokenization is lm-eval's _encode_pair: trailing whitespace of the context move to the front
// of the continuation; then context_tokens = encode(context) and continuation_tokens =
// encode(context + continuation)[len(context_tokens):], both without special tokens (lm-eval's
// default add_bos_token=False). The model sees context_tokens + continuation_tokens.
//
// Speed: the context is evaluated once per question (and only the part that differs from the
// previous question's context: 5-shot MMLU questions of one subject share their five
// examples), then each choice rewinds to the context's end and evaluates just its own
// tokens. A one-token continuation (MMLU's " A") costs no evaluation at all: its
// log-probability is read from the context's last row.
//
// Too long for the context: the context loses its first tokens so that context + the longest
// continuation - 1 fits (lm-eval keeps the last max_length + 1 tokens of each context +
// continuation; the same for one-token continuations, within a few tokens otherwise).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/inference_session.h"
#include "tokenizer/tokenizer.h"
#include "validate/mc_questions.h"

namespace lp::validate {

struct ChoiceScore {
  double logprob = 0.0;  // Σ log p(continuation token | everything before it)
  int64_t tokens = 0;
  bool greedy = false;   // every continuation token was the model's argmax (lm-eval's is_greedy)
};

struct McResult {
  std::vector<ChoiceScore> choices;
  size_t chosen = 0;       // argmax of logprob (first on ties, as numpy's argmax)
  size_t chosen_norm = 0;  // argmax of logprob / len(choice text)
  int64_t context_tokens = 0;
  int64_t truncated_tokens = 0;  // context tokens dropped to fit the context window
};

// lm-eval's _encode_pair for one context and its continuations.
struct EncodedQuestion {
  std::vector<int32_t> context;
  std::vector<std::vector<int32_t>> continuations;
};
EncodedQuestion encode_question(const Tokenizer& tokenizer, const McQuestion& q);

// Unicode characters of UTF-8 text (Python's len of the decoded string).
size_t utf8_length(const std::string& s);

// Indices of the largest value, the first one on ties.
size_t argmax_first(const std::vector<double>& v);

class McScorer {
 public:
  McScorer(const LoadedModel& model, const Tokenizer& tokenizer, const SessionOptions& options);
  McResult score(const McQuestion& q);

 private:
  InferenceSession session_;
  const Tokenizer& tokenizer_;
  int64_t n_vocab_;
  std::vector<int32_t> cached_;  // the context tokens the session's cache holds
  std::vector<float> last_row_, rows_;
};

}  // namespace lp::validate
