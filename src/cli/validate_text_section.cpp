// `validate`'s text part: perplexity over a text with llama-perplexity's method, and
// KL-divergence against a reference model or reference-logits file with every statistic
// llama-perplexity reports.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "cli/validate_sections.h"
#include "core/error.h"
#include "core/text_file.h"
#include "validate/perplexity_runner.h"
#include "validate/shard_merge.h"
#include "validate/validate_record.h"
#include "kernels/kv_rows.h"

namespace lp::cli {

SectionResult run_text_section(const ValidateArgs& a, const EngineFlags& flags, const ValidateModels& m,
                               validate::ReferenceLogitsReader* ref_file,
                               const std::optional<std::filesystem::path>& text_path, int64_t n_ctx, bool want_ppl,
                               bool want_kld) {
  SectionResult out;
  const std::optional<int32_t> bos = validate::window_bos(m.tokenizer, a.model);

  // The tokens: the text's (llama-perplexity tokenizes it whole, BOS as the model adds it,
  // special-token text not parsed — WikiText has none), or the ones stored with the
  // reference rows, which must then match a text given with them.
  std::vector<int32_t> tokens;
  if (text_path) tokens = m.tokenizer.encode(read_text_file(*text_path), true);
  validate::ChunkPlan plan;
  if (ref_file) {
    const auto stored = ref_file->tokens();
    if (text_path && (tokens.size() < stored.size() || !std::equal(stored.begin(), stored.end(), tokens.begin()))) {
      fail("{} does not tokenize to the tokens stored in {}: it was made from another text or tokenizer",
           text_path->string(), a.reference_logits);
    }
    tokens.assign(stored.begin(), stored.end());
    plan.n_ctx = n_ctx;
    plan.first = n_ctx / 2;
    plan.bos = bos;
    plan.n_chunks = a.chunks > 0 ? std::min(a.chunks, ref_file->n_chunks()) : ref_file->n_chunks();
  } else {
    plan = validate::plan_chunks(static_cast<int64_t>(tokens.size()), n_ctx, a.chunks, bos);
  }

  EngineFlags engine = flags;
  engine.ctx_size = n_ctx;
  validate::PerplexityRun run;
  run.model = &m.model;
  run.reference = want_kld ? m.reference : nullptr;
  run.reference_file = ref_file;
  run.options = session_options(engine, m.model, n_ctx);
  run.tokens = tokens;
  run.plan = plan;
  std::vector<validate::TokenScore> scores;
  if (!a.shard.empty()) {
    std::tie(run.chunk_begin, run.chunk_end) = validate::shard_range(plan.n_chunks, validate::parse_shard(a.shard));
    run.scores_out = &scores;
  }
  std::optional<validate::ReferenceLogitsWriter> save;
  if (!a.save_reference_logits.empty()) {
    save.emplace(a.save_reference_logits, plan.n_ctx, m.model.weights().output.rows, plan.n_chunks, tokens);
    run.save = &*save;
  }
  const int64_t windows = (run.chunk_end < 0 ? plan.n_chunks : run.chunk_end) - run.chunk_begin;
  fmt::print(stderr, "validate: {} windows of {} tokens, {} scored each ({} tokens), {} threads\n", windows,
             plan.n_ctx, plan.scored_per_chunk(), windows * plan.scored_per_chunk(), run.options.threads);
  if (run.reference || run.reference_file) {
    fmt::print(stderr, "chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p\n");
  }
  // The perplexity line grows a chunk at a time; if the run fails half-way (a full disk under
  // --save-reference-logits) it is ended first, so the error starts a line of its own.
  struct OpenLine {
    bool open = false;
    ~OpenLine() {
      if (open) fmt::print(stderr, "\n");
    }
  } line;
  run.on_chunk = [&](int64_t chunk, const validate::ScoreAccumulator& acc) {
    if (acc.with_reference()) {
      fmt::print(stderr, "{}\n", acc.kld_progress_line(chunk));
    } else {
      fmt::print(stderr, "[{}]{:.4f},", chunk, acc.perplexity().ppl.value);
      line.open = chunk != windows;
      if (!line.open) fmt::print(stderr, "\n");
    }
    std::fflush(stderr);
  };
  const validate::ScoreAccumulator acc = validate::run_perplexity(run);
  if (save) save->commit();

  if (want_ppl) {
    const auto p = acc.perplexity();
    out.metrics["perplexity"] = validate::perplexity_json(p);
    out.text += validate::perplexity_text(p);
  }
  if (want_kld) {
    const auto k = acc.kld();
    out.metrics["kld"] = validate::kld_json(k);
    out.text += (out.text.empty() ? "" : "\n") + validate::kld_text(k);
  }
  out.threads = run.options.threads;
  if (run.scores_out) {
    out.shard["text"] = {{"windows", {run.chunk_begin, run.chunk_end}}, {"windows_total", plan.n_chunks},
                         {"scores", validate::token_scores_json(scores, acc.with_reference())}};
  }
  out.settings = {
      {"ctx_size", plan.n_ctx},
      {"chunks", plan.n_chunks},
      {"chunks_requested", a.chunks > 0 ? nlohmann::json(a.chunks) : nlohmann::json(nullptr)},
      {"threads", out.threads},
      {"batch_size", std::min(run.options.batch_size, plan.n_ctx)},
      {"kv_type", kv_cache_type_name(run.options.kv_type)},
      {"text", text_path ? validate::describe_file(*text_path) : nlohmann::json(nullptr)},
      {"text_tokens", tokens.size()},
      {"bos_substituted", plan.bos.has_value()},
      {"scored_tokens_per_chunk", plan.scored_per_chunk()},
      {"saved_reference_logits", save ? validate::describe_file(a.save_reference_logits) : nlohmann::json(nullptr)}};
  return out;
}

}  // namespace lp::cli
