#include "kernels/matmul.h"

#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"

namespace lp {

void weight_row_to_float(const WeightMatrix& w, int64_t r, float* out) {
  const auto& traits = ggml_type_traits(w.type);
  if (!traits.dequantize) fail("cannot compute with {} weights", traits.name);
  traits.dequantize(w.row(r), out, w.cols);
}

// First version: each thread dequantizes a weight row to float32 and takes float dot
// products with every token. Correct for every type with a dequantizer; the kernels
// work replaces it with integer dot products on quantized activations.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  const auto& traits = ggml_type_traits(w.type);
  if (!traits.dequantize) fail("cannot compute with {} weights", traits.name);
  pool.parallel_for(w.rows, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> row;
    row.resize(static_cast<size_t>(w.cols));
    for (int64_t r = begin; r < end; ++r) {
      traits.dequantize(w.row(r), row.data(), w.cols);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * w.cols;
        float sum = 0.0f;
        for (int64_t i = 0; i < w.cols; ++i) sum += row[static_cast<size_t>(i)] * xt[i];
        y[t * w.rows + r] = sum;
      }
    }
  });
}

}  // namespace lp
