#pragma once
// The reference model's scored distributions, written once and reused for the KL-divergence
// of every quantization of it: llama-perplexity's own base file (--kl-divergence-base), so a
// file either tool writes is read by the other.
//
// Layout (little-endian):
//   char[8]  "_logits_"
//   uint32   n_ctx
//   int32    n_vocab
//   int32    n_chunk
//   int32    tokens[n_ctx * n_chunk]   the evaluated text's tokens, as tokenized (no BOS substitution)
//   then for each chunk, for each scored position (n_ctx - 1 - n_ctx/2 rows, the second half of
//   the window as in perplexity_chunks.h), a row of 2*ceil(n_vocab/2) + 4 uint16:
//     float32 scale, float32 min_log_prob (the first four uint16), then one uint16 q per token
//     with log p = scale * q + min_log_prob. The row's logits are clamped to
//     [max_logit - 16, max_logit] and quantized to 65535 steps (q = 0 at and below the floor).
//
// Why this format and not top-k or float16 rows: it is the one other tools already read and
// write (a base file from llama-perplexity can be used here and ours there), and a 16-bit
// step over a 16-nat range (2.4e-4 nats) keeps KLD, Δp and "same top p" within ~1% of the
// one-pass numbers (test_validate.py). Its one bias, shared with llama-perplexity: a true
// token the reference gave less than e^-16 of its best is read at that floor, so PPL(base)
// from a file is lower (1.2% on 508 SmolLM2 tokens). Top-k would make KLD a lower bound that
// is most biased for the near-lossless levels where the decision is made. The cost is size
// (2 bytes per vocabulary entry per scored token; WikiText-2 at n_ctx 512 with a 49k vocabulary
// is ~15 GB): --chunks limits it. Readers must apply llama.cpp's rule of skipping entries at or
// below log p = -16, which the clamp makes meaningless (see token_scoring.h).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "core/atomic_file.h"
#include "core/mapped_file.h"

namespace lp::validate {

// One quantized row of log-probabilities, as stored.
struct QuantizedLogProbs {
  float scale = 0.0f;
  float min_log_prob = 0.0f;
  const uint16_t* q = nullptr;  // n_vocab values

  float log_prob(int64_t i) const { return scale * q[i] + min_log_prob; }
};

inline int64_t row_words(int64_t n_vocab) { return 2 * ((n_vocab + 1) / 2) + 4; }

// Encodes the log-softmax of `logits` into `row` (row_words(n_vocab) uint16), as llama-perplexity does.
void quantize_log_probs(const float* logits, int64_t n_vocab, uint16_t* row);
QuantizedLogProbs view_row(const uint16_t* row);

class ReferenceLogitsWriter {
 public:
  // Written atomically: nothing appears under `path` unless every chunk was added and commit() ran.
  ReferenceLogitsWriter(const std::filesystem::path& path, int64_t n_ctx, int64_t n_vocab, int64_t n_chunks,
                        std::span<const int32_t> tokens);
  // One chunk's scored rows: (n_ctx - 1 - n_ctx/2) * row_words(n_vocab) values.
  void add_chunk(std::span<const uint16_t> rows);
  void commit();

 private:
  AtomicFile file_;
  int64_t n_ctx_, n_vocab_, n_chunks_, chunks_written_ = 0;
};

class ReferenceLogitsReader {
 public:
  // InputError for a file that is not a base-logits file or is truncated.
  explicit ReferenceLogitsReader(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_vocab() const { return n_vocab_; }
  int64_t n_chunks() const { return n_chunks_; }
  int64_t rows_per_chunk() const { return n_ctx_ - 1 - n_ctx_ / 2; }
  std::span<const int32_t> tokens() const { return tokens_; }
  QuantizedLogProbs row(int64_t chunk, int64_t index) const;

 private:
  MappedFile file_;
  int64_t n_ctx_ = 0, n_vocab_ = 0, n_chunks_ = 0;
  std::vector<int32_t> tokens_;
  const uint8_t* rows_ = nullptr;
};

}  // namespace lp::validate
