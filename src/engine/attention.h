#pragma once
// Causal attention of a batch of queries over the KV cache, fused and parallel. A work unit
// is a block of tokens and one KV head: all their query heads (the heads sharing that KV
// head, for every token of the block) go over the cached positions together, a tile of
// positions at a time, so each K and V row is read once per unit; keys are laid out
// transposed so the scores of a tile are vector FMAs without horizontal sums (the session's
// float16 keys are stored that way, kernels/kv_rows.h, and float16 is converted in registers
// as it is multiplied; other types are converted or transposed per tile); an online softmax (a running maximum and sum per query; what was accumulated is
// rescaled when the maximum grows) means one pass and no score row as long as the context.
// When there are fewer (token, KV head) pairs than the threads can share (decoding one token
// of a model with one or two KV heads), each pair's positions are split into blocks whose
// partial results are merged afterwards.
#include <cstdint>
#include <vector>

#include "core/ggml_types.h"

namespace lp {

class ThreadPool;

struct AttentionShape {
  int64_t n_head = 0, n_head_kv = 0, head_dim = 0, head_dim_v = 0;
  float scale = 1.0f;     // applied to q · k
  float softcap = 0.0f;   // > 0: scores become softcap * tanh(score / softcap) (Gemma 2)
  int64_t window = 0;     // > 0: a query sees only the last `window` positions (itself included)
  // gpt-oss: one learned logit per query head that joins the softmax's denominator but has no
  // value (attention may go "nowhere"); nullptr: none.
  const float* sinks = nullptr;
};

// One layer's cache: the key of position j for KV head h (a row of head_dim values) at byte
// k + j * k_stride + h * k_head_stride, values likewise, all rows of `type` (F32, F16, Q8_0 or
// Q4_0: kernels/kv_rows.h). When one head's positions are stored together (k_stride is one row's
// bytes) a tile of keys is one contiguous run, converted to float in one call. With key_tiles
// (F16 only, the session's layout) keys are in kv_rows.h's transposed tiles instead: tile t of
// head h at byte k + t * k_stride + h * k_head_stride, multiplied as stored.
struct KvLayerView {
  GgmlType type = GgmlType::F16;
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  int64_t k_stride = 0, v_stride = 0;  // bytes
  int64_t k_head_stride = 0, v_head_stride = 0;  // bytes
  bool key_tiles = false;
};

class CachedAttention {
 public:
  // Scratch for `threads` threads; nothing is allocated by run().
  CachedAttention(const AttentionShape& shape, unsigned threads);

  // q: n tokens of n_head * head_dim values (at positions n_past ..); out: n tokens of
  // n_head * head_dim_v values. The cache must hold positions up to n_past + n - 1.
  void run(const AttentionShape& shape, const float* q, int64_t n, int64_t n_past, const KvLayerView& kv, float* out,
           ThreadPool& pool);

 private:
  static constexpr int64_t kTile = 64;  // positions whose scores are computed before folding in V
  static constexpr int64_t kTokenBlock = 8;   // tokens per unit, at most

  struct Scratch {
    std::vector<float> keys_t, keys, values, scores, m, l, pad_out;
  };
  // Query rows of tokens [t0, t1) for KV head kvh over the positions [begin, end) (clipped
  // to what each token sees). Normalized into out when m_out is null, else unnormalized
  // with each row's maximum and sum (a block, merged later).
  void run_unit(const AttentionShape& s, const float* q, int64_t n_past, int64_t t0, int64_t t1, int64_t kvh, int64_t begin,
                int64_t end, const KvLayerView& kv, Scratch& scratch, float* out, float* m_out, float* l_out) const;

  unsigned threads_;
  int64_t group_;
  std::vector<Scratch> scratch_;  // per thread
  std::vector<float> partial_out_, partial_m_, partial_l_;  // block results awaiting the merge
};

}  // namespace lp
