// `imatrix`: the importance matrix of a model over a calibration text, computed by our engine
// as llama-imatrix computes it (the same windows as perplexity, each starting with BOS where the
// model adds one; per weight the sum of squared input activations and the tokens summed; per
// expert for stacked experts), written in llama.cpp's GGUF imatrix format, so it feeds
// llama-quantize --imatrix and our quantize --imatrix alike. Prints the text's perplexity
// along the way, as llama-imatrix does.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_argument.h"
#include "cli/engine_options.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/text_file.h"
#include "tokenizer/tokenizer_load.h"
#include "validate/imatrix_collector.h"
#include "validate/perplexity_runner.h"

namespace lp::cli {
namespace {

struct ImatrixArgs {
  std::string model, file, output = "imatrix.gguf";
  int64_t chunks = 0;
  bool json = false;
};

void run_imatrix(const ImatrixArgs& a, const EngineFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t n_ctx = flags.ctx_size > 0 ? flags.ctx_size : 512;
  const auto model = LoadedModel::open(a.model, static_cast<uint64_t>(n_ctx));
  const Tokenizer tokenizer = load_tokenizer(a.model);
  const std::vector<int32_t> tokens = tokenizer.encode(read_text_file(a.file), true);
  const validate::ChunkPlan plan =
      validate::plan_chunks(static_cast<int64_t>(tokens.size()), n_ctx, a.chunks, validate::window_bos(tokenizer, a.model));

  validate::ImatrixCollector collector(static_cast<int64_t>(model->hparams().expert_count));
  EngineFlags engine = flags;
  engine.ctx_size = n_ctx;
  engine.batch_size = std::max<int64_t>(engine.batch_size, n_ctx);  // a window is one batch, as llama-imatrix's
  validate::PerplexityRun run;
  run.model = model.get();
  run.options = session_options(engine, *model, n_ctx);
  // The products' float inputs are what is summed, whatever the activations are rounded to after.
  run.options.observer = &collector;
  run.tokens = tokens;
  run.plan = plan;
  Progress progress("imatrix", static_cast<uint64_t>(plan.n_chunks), 0);
  run.on_chunk = [&](int64_t, const validate::ScoreAccumulator&) { progress.advance(1, 0); };
  const validate::ScoreAccumulator scores = validate::run_perplexity(run);
  progress.finish();
  collector.write(a.output, {a.file}, plan.n_chunks, plan.n_ctx);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto ppl = scores.perplexity();
  int64_t expert_entries = 0;
  for (const auto& [name, e] : collector.entries()) expert_entries += e.counts.size() > 1 ? 1 : 0;
  if (a.json) {
    nlohmann::json j = {{"model", a.model},   {"dataset", a.file},          {"output", a.output},
                        {"chunks", plan.n_chunks}, {"chunk_size", plan.n_ctx}, {"entries", collector.entries().size()},
                        {"expert_entries", expert_entries}, {"unused_experts", collector.unused_experts()},
                        {"perplexity", ppl.ppl.value}, {"perplexity_se", ppl.ppl.se}, {"seconds", seconds}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("{} windows of {} tokens: perplexity {:.4f} ± {:.4f}\n", plan.n_chunks, plan.n_ctx, ppl.ppl.value, ppl.ppl.se);
  fmt::print("wrote {} ({} weights{}) in {:.1f} s\n", a.output, collector.entries().size(),
             expert_entries ? fmt::format(", {} of them stacked experts with per-expert counts", expert_entries) : "", seconds);
  if (collector.unused_experts() > 0) {
    fmt::print(stderr, "note: {} expert slots saw no token; a quantizer weights their columns uniformly\n",
               collector.unused_experts());
  }
}

}  // namespace

void add_imatrix_command(CLI::App& app) {
  auto a = std::make_shared<ImatrixArgs>();
  auto* cmd = app.add_subcommand("imatrix",
                                 "Compute an importance matrix over a calibration text (llama.cpp's GGUF imatrix format)");
  add_model_option(cmd, "model,-m,--model", a->model, "GGUF file or Hugging Face directory")->required();
  cmd->add_option("-f,--file", a->file, "Calibration text (at least two windows of --ctx-size tokens)")->required();
  cmd->add_option("-o,--output", a->output, "Output imatrix .gguf")->default_val("imatrix.gguf");
  cmd->add_option("--chunks", a->chunks, "Windows to use (default: every whole window of the text)");
  cmd->add_flag("--json", a->json, "Print a JSON summary instead of text");
  auto flags = add_engine_flags(cmd, 512);
  cmd->callback([a, flags] { run_imatrix(*a, *flags); });
}

}  // namespace lp::cli
