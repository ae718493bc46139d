#pragma once
// Products of a weight matrix with activations, the engine's one heavy operation.
// Weights stay in their GGUF/safetensors type, used in place over the mapping.
#include <cstdint>
#include <span>

#include "core/ggml_types.h"

namespace lp {

class ThreadPool;

// A 2-D weight in GGML order: `rows` output rows of `cols` input values each, rows
// `row_bytes` apart (cols / block_size blocks of the type). When group_bytes is not 0 the
// rows are interleaved instead (interleaved_gemm.h): groups of kInterleavedRows rows,
// group_bytes apart; row_bytes is still a plain row's size.
struct WeightMatrix {
  GgmlType type = GgmlType::F32;
  int64_t cols = 0;
  int64_t rows = 0;
  uint64_t row_bytes = 0;
  const uint8_t* data = nullptr;
  uint64_t group_bytes = 0;

  bool interleaved() const { return group_bytes != 0; }
  const uint8_t* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes; }  // plain rows only
  const uint8_t* group(int64_t g) const { return data + static_cast<uint64_t>(g) * group_bytes; }
};

// How activations meet quantized weights. `quantized`: rounded to the weight's 8-bit partner
// type (Q8_0, Q8_1, Q8_K) for integer dot products, as ggml does: the fast path. `float32`:
// kept in float32 against dequantized weight rows: slower, but the model's own arithmetic,
// for reference measurements (8-bit activations add noise of their own, about 3e-3 nats of
// KL-divergence on SmolLM2-135M). Float weights always take float32 activations.
enum class ActivationPrecision { quantized, float32 };

// y[t * rows + r] = sum_i W[r][i] * x[t * cols + i] for t < n_tokens and r < rows, with
// the rows split across the pool's threads. Throws InputError for a type it cannot compute.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
            ActivationPrecision precision = ActivationPrecision::quantized);

// One weight and where its products go, for matmul_same_input.
struct MatmulOutput {
  const WeightMatrix* weight;
  float* y;  // n_tokens * weight->rows values, laid out as matmul's y
};

// Several weights against the same activations (q, k and v; gate and up): each activation
// type is quantized once for all of them, and all their rows share one pass over the pool
// (one wake-up instead of one per weight). Each output equals matmul(*weight, x, ...).
void matmul_same_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens, ThreadPool& pool,
                       ActivationPrecision precision = ActivationPrecision::quantized);

// One product of a batch of products: weight, its input rows, where its result goes.
struct MatmulTask {
  const WeightMatrix* weight;
  const float* x;  // n_tokens * weight->cols values
  float* y;        // n_tokens * weight->rows values, laid out as matmul's y
};

// Several products of the same number of tokens, each with its own input (a mixture of
// experts' down projections while decoding: one per chosen expert), in one pass over the
// pool; inputs shared by several tasks are quantized once. Each output equals
// matmul(*weight, x, ...).
void matmul_tasks(std::span<const MatmulTask> tasks, int64_t n_tokens, ThreadPool& pool,
                  ActivationPrecision precision = ActivationPrecision::quantized);

// Row r of W as float32 (an embedding lookup).
void weight_row_to_float(const WeightMatrix& w, int64_t r, float* out);

// Bytes the interleaved copy of `w` needs, or 0 when `w` is not worth interleaving with the
// active kernels (a type without an interleaved format or SIMD product, rows not a multiple
// of kInterleavedRows, or LP_INTERLEAVE=0 in the environment).
uint64_t interleaved_bytes(const WeightMatrix& w);

// `w`'s rows interleaved into `out` (interleaved_bytes(w) bytes), as a matrix over `out`.
WeightMatrix interleave_rows(const WeightMatrix& w, uint8_t* out);

}  // namespace lp
