#include "validate/perplexity_runner.h"

#include <optional>

#include "core/error.h"
#include "core/parallel.h"

namespace lp::validate {
namespace {

// A session that evaluates one window and returns the logits of its second half. The first
// half is evaluated without logits: only the scored rows pay for the output projection,
// which for a small model with a large vocabulary is a good part of the work.
class WindowEvaluator {
 public:
  WindowEvaluator(const LoadedModel& model, const SessionOptions& options, const ChunkPlan& plan)
      : session_(model, options), plan_(plan),
        logits_(static_cast<size_t>((plan.n_ctx - plan.first) * session_.vocab_size())) {}

  int64_t vocab_size() const { return session_.vocab_size(); }

  // Row i (0 <= i < n_ctx - first) holds the logits at position first + i.
  const float* evaluate(std::span<const int32_t> window) {
    session_.rewind(0);
    session_.eval(window.first(static_cast<size_t>(plan_.first)), logits_, false);
    session_.eval(window.subspan(static_cast<size_t>(plan_.first)), logits_, true);
    return logits_.data();
  }

 private:
  InferenceSession session_;
  const ChunkPlan& plan_;
  std::vector<float> logits_;
};

}  // namespace

ScoreAccumulator run_perplexity(const PerplexityRun& run) {
  const ChunkPlan& plan = run.plan;
  SessionOptions options = run.options;
  options.ctx_size = plan.n_ctx;
  options.batch_size = std::min(options.batch_size, plan.n_ctx);
  WindowEvaluator model(*run.model, options, plan);
  std::optional<WindowEvaluator> reference;
  if (run.reference) reference.emplace(*run.reference, options, plan);
  const int64_t n_vocab = model.vocab_size();
  if (reference && reference->vocab_size() != n_vocab) {
    fail("the model has {} output rows and the reference {}: they do not share a vocabulary", n_vocab,
         reference->vocab_size());
  }
  if (run.reference_file && run.reference_file->n_vocab() != n_vocab) {
    fail("{} holds distributions over {} tokens, the model has {}", run.reference_file->path().string(),
         run.reference_file->n_vocab(), n_vocab);
  }

  const bool with_reference = run.reference || run.reference_file;
  ScoreAccumulator acc(with_reference);
  const int64_t scored = plan.scored_per_chunk();
  std::vector<TokenScore> scores(static_cast<size_t>(scored));
  std::vector<uint16_t> saved_rows;
  if (run.save) saved_rows.resize(static_cast<size_t>(scored * row_words(n_vocab)));

  const int64_t end = run.chunk_end < 0 ? plan.n_chunks : run.chunk_end;
  for (int64_t c = run.chunk_begin; c < end; ++c) {
    const std::vector<int32_t> window = chunk_input(run.tokens, plan, c);
    // Targets are the text's own tokens: position first + j predicts token first + j + 1.
    const int32_t* targets = run.tokens.data() + c * plan.n_ctx + plan.first + 1;
    const float* ref_rows = reference ? reference->evaluate(window) : nullptr;
    const float* rows = model.evaluate(window);
    const float* save_rows = ref_rows ? ref_rows : rows;

    parallel_for(scored, options.threads, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) {
        const float* row = rows + j * n_vocab;
        auto& s = scores[static_cast<size_t>(j)];
        if (ref_rows) {
          s = score_against_logits(row, ref_rows + j * n_vocab, n_vocab, targets[j]);
        } else if (run.reference_file) {
          s = score_against_quantized(row, run.reference_file->row(c, j), n_vocab, targets[j]);
        } else {
          s = TokenScore{};
          s.nll = token_nll(row, n_vocab, targets[j]);
        }
        if (run.save) {
          quantize_log_probs(save_rows + j * n_vocab, n_vocab, saved_rows.data() + j * row_words(n_vocab));
        }
      }
    });
    // Added in text order, so the sums do not depend on the thread count.
    for (const TokenScore& s : scores) acc.add(s);
    if (run.scores_out) run.scores_out->insert(run.scores_out->end(), scores.begin(), scores.end());
    if (run.save) run.save->add_chunk(saved_rows);
    if (run.on_chunk) run.on_chunk(c + 1 - run.chunk_begin, acc);
  }
  return acc;
}

}  // namespace lp::validate
