#pragma once
// One sequence being evaluated: the KV cache, the scratch buffers and the forward pass.
// Everything is allocated when the session is made, so evaluating tokens allocates
// nothing. A prompt is evaluated in batches: each weight is one matrix product per batch.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "core/ggml_types.h"
#include "engine/activation_observer.h"
#include "engine/attention.h"
#include "engine/model_weights.h"
#include "engine/rope.h"
#include "engine/sequence_evaluator.h"

namespace lp {

struct SessionOptions {
  int64_t ctx_size = 4096;    // positions the KV cache holds
  int64_t batch_size = 512;   // tokens per forward pass while prefilling
  // What the KV cache stores each head's keys and values as: F16, F32, Q8_0 or Q4_0
  // (kernels/kv_rows.h; the quantized types need head sizes that are whole blocks of 32).
  GgmlType kv_type = GgmlType::F16;
  // float32: quantized weights meet float32 activations (the model's exact arithmetic, for
  // reference measurements) instead of 8-bit ones (the fast path, as llama.cpp computes).
  ActivationPrecision activations = ActivationPrecision::quantized;
  unsigned threads = 1;
  // Independent sequences with a KV cache of ctx_size positions each (a server's slots):
  // eval_sequences() advances several of them in one forward pass.
  int64_t sequences = 1;
  ActivationObserver* observer = nullptr;  // sees every matrix product's input (imatrix); not owned
};

// Rows of one forward pass that belong to one sequence: its next `count` tokens.
struct SequenceRun {
  int64_t sequence = 0;
  int64_t count = 0;
};

// The SequenceEvaluator methods act on sequence 0; a session made with several sequences
// also evaluates them together (eval_sequences).
class InferenceSession final : public SequenceEvaluator {
 public:
  InferenceSession(const LoadedModel& model, const SessionOptions& options);

  int64_t n_past() const override { return n_past_[0]; }
  int64_t n_past(int64_t sequence) const { return n_past_.at(static_cast<size_t>(sequence)); }
  int64_t sequences() const { return options_.sequences; }
  int64_t batch_size() const { return options_.batch_size; }
  int64_t ctx_size() const override { return options_.ctx_size; }
  int64_t vocab_size() const override { return n_vocab_; }
  uint64_t kv_cache_bytes() const override;  // what the KV cache holds allocated, all layers
  // The session's threads: work between evaluations (a bandwidth probe) runs on them rather
  // than beside them, competing for the cores while they wait for the next job.
  ThreadPool& pool() { return pool_; }
  // Forgets every position from `n` on (a prompt that shares a prefix keeps it).
  void rewind(int64_t n) override { rewind(0, n); }
  void rewind(int64_t sequence, int64_t n);

  // Evaluates `tokens` at the next positions. With all_logits, `logits` receives one row of
  // vocab_size() logits per token; otherwise only the last token's row. InputError when the
  // cache would overflow or a token id is outside the vocabulary.
  void eval(std::span<const int32_t> tokens, std::span<float> logits, bool all_logits) override;

  // Several sequences' next tokens in one forward pass (continuous batching): `tokens` holds
  // the runs' tokens one run after another, every weight is one matrix product over all of
  // them, and `logits` receives one row per run, its last token's. At most batch_size tokens
  // in all; each sequence at most once.
  void eval_sequences(std::span<const SequenceRun> runs, std::span<const int32_t> tokens, std::span<float> logits);

 private:
  void check_tokens(std::span<const int32_t> tokens) const;
  // The forward pass over `runs` (their rows together in `tokens`); all_logits: a single
  // run's every row, else each run's last row.
  void eval_batch(const int32_t* tokens, std::span<const SequenceRun> runs, float* logits, bool all_logits);
  void attention(size_t layer, std::span<const SequenceRun> runs);
  void store_kv(size_t layer, std::span<const SequenceRun> runs);
  void feed_forward(const LayerWeights& L, int64_t n);
  void route_to_experts(const LayerWeights& L, int64_t n);
  void mixture_of_experts(const LayerWeights& L, int64_t n);
  void experts_for_one_token(const LayerWeights& L);
  void expert_activation(const LayerWeights& L, int64_t e, float* gate, float* up, int64_t rows);
  // Shows the observer, if any, `n` input rows of `role` (see activation_observer.h).
  void observe(MatrixRole role, const float* x, int64_t n, int64_t cols, int64_t expert = -1) {
    if (options_.observer) options_.observer->observe(layer_, role, expert, x, n, cols);
  }

  const LoadedModel& model_;
  const ModelHParams& h_;
  SessionOptions options_;
  ThreadPool pool_;
  int64_t n_embd_, n_head_, n_head_kv_, head_dim_, head_dim_v_, n_ff_, n_vocab_;
  float attn_scale_;
  Rope rope_global_, rope_local_;
  std::vector<int64_t> n_past_;  // per sequence
  std::vector<int64_t> row_position_;  // the batch's rows' positions
  std::vector<uint8_t> sequence_seen_;  // eval_sequences' check that no sequence comes twice
  int64_t layer_ = 0;  // the layer being evaluated (for the observer)

  // KV cache, per layer: per sequence, per KV head, ctx_size rows of kv_type (head_dim values).
  std::vector<std::vector<uint8_t>> k_cache_, v_cache_;
  int64_t key_positions_ = 0;  // per sequence and KV head: ctx_size, rounded up to whole tiles for F16 keys
  int64_t k_row_bytes_ = 0, v_row_bytes_ = 0;

  // Scratch, sized for batch_size tokens.
  std::vector<float> x_, xn_, q_, k_, v_, qkv_, attn_, proj_, gate_, up_, ffn_in_;
  std::vector<float> cos_global_, sin_global_, cos_local_, sin_local_;
  // Mixture of experts: router logits, each token's chosen experts and weights, and the
  // tokens grouped by expert (counting sort), their inputs gathered and outputs per group.
  int64_t n_expert_ = 0, n_expert_used_ = 0, n_ff_exp_ = 0;
  std::vector<float> router_, chosen_weight_, expert_in_, expert_out_;
  std::vector<int32_t> chosen_expert_, group_start_, group_fill_, group_slot_;
  std::vector<MatmulOutput> expert_gate_up_;  // decoding: the chosen experts' products, one pass each
  std::vector<MatmulTask> expert_down_;
  AttentionShape attention_shape_;
  CachedAttention attention_;
};

}  // namespace lp
