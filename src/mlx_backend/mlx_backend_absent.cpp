// The MLX backend of a build without MLX (CMake found no MLX package): a clear error.
#include "core/error.h"
#include "mlx_backend/mlx_backend.h"

namespace lp {

std::unique_ptr<SequenceEvaluator> open_mlx_session(const std::filesystem::path& /*dir*/, int64_t /*ctx_size*/) {
  fail("--backend mlx: this build has no MLX backend (CMake found no MLX: `pip install mlx` into .venv, then rebuild)");
}

}  // namespace lp
