#pragma once
// The engine settings every command that runs a model shares (-t, -c, -b, --kv-type), with
// llama.cpp's flag names, registered once so they mean the same thing everywhere.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/inference_session.h"

namespace lp::cli {

struct EngineFlags {
  unsigned threads = 0;  // 0: every core
  int64_t ctx_size = 0;  // 0: the command's default
  int64_t batch_size = 512;
  std::string kv_type = "f16";
  std::string activations = "q8";
  std::string backend = "cpu";  // cpu: our engine; mlx: MLX's library (a build with MLX)
};

// `with_backend`: the command also takes --backend (it runs through open_engine).
std::shared_ptr<EngineFlags> add_engine_flags(CLI::App* cmd, int64_t default_ctx_note, bool with_backend = false);

// Session options for `model`: ctx_size 0 becomes `fallback_ctx` capped at the model's context length.
SessionOptions session_options(const EngineFlags& flags, const LoadedModel& model, int64_t fallback_ctx);

// A model ready to evaluate with the backend the flags name: our engine (the model loaded
// here) or MLX's library (which loads it itself), with what reports say about it.
struct EngineUnderTest {
  std::unique_ptr<LoadedModel> model;  // our engine's; nullptr for --backend mlx
  std::unique_ptr<SequenceEvaluator> session;
  SessionOptions options;
  ModelHParams hparams;
  std::string architecture, quant_type;
  uint64_t parameters = 0, weight_bytes = 0;
};
EngineUnderTest open_engine(const EngineFlags& flags, const std::filesystem::path& path, int64_t fallback_ctx,
                            uint64_t ctx_hint);

}  // namespace lp::cli
