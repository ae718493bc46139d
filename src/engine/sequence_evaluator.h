#pragma once
// What the commands that run a model need of a backend: one sequence, evaluated token by
// token or in prompts, with a KV cache that can be rewound. Our engine (InferenceSession) is
// one; MLX's own library (mlx_backend/, when the build has MLX) is another.
#include <cstdint>
#include <span>

namespace lp {

class SequenceEvaluator {
 public:
  virtual ~SequenceEvaluator() = default;
  virtual int64_t n_past() const = 0;
  virtual int64_t ctx_size() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual uint64_t kv_cache_bytes() const = 0;
  // Forgets every position from `n` on.
  virtual void rewind(int64_t n) = 0;
  // Evaluates `tokens` at the next positions. With all_logits, `logits` receives one row of
  // vocab_size() logits per token; otherwise only the last token's row. InputError when the
  // cache would overflow or a token id is outside the vocabulary.
  virtual void eval(std::span<const int32_t> tokens, std::span<float> logits, bool all_logits) = 0;
};

}  // namespace lp
