#pragma once
// How llama-perplexity cuts a text into windows, restated so our perplexity is the same
// number as its: the whole text is tokenized once (BOS as the tokenizer adds it), split into
// consecutive windows of n_ctx tokens (the tail that does not fill a window is dropped), each
// window evaluated from an empty cache with its first token replaced by BOS when the model
// adds one, and only the second half scored: positions first = n_ctx/2 .. n_ctx-2 predict
// tokens first+1 .. n_ctx-1, so every scored token has at least n_ctx/2 tokens of context.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lp {
class Tokenizer;
}

namespace lp::validate {

struct ChunkPlan {
  int64_t n_ctx = 0;
  int64_t n_chunks = 0;
  int64_t first = 0;           // n_ctx / 2
  std::optional<int32_t> bos;  // replaces each window's first token

  int64_t scored_per_chunk() const { return n_ctx - 1 - first; }
  int64_t scored_tokens() const { return n_chunks * scored_per_chunk(); }
};

// max_chunks <= 0: every whole window. Like llama-perplexity, a text needs at least
// 2 * n_ctx tokens (InputError otherwise, also for n_ctx < 4).
ChunkPlan plan_chunks(int64_t n_tokens, int64_t n_ctx, int64_t max_chunks, std::optional<int32_t> bos);

// The BOS the tokenizer puts before a text, if any (llama.cpp's add_bos): what each window
// starts with. InputError (naming `path`) for a tokenizer that appends EOS, which
// llama-perplexity refuses too.
std::optional<int32_t> window_bos(const Tokenizer& tok, const std::string& path);

// The n_ctx tokens window `chunk` is evaluated on (BOS substituted).
std::vector<int32_t> chunk_input(std::span<const int32_t> tokens, const ChunkPlan& plan, int64_t chunk);

}  // namespace lp::validate
