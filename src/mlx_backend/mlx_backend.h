#pragma once
// `--backend mlx`: a model run by MLX's own library (its C++ API, the library the `mlx` PyPI
// package ships; on Linux its CPU backend, on a Mac Metal), for the llama-like dense families
// (llama, qwen2, qwen3) from an mlx-lm or float Hugging Face directory. The forward pass is
// mlx-lm's, op for op: MLX's quantized_matmul on the affine groups, fast::rms_norm, fast::rope
// and fast::scaled_dot_product_attention, computed in the checkpoint's dtype.
#include <cstdint>
#include <filesystem>
#include <memory>

#include "engine/sequence_evaluator.h"

namespace lp {

// InputError for a build without MLX, an architecture the backend does not run, or a
// directory MLX cannot load.
std::unique_ptr<SequenceEvaluator> open_mlx_session(const std::filesystem::path& dir, int64_t ctx_size);

}  // namespace lp
