#include "engine/inference_session.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>

#include "core/error.h"
#include "engine/ops.h"
#include "kernels/kv_rows.h"

namespace lp {
namespace {

RopeSettings global_rope(const ModelHParams& h, const ModelWeights& w) {
  RopeSettings s;
  s.base = h.rope_freq_base;
  s.dims = static_cast<int64_t>(h.key_length);
  s.freq_factors = w.rope_factors;
  s.neox = h.info->rope_neox;
  if (h.rope_scaling.type == "linear" && h.rope_scaling.factor > 0) s.position_scale = h.rope_scaling.factor;
  if (h.rope_scaling.type == "yarn" && h.rope_scaling.factor > 1.0) {
    s.yarn_factor = h.rope_scaling.factor;
    s.yarn_original_context = h.rope_scaling.original_context_length > 0 ? h.rope_scaling.original_context_length : h.context_length;
    s.attn_factor = h.rope_scaling.attn_factor.value_or(0.1 * std::log(h.rope_scaling.factor) + 1.0);
    s.yarn_beta_fast = h.rope_scaling.beta_fast;
    s.yarn_beta_slow = h.rope_scaling.beta_slow;
    s.yarn_truncate = h.rope_scaling.yarn_truncate;
  }
  if (h.rope_scaling.type == "longrope" && h.rope_scaling.original_context_length > 0 &&
      h.context_length > h.rope_scaling.original_context_length) {
    // Phi-3 long-context models scale attention by sqrt(1 + ln(factor) / ln(original length)).
    const double factor = static_cast<double>(h.context_length) / static_cast<double>(h.rope_scaling.original_context_length);
    s.attn_factor = h.rope_scaling.attn_factor.value_or(
        std::sqrt(1.0 + std::log(factor) / std::log(static_cast<double>(h.rope_scaling.original_context_length))));
  }
  return s;
}

// Gemma 3's sliding-window layers rotate with a base of their own and no scaling; other
// models' windowed layers (gpt-oss) rotate like the global ones.
RopeSettings local_rope(const ModelHParams& h, const ModelWeights& w) {
  if (!h.rope_freq_base_local) return global_rope(h, w);
  RopeSettings s;
  s.base = h.rope_freq_base_local.value_or(h.rope_freq_base);
  s.dims = static_cast<int64_t>(h.key_length);
  s.neox = h.info->rope_neox;
  return s;
}

}  // namespace

InferenceSession::InferenceSession(const LoadedModel& model, const SessionOptions& options)
    : model_(model),
      h_(model.hparams()),
      options_(options),
      pool_(std::max(1u, options.threads)),
      n_embd_(static_cast<int64_t>(h_.embedding_length)),
      n_head_(static_cast<int64_t>(h_.head_count)),
      n_head_kv_(static_cast<int64_t>(h_.head_count_kv)),
      head_dim_(static_cast<int64_t>(h_.key_length)),
      head_dim_v_(static_cast<int64_t>(h_.value_length)),
      n_ff_(static_cast<int64_t>(h_.feed_forward_length)),
      n_vocab_(static_cast<int64_t>(h_.vocab_size)),
      attn_scale_(static_cast<float>(h_.attention_scale.value_or(1.0 / std::sqrt(static_cast<double>(h_.key_length))))),
      rope_global_(global_rope(h_, model.weights())),
      rope_local_(local_rope(h_, model.weights())),
      attention_shape_{n_head_, n_head_kv_, head_dim_, head_dim_v_, attn_scale_,
                       static_cast<float>(h_.attn_logit_softcapping.value_or(0.0)), 0},
      attention_(attention_shape_, pool_.size()) {
  if (options_.ctx_size <= 0 || options_.ctx_size > (int64_t{1} << 24)) fail("context size {} is out of range", options_.ctx_size);
  if (options_.sequences < 1 || options_.sequences > 1024) fail("{} sequences is out of range (1 to 1024)", options_.sequences);
  options_.batch_size = std::clamp<int64_t>(options_.batch_size, 1, options_.ctx_size);
  n_past_.assign(static_cast<size_t>(options_.sequences), 0);
  sequence_seen_.assign(static_cast<size_t>(options_.sequences), 0);
  row_position_.resize(static_cast<size_t>(options_.batch_size));
  const size_t layers = model.weights().layers.size();
  check_kv_cache_fits(options_.kv_type, head_dim_, head_dim_v_);
  k_row_bytes_ = static_cast<int64_t>(*ggml_row_bytes(options_.kv_type, static_cast<uint64_t>(head_dim_)));
  v_row_bytes_ = static_cast<int64_t>(*ggml_row_bytes(options_.kv_type, static_cast<uint64_t>(head_dim_v_)));
  key_positions_ = kv_key_positions(options_.kv_type, options_.ctx_size);
  const auto heads = static_cast<size_t>(options_.sequences * n_head_kv_);
  for (size_t l = 0; l < layers; ++l) {
    k_cache_.emplace_back(heads * static_cast<size_t>(key_positions_ * k_row_bytes_));
    v_cache_.emplace_back(heads * static_cast<size_t>(options_.ctx_size * v_row_bytes_));
  }
  const auto b = static_cast<size_t>(options_.batch_size);
  x_.resize(b * n_embd_);
  xn_.resize(b * n_embd_);
  proj_.resize(b * n_embd_);
  q_.resize(b * n_head_ * head_dim_);
  k_.resize(b * n_head_kv_ * head_dim_);
  v_.resize(b * n_head_kv_ * head_dim_v_);
  attn_.resize(b * n_head_ * head_dim_v_);
  if (h_.info->fused_qkv) qkv_.resize(b * (n_head_ * head_dim_ + n_head_kv_ * (head_dim_ + head_dim_v_)));
  if (h_.info->moe) {
    n_expert_ = static_cast<int64_t>(h_.expert_count);
    n_expert_used_ = static_cast<int64_t>(h_.expert_used_count);
    n_ff_exp_ = static_cast<int64_t>(h_.expert_feed_forward_length);
    n_ff_ = n_ff_exp_;  // every layer is a mixture; gate_ and up_ hold one expert's group
    router_.resize(b * n_expert_);
    chosen_weight_.resize(b * n_expert_used_);
    chosen_expert_.resize(b * n_expert_used_);
    group_start_.resize(n_expert_ + 1);
    group_fill_.resize(n_expert_);
    group_slot_.resize(b * n_expert_used_);
    expert_in_.resize(b * n_embd_);
    // Decoding one token holds every chosen expert's gate, up and output at once.
    const auto rows = std::max(b, static_cast<size_t>(n_expert_used_));
    expert_out_.resize(rows * n_embd_);
    gate_.resize(rows * n_ff_);
    up_.resize(rows * n_ff_);
    expert_gate_up_.reserve(2 * static_cast<size_t>(n_expert_used_));
    expert_down_.reserve(static_cast<size_t>(n_expert_used_));
  } else {
    gate_.resize(b * n_ff_ * (h_.info->fused_qkv ? 2 : 1));
    up_.resize(b * n_ff_);
  }
  const auto pairs = static_cast<size_t>(head_dim_ / 2);
  cos_global_.resize(b * pairs);
  sin_global_.resize(b * pairs);
  cos_local_.resize(b * pairs);
  sin_local_.resize(b * pairs);
}

uint64_t InferenceSession::kv_cache_bytes() const {
  uint64_t bytes = 0;
  for (const auto& c : k_cache_) bytes += c.size();
  for (const auto& c : v_cache_) bytes += c.size();
  return bytes;
}

void InferenceSession::rewind(int64_t sequence, int64_t n) {
  int64_t& past = n_past_.at(static_cast<size_t>(sequence));
  past = std::clamp<int64_t>(n, 0, past);
}

void InferenceSession::check_tokens(std::span<const int32_t> tokens) const {
  for (int32_t t : tokens) {
    if (t < 0 || t >= n_vocab_) fail("token id {} is outside the vocabulary of {}", t, n_vocab_);
  }
}

void InferenceSession::eval(std::span<const int32_t> tokens, std::span<float> logits, bool all_logits) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) return;
  if (n_past_[0] + n > options_.ctx_size) {
    fail("{} more tokens do not fit the context of {} ({} used); raise --ctx-size", n, options_.ctx_size, n_past_[0]);
  }
  const auto need = static_cast<size_t>((all_logits ? n : 1) * n_vocab_);
  if (logits.size() < need) fail("internal: logits buffer of {} values, {} needed", logits.size(), need);
  check_tokens(tokens);
  for (int64_t begin = 0; begin < n; begin += options_.batch_size) {
    const int64_t count = std::min(options_.batch_size, n - begin);
    const bool last_batch = begin + count == n;
    float* out = all_logits ? logits.data() + begin * n_vocab_ : (last_batch ? logits.data() : nullptr);
    const SequenceRun run{0, count};
    eval_batch(tokens.data() + begin, std::span(&run, 1), out, all_logits);
  }
}

void InferenceSession::eval_sequences(std::span<const SequenceRun> runs, std::span<const int32_t> tokens,
                                      std::span<float> logits) {
  if (runs.empty()) return;
  int64_t total = 0;
  std::fill(sequence_seen_.begin(), sequence_seen_.end(), uint8_t{0});
  for (const SequenceRun& r : runs) {
    if (r.sequence < 0 || r.sequence >= options_.sequences) fail("internal: sequence {} of {}", r.sequence, options_.sequences);
    if (sequence_seen_[static_cast<size_t>(r.sequence)]) fail("internal: sequence {} appears twice in one batch", r.sequence);
    sequence_seen_[static_cast<size_t>(r.sequence)] = 1;
    if (r.count < 1) fail("internal: a run of {} tokens", r.count);
    const int64_t past = n_past_[static_cast<size_t>(r.sequence)];
    if (past + r.count > options_.ctx_size) {
      fail("{} more tokens do not fit the context of {} ({} used)", r.count, options_.ctx_size, past);
    }
    total += r.count;
  }
  if (total != static_cast<int64_t>(tokens.size()) || total > options_.batch_size) {
    fail("internal: {} tokens for runs of {} in a batch of at most {}", tokens.size(), total, options_.batch_size);
  }
  if (logits.size() < runs.size() * static_cast<size_t>(n_vocab_)) fail("internal: logits buffer too small");
  check_tokens(tokens);
  eval_batch(tokens.data(), runs, logits.data(), false);
}

void InferenceSession::eval_batch(const int32_t* tokens, std::span<const SequenceRun> runs, float* logits, bool all_logits) {
  const ModelWeights& w = model_.weights();
  const auto eps = static_cast<float>(h_.norm_eps);
  const ArchitectureInfo& arch = *h_.info;
  const int64_t pairs = head_dim_ / 2;
  int64_t n = 0;
  for (const SequenceRun& r : runs) {
    for (int64_t i = 0; i < r.count; ++i) row_position_[static_cast<size_t>(n++)] = n_past_[static_cast<size_t>(r.sequence)] + i;
  }

  for (int64_t t = 0; t < n; ++t) {
    weight_row_to_float(w.token_embd, tokens[t], x_.data() + t * n_embd_);
    if (arch.scale_embeddings) {
      const float scale = std::sqrt(static_cast<float>(n_embd_));
      for (int64_t i = 0; i < n_embd_; ++i) x_[t * n_embd_ + i] *= scale;
    }
    const int64_t pos = row_position_[static_cast<size_t>(t)];
    rope_global_.angles(pos, cos_global_.data() + t * pairs, sin_global_.data() + t * pairs);
    rope_local_.angles(pos, cos_local_.data() + t * pairs, sin_local_.data() + t * pairs);
  }

  const int64_t n_q = n_head_ * head_dim_, n_k = n_head_kv_ * head_dim_, n_v = n_head_kv_ * head_dim_v_;
  for (size_t il = 0; il < w.layers.size(); ++il) {
    const LayerWeights& L = w.layers[il];
    layer_ = static_cast<int64_t>(il);
    for (int64_t t = 0; t < n; ++t) rms_norm(&x_[t * n_embd_], L.attn_norm, &xn_[t * n_embd_], n_embd_, eps);

    if (arch.fused_qkv) {
      observe(MatrixRole::attn_qkv, xn_.data(), n, n_embd_);
    } else {
      for (MatrixRole role : {MatrixRole::attn_q, MatrixRole::attn_k, MatrixRole::attn_v}) observe(role, xn_.data(), n, n_embd_);
    }
    if (arch.fused_qkv) {
      matmul(L.attn_qkv, xn_.data(), n, qkv_.data(), pool_, options_.activations);
      const int64_t stride = n_q + n_k + n_v;
      for (int64_t t = 0; t < n; ++t) {
        std::memcpy(&q_[t * n_q], &qkv_[t * stride], n_q * sizeof(float));
        std::memcpy(&k_[t * n_k], &qkv_[t * stride + n_q], n_k * sizeof(float));
        std::memcpy(&v_[t * n_v], &qkv_[t * stride + n_q + n_k], n_v * sizeof(float));
      }
    } else {
      const MatmulOutput qkv[] = {{&L.attn_q, q_.data()}, {&L.attn_k, k_.data()}, {&L.attn_v, v_.data()}};
      matmul_same_input(qkv, xn_.data(), n, pool_, options_.activations);
    }
    for (int64_t t = 0; t < n; ++t) {
      float* q = &q_[t * n_q];
      float* k = &k_[t * n_k];
      if (L.attn_q_bias) {
        add_in_place(q, L.attn_q_bias, n_q);
        add_in_place(k, L.attn_k_bias, n_k);
        add_in_place(&v_[t * n_v], L.attn_v_bias, n_v);
      }
      if (L.attn_q_norm) {
        for (int64_t hh = 0; hh < n_head_; ++hh) rms_norm(q + hh * head_dim_, L.attn_q_norm, q + hh * head_dim_, head_dim_, eps);
        for (int64_t hh = 0; hh < n_head_kv_; ++hh) rms_norm(k + hh * head_dim_, L.attn_k_norm, k + hh * head_dim_, head_dim_, eps);
      }
      const Rope& rope = L.sliding_window ? rope_local_ : rope_global_;
      const float* c = (L.sliding_window ? cos_local_ : cos_global_).data() + t * pairs;
      const float* s = (L.sliding_window ? sin_local_ : sin_global_).data() + t * pairs;
      rope.apply(q, n_head_, head_dim_, c, s);
      rope.apply(k, n_head_kv_, head_dim_, c, s);
    }
    store_kv(il, runs);
    attention(il, runs);
    observe(MatrixRole::attn_output, attn_.data(), n, n_head_ * head_dim_v_);
    matmul(L.attn_output, attn_.data(), n, proj_.data(), pool_, options_.activations);
    for (int64_t t = 0; t < n; ++t) {
      if (L.attn_output_bias) add_in_place(&proj_[t * n_embd_], L.attn_output_bias, n_embd_);
      if (L.post_attention_norm) rms_norm(&proj_[t * n_embd_], L.post_attention_norm, &proj_[t * n_embd_], n_embd_, eps);
      add_in_place(&x_[t * n_embd_], &proj_[t * n_embd_], n_embd_);
      rms_norm(&x_[t * n_embd_], L.ffn_norm, &xn_[t * n_embd_], n_embd_, eps);
    }
    feed_forward(L, n);
    for (int64_t t = 0; t < n; ++t) {
      if (L.post_ffw_norm) rms_norm(&proj_[t * n_embd_], L.post_ffw_norm, &proj_[t * n_embd_], n_embd_, eps);
      add_in_place(&x_[t * n_embd_], &proj_[t * n_embd_], n_embd_);
    }
  }
  for (const SequenceRun& r : runs) n_past_[static_cast<size_t>(r.sequence)] += r.count;

  if (!logits) return;
  // The rows whose logits are wanted: every row, or each run's last.
  int64_t rows = 0;
  if (all_logits) {
    for (int64_t t = 0; t < n; ++t) rms_norm(&x_[t * n_embd_], w.output_norm, &xn_[t * n_embd_], n_embd_, eps);
    rows = n;
  } else {
    int64_t end = 0;
    for (const SequenceRun& r : runs) {
      end += r.count;
      rms_norm(&x_[(end - 1) * n_embd_], w.output_norm, &xn_[rows++ * n_embd_], n_embd_, eps);
    }
  }
  matmul(w.output, xn_.data(), rows, logits, pool_, options_.activations);
  if (h_.final_logit_softcapping && *h_.final_logit_softcapping > 0) {
    softcap_in_place(logits, rows * n_vocab_, static_cast<float>(*h_.final_logit_softcapping));
  }
}

void InferenceSession::feed_forward(const LayerWeights& L, int64_t n) {
  if (L.moe()) return mixture_of_experts(L, n);
  const bool gelu = h_.info->activation == Activation::gelu_tanh;
  if (L.ffn_gate.data != nullptr) observe(MatrixRole::ffn_gate, xn_.data(), n, n_embd_);
  observe(MatrixRole::ffn_up, xn_.data(), n, n_embd_);
  if (L.ffn_gate.data == nullptr) {
    // Phi-3: one product gives the gate (first half of each row) and the up projection.
    matmul(L.ffn_up, xn_.data(), n, gate_.data(), pool_, options_.activations);
    for (int64_t t = 0; t < n; ++t) {
      const float* g = &gate_[t * 2 * n_ff_];
      (gelu ? gelu_tanh_mul : silu_mul)(g, g + n_ff_, &up_[t * n_ff_], n_ff_);
    }
  } else {
    const MatmulOutput gate_up[] = {{&L.ffn_gate, gate_.data()}, {&L.ffn_up, up_.data()}};
    matmul_same_input(gate_up, xn_.data(), n, pool_, options_.activations);
    (gelu ? gelu_tanh_mul : silu_mul)(gate_.data(), up_.data(), up_.data(), n * n_ff_);
  }
  observe(MatrixRole::ffn_down, up_.data(), n, n_ff_);
  matmul(L.ffn_down, up_.data(), n, proj_.data(), pool_, options_.activations);
}

// The router, as transformers computes Qwen3-MoE's: a softmax over all experts' logits (in
// float), the expert_used_count most probable kept (the lower index first on a tie, as
// torch.topk), their probabilities renormalized to sum to 1. gpt-oss takes the softmax of the
// chosen logits alone, which is the same distribution (its router adds a bias first). Then
// the (token, expert) pairs are grouped by expert, so each expert's matrices are read once
// for all its tokens.
void InferenceSession::route_to_experts(const LayerWeights& L, int64_t n) {
  observe(MatrixRole::ffn_gate_inp, xn_.data(), n, n_embd_);
  matmul(L.ffn_gate_inp, xn_.data(), n, router_.data(), pool_, options_.activations);
  std::fill(group_start_.begin(), group_start_.end(), 0);
  for (int64_t t = 0; t < n; ++t) {
    float* p = &router_[t * n_expert_];
    if (L.ffn_gate_inp_bias) add_in_place(p, L.ffn_gate_inp_bias, n_expert_);
    softmax_in_place(p, n_expert_);
    int32_t* chosen = &chosen_expert_[t * n_expert_used_];
    float* weight = &chosen_weight_[t * n_expert_used_];
    double sum = 0.0;
    for (int64_t k = 0; k < n_expert_used_; ++k) {
      int32_t best = -1;
      for (int32_t e = 0; e < n_expert_; ++e) {
        if (std::find(chosen, chosen + k, e) != chosen + k) continue;
        if (best < 0 || p[e] > p[best]) best = e;
      }
      chosen[k] = best;
      weight[k] = p[best];
      sum += p[best];
      ++group_start_[best + 1];
    }
    for (int64_t k = 0; k < n_expert_used_; ++k) weight[k] = static_cast<float>(weight[k] / sum);
  }
  for (int64_t e = 0; e < n_expert_; ++e) group_start_[e + 1] += group_start_[e];
  // group_slot_[group_start_[e] ...]: the (token * n_expert_used + k) slots routed to expert e, by token.
  std::copy(group_start_.begin(), group_start_.end() - 1, group_fill_.begin());
  for (int64_t slot = 0; slot < n * n_expert_used_; ++slot) group_slot_[group_fill_[chosen_expert_[slot]]++] = static_cast<int32_t>(slot);
}

// An expert's gate and up rows as one product gave them: biases added, then the activation.
void InferenceSession::expert_activation(const LayerWeights& L, int64_t e, float* gate, float* up, int64_t rows) {
  if (L.ffn_gate_exps_bias) {
    for (int64_t i = 0; i < rows; ++i) {
      add_in_place(gate + i * n_ff_exp_, L.ffn_gate_exps_bias + e * n_ff_exp_, n_ff_exp_);
      add_in_place(up + i * n_ff_exp_, L.ffn_up_exps_bias + e * n_ff_exp_, n_ff_exp_);
    }
  }
  if (h_.info->activation == Activation::swiglu_oai) {
    swiglu_oai(gate, up, up, rows * n_ff_exp_, static_cast<float>(h_.swiglu_alpha), static_cast<float>(h_.swiglu_limit));
  } else {
    silu_mul(gate, up, up, rows * n_ff_exp_);
  }
}

// Decoding one token: every chosen expert's gate and up in one pass over the pool (they share
// the input), then every down projection in another, instead of two passes per expert.
void InferenceSession::experts_for_one_token(const LayerWeights& L) {
  expert_gate_up_.clear();
  expert_down_.clear();
  for (int64_t k = 0; k < n_expert_used_; ++k) {
    const int32_t e = chosen_expert_[static_cast<size_t>(k)];
    observe(MatrixRole::ffn_gate_exps, xn_.data(), 1, n_embd_, e);
    observe(MatrixRole::ffn_up_exps, xn_.data(), 1, n_embd_, e);
    expert_gate_up_.push_back({&L.ffn_gate_exps[e], &gate_[k * n_ff_exp_]});
    expert_gate_up_.push_back({&L.ffn_up_exps[e], &up_[k * n_ff_exp_]});
  }
  matmul_same_input(expert_gate_up_, xn_.data(), 1, pool_, options_.activations);
  for (int64_t k = 0; k < n_expert_used_; ++k) {
    const int32_t e = chosen_expert_[static_cast<size_t>(k)];
    expert_activation(L, e, &gate_[k * n_ff_exp_], &up_[k * n_ff_exp_], 1);
    observe(MatrixRole::ffn_down_exps, &up_[k * n_ff_exp_], 1, n_ff_exp_, e);
    expert_down_.push_back({&L.ffn_down_exps[e], &up_[k * n_ff_exp_], &expert_out_[k * n_embd_]});
  }
  matmul_tasks(expert_down_, 1, pool_, options_.activations);
  std::fill(proj_.begin(), proj_.begin() + n_embd_, 0.0f);
  for (int64_t k = 0; k < n_expert_used_; ++k) {
    const int32_t e = chosen_expert_[static_cast<size_t>(k)];
    float* out = &expert_out_[k * n_embd_];
    if (L.ffn_down_exps_bias) add_in_place(out, L.ffn_down_exps_bias + e * n_embd_, n_embd_);
    axpy_row(chosen_weight_[static_cast<size_t>(k)], out, proj_.data(), n_embd_);
  }
}

// Each used expert runs its gated feed-forward on its group of tokens (gathered into one
// batch), and each token's output is the router-weighted sum of its experts' outputs.
void InferenceSession::mixture_of_experts(const LayerWeights& L, int64_t n) {
  route_to_experts(L, n);
  if (n == 1) return experts_for_one_token(L);
  std::fill(proj_.begin(), proj_.begin() + n * n_embd_, 0.0f);
  for (int64_t e = 0; e < n_expert_; ++e) {
    const int32_t begin = group_start_[e], count = group_start_[e + 1] - begin;
    if (count == 0) continue;
    for (int32_t i = 0; i < count; ++i) {
      const int64_t t = group_slot_[begin + i] / n_expert_used_;
      std::memcpy(&expert_in_[i * n_embd_], &xn_[t * n_embd_], n_embd_ * sizeof(float));
    }
    observe(MatrixRole::ffn_gate_exps, expert_in_.data(), count, n_embd_, e);
    observe(MatrixRole::ffn_up_exps, expert_in_.data(), count, n_embd_, e);
    const MatmulOutput gate_up[] = {{&L.ffn_gate_exps[e], gate_.data()}, {&L.ffn_up_exps[e], up_.data()}};
    matmul_same_input(gate_up, expert_in_.data(), count, pool_, options_.activations);
    expert_activation(L, e, gate_.data(), up_.data(), count);
    observe(MatrixRole::ffn_down_exps, up_.data(), count, n_ff_exp_, e);
    matmul(L.ffn_down_exps[e], up_.data(), count, expert_out_.data(), pool_, options_.activations);
    for (int32_t i = 0; i < count; ++i) {
      const int32_t slot = group_slot_[begin + i];
      if (L.ffn_down_exps_bias) add_in_place(&expert_out_[i * n_embd_], L.ffn_down_exps_bias + e * n_embd_, n_embd_);
      axpy_row(chosen_weight_[slot], &expert_out_[i * n_embd_], &proj_[(slot / n_expert_used_) * n_embd_], n_embd_);
    }
  }
}

// The cache keeps each KV head's positions together (sequence s, KV head h: values of position p
// in row (s * n_head_kv + h) * ctx_size + p; keys likewise with key_positions_ per head, in
// tiles of 64 positions for F16, kernels/kv_rows.h), so attention reads a tile of one head as one run.
void InferenceSession::store_kv(size_t layer, std::span<const SequenceRun> runs) {
  const int64_t n_k = n_head_kv_ * head_dim_, n_v = n_head_kv_ * head_dim_v_, ctx = options_.ctx_size;
  const bool tiles = keys_in_tiles(options_.kv_type);
  int64_t t = 0;
  for (const SequenceRun& r : runs) {
    for (int64_t i = 0; i < r.count; ++i, ++t) {
      const int64_t pos = row_position_[static_cast<size_t>(t)];
      for (int64_t h = 0; h < n_head_kv_; ++h) {
        const float* k = &k_[t * n_k + h * head_dim_];
        const float* v = &v_[t * n_v + h * head_dim_v_];
        const int64_t head = r.sequence * n_head_kv_ + h, key_slot = head * key_positions_ + pos;
        if (tiles) {
          // The tile's first position's slot: a tile is 64 rows' bytes.
          auto* tile = reinterpret_cast<uint16_t*>(&k_cache_[layer][static_cast<size_t>((key_slot - pos % kKeyTile) * k_row_bytes_)]);
          store_key_in_tile(k, tile, pos % kKeyTile, head_dim_);
        } else {
          kv_row_from_f32(options_.kv_type, k, &k_cache_[layer][static_cast<size_t>(key_slot * k_row_bytes_)], head_dim_);
        }
        kv_row_from_f32(options_.kv_type, v, &v_cache_[layer][static_cast<size_t>((head * ctx + pos) * v_row_bytes_)], head_dim_v_);
      }
    }
  }
}

// Causal attention of each run's queries over its sequence's cache (see CachedAttention); a
// sliding-window layer sees only the last `sliding_window` positions.
void InferenceSession::attention(size_t layer, std::span<const SequenceRun> runs) {
  AttentionShape shape = attention_shape_;
  shape.window = model_.weights().layers[layer].sliding_window ? static_cast<int64_t>(h_.sliding_window) : 0;
  shape.sinks = model_.weights().layers[layer].attn_sinks;
  const int64_t ctx = options_.ctx_size;
  int64_t row = 0;
  for (const SequenceRun& r : runs) {
    // The sequence's region: its KV heads' rows, each head's positions together.
    const int64_t heads = r.sequence * n_head_kv_;
    const bool tiles = keys_in_tiles(options_.kv_type);
    KvLayerView kv{.type = options_.kv_type,
                   .k = k_cache_[layer].data() + heads * key_positions_ * k_row_bytes_,
                   .v = v_cache_[layer].data() + heads * ctx * v_row_bytes_,
                   .k_stride = tiles ? kKeyTile * k_row_bytes_ : k_row_bytes_,
                   .v_stride = v_row_bytes_,
                   .k_head_stride = key_positions_ * k_row_bytes_,
                   .v_head_stride = ctx * v_row_bytes_,
                   .key_tiles = tiles};
    // The rows' positions were taken before n_past_ moved on: the run's first row's is its start.
    attention_.run(shape, q_.data() + row * n_head_ * head_dim_, r.count, row_position_[static_cast<size_t>(row)], kv,
                   attn_.data() + row * n_head_ * head_dim_v_, pool_);
    row += r.count;
  }
}

}  // namespace lp
