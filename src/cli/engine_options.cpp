#include "cli/engine_options.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "formats/mlx_quant_config.h"
#include "mlx_backend/mlx_backend.h"
#include "model/model_summary.h"
#include "kernels/kv_rows.h"

namespace lp::cli {

std::shared_ptr<EngineFlags> add_engine_flags(CLI::App* cmd, int64_t default_ctx_note, bool with_backend) {
  auto f = std::make_shared<EngineFlags>();
  cmd->add_option("-t,--threads", f->threads, "Threads (default: every core)");
  cmd->add_option("-c,--ctx-size", f->ctx_size,
                  "Context size in tokens (default " + std::to_string(default_ctx_note) + ", at most the model's)");
  cmd->add_option("-b,--batch-size", f->batch_size, "Tokens per forward pass while reading a prompt")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f16, f32, q8_0 or q4_0 (llama.cpp's --cache-type-k/-v)")
      ->check(CLI::IsMember(kv_cache_type_names()))
      ->capture_default_str();
  cmd->add_option("--activations", f->activations,
                  "q8: activations rounded to 8 bits for integer dot products with quantized weights (fast, as llama.cpp); "
                  "f32: float32 activations against dequantized weights (the model's exact arithmetic, slower)")
      ->check(CLI::IsMember({"q8", "f32"}))
      ->capture_default_str();
  if (!with_backend) return f;
  cmd->add_option("--backend", f->backend,
                  "cpu: our engine; mlx: MLX's own library (llama, qwen2, qwen3; a build that found MLX)")
      ->check(CLI::IsMember({"cpu", "mlx"}))
      ->capture_default_str();
  return f;
}

SessionOptions session_options(const EngineFlags& flags, const LoadedModel& model, int64_t fallback_ctx) {
  SessionOptions o;
  o.threads = flags.threads > 0 ? flags.threads : default_thread_count();
  const auto model_ctx = static_cast<int64_t>(model.hparams().context_length);
  o.ctx_size = flags.ctx_size > 0 ? flags.ctx_size : (model_ctx > 0 ? std::min(fallback_ctx, model_ctx) : fallback_ctx);
  if (flags.batch_size <= 0) fail("--batch-size must be positive");
  o.batch_size = flags.batch_size;
  o.kv_type = *kv_cache_type_from_name(flags.kv_type);
  o.activations = flags.activations == "f32" ? ActivationPrecision::float32 : ActivationPrecision::quantized;
  return o;
}

EngineUnderTest open_engine(const EngineFlags& flags, const std::filesystem::path& path, int64_t fallback_ctx,
                            uint64_t ctx_hint) {
  EngineUnderTest e;
  if (flags.backend == "mlx") {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) fail("--backend mlx runs MLX or Hugging Face directories, not {}", path.string());
    // MLX computes in the checkpoint's dtype with its own threads: our engine's settings do not reach it.
    if (flags.kv_type != "f16" || flags.activations != "q8" || flags.threads > 0) {
      fail("--kv-type, --activations and --threads set our engine; MLX computes in the checkpoint's dtype on its own threads");
    }
    const ModelSummary summary = summarize_model(path);
    const auto model_ctx = static_cast<int64_t>(summary.hparams.context_length);
    e.options.threads = 1;  // reported as such: MLX's CPU backend runs these models' operations one at a time
    e.options.ctx_size = flags.ctx_size > 0 ? flags.ctx_size : (model_ctx > 0 ? std::min(fallback_ctx, model_ctx) : fallback_ctx);
    e.options.batch_size = flags.batch_size;
    e.session = open_mlx_session(path, e.options.ctx_size);
    e.hparams = summary.hparams;
    e.architecture = summary.hparams.architecture;
    const auto mlx = parse_mlx_quant_config(summary.metadata, (path / "config.json").string());
    e.quant_type = mlx ? mlx->label() : "float";
    e.parameters = summary.parameter_count;
    e.weight_bytes = summary.tensor_bytes;
    return e;
  }
  e.model = LoadedModel::open(path, ctx_hint);
  e.options = session_options(flags, *e.model, fallback_ctx);
  e.session = std::make_unique<InferenceSession>(*e.model, e.options);
  e.hparams = e.model->hparams();
  e.architecture = e.model->hparams().architecture;
  e.quant_type = e.model->quant_type_name();
  e.parameters = e.model->parameter_count();
  e.weight_bytes = e.model->weight_bytes();
  return e;
}

}  // namespace lp::cli
