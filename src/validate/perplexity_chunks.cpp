#include "validate/perplexity_chunks.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace lp::validate {

ChunkPlan plan_chunks(int64_t n_tokens, int64_t n_ctx, int64_t max_chunks, std::optional<int32_t> bos) {
  if (n_ctx < 4) fail("--ctx-size must be at least 4 for perplexity (got {})", n_ctx);
  // llama-perplexity refuses a text shorter than two windows although one would do; we keep
  // its rule so that every text we score, it scores too.
  if (n_tokens < 2 * n_ctx) {
    fail("the text has {} tokens; perplexity with a context of {} needs at least {} (2 x --ctx-size): "
         "use a longer text or a smaller --ctx-size",
         n_tokens, n_ctx, 2 * n_ctx);
  }
  ChunkPlan p;
  p.n_ctx = n_ctx;
  p.first = n_ctx / 2;
  p.bos = bos;
  const int64_t whole = n_tokens / n_ctx;
  p.n_chunks = max_chunks > 0 ? std::min(max_chunks, whole) : whole;
  return p;
}

std::vector<int32_t> chunk_input(std::span<const int32_t> tokens, const ChunkPlan& plan, int64_t chunk) {
  const auto begin = tokens.begin() + chunk * plan.n_ctx;
  std::vector<int32_t> input(begin, begin + plan.n_ctx);
  if (plan.bos) input[0] = *plan.bos;
  return input;
}

std::optional<int32_t> window_bos(const Tokenizer& tok, const std::string& path) {
  const std::vector<int32_t> with = tok.encode("a", true), without = tok.encode("a", false);
  if (with.size() > without.size() && with.back() != without.back()) {
    fail("{}: its tokenizer appends an end-of-sequence token; perplexity windows need one that does not", path);
  }
  if (with.size() > without.size() && with.front() != without.front()) return with.front();
  return std::nullopt;
}

}  // namespace lp::validate
