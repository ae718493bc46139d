#include "cli/engine_options.h"

#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"

namespace lp::cli {

std::shared_ptr<EngineFlags> add_engine_flags(CLI::App* cmd, int64_t default_ctx_note) {
  auto f = std::make_shared<EngineFlags>();
  cmd->add_option("-t,--threads", f->threads, "Threads (default: every core)");
  cmd->add_option("-c,--ctx-size", f->ctx_size,
                  "Context size in tokens (default " + std::to_string(default_ctx_note) + ", at most the model's)");
  cmd->add_option("-b,--batch-size", f->batch_size, "Tokens per forward pass while reading a prompt")->capture_default_str();
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f16 or f32")->check(CLI::IsMember({"f16", "f32"}))->capture_default_str();
  cmd->add_option("--activations", f->activations,
                  "q8: activations rounded to 8 bits for integer dot products with quantized weights (fast, as llama.cpp); "
                  "f32: float32 activations against dequantized weights (the model's exact arithmetic, slower)")
      ->check(CLI::IsMember({"q8", "f32"}))
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
  o.kv_f32 = flags.kv_type == "f32";
  o.activations = flags.activations == "f32" ? ActivationPrecision::float32 : ActivationPrecision::quantized;
  return o;
}

}  // namespace lp::cli
