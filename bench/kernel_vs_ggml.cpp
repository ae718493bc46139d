// Our dot-product kernels against ggml's on one core, on the same weight bytes: for each
// type, a matvec (every row against one token) and a 64-token matmat, timed as the minimum
// of several runs. ggml's side calls its CPU backend's vec_dot per (row, token) through
// ggml_get_type_traits_cpu, so its repacked GEMM paths (Q4_0/Q4_K/IQ4_NL 8x8 interleaving)
// are not covered; ours calls the tile kernel matmul uses.
//
//   lp_kernel_vs_ggml PATH/libggml-cpu.so   (e.g. llama-cpp-python's llama_cpp/lib/)
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "core/ggml_types.h"
#include "kernels/kernel_table.h"

namespace {

// ggml-cpu.h, as of ggml 0.9 (llama-cpp-python 0.3.x).
using GgmlVecDot = void (*)(int n, float* s, size_t bs, const void* x, size_t bx, const void* y, size_t by, int nrc);
using GgmlFromFloat = void (*)(const float* x, void* y, int64_t k);
struct GgmlTypeTraitsCpu {
  GgmlFromFloat from_float;
  GgmlVecDot vec_dot;
  int vec_dot_type;
  int64_t nrows;
};
using GetTraits = const GgmlTypeTraitsCpu* (*)(int type);

template <class F>
double min_seconds(int runs, F&& f) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PATH/libggml-cpu.so\n", argv[0]);
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    std::fprintf(stderr, "error: %s\n", dlerror());
    return 2;
  }
  auto init = reinterpret_cast<void (*)()>(dlsym(lib, "ggml_cpu_init"));
  auto get_traits = reinterpret_cast<GetTraits>(dlsym(lib, "ggml_get_type_traits_cpu"));
  if (!init || !get_traits) {
    std::fprintf(stderr, "error: %s has no ggml_cpu_init / ggml_get_type_traits_cpu\n", argv[1]);
    return 2;
  }
  init();

  using lp::GgmlType;
  const int64_t cols = 1536, rows = 2240, tokens = 64;  // a quarter of Qwen2.5-1.5B's ffn_up
  std::printf("one core, %lld x %lld, our kernels: %s\n", static_cast<long long>(rows), static_cast<long long>(cols),
              lp::kernel_isa_name(lp::active_kernel_isa()));
  std::printf("| type | matvec ours | matvec ggml | ratio | 64 tokens ours | 64 tokens ggml | ratio |\n|---|---|---|---|---|---|---|\n");
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                              GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                              GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
    const auto& traits = lp::ggml_type_traits(type);
    const lp::WeightKernels& ours = *lp::find_weight_kernels(type);
    const GgmlTypeTraitsCpu* theirs = get_traits(static_cast<int>(type));
    const uint64_t row_bytes = *lp::ggml_row_bytes(type, cols);

    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> values(static_cast<size_t>(cols));
    std::vector<uint8_t> weights(row_bytes * rows);
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : values) v = normal(rng);
      traits.quantize(values.data(), weights.data() + r * row_bytes, cols, nullptr);
    }
    std::vector<float> x(static_cast<size_t>(cols * tokens));
    for (auto& v : x) v = normal(rng) * 50.0f;

    // Activations in each side's own format, quantized outside the timing.
    const uint64_t our_stride = lp::activation_row_bytes(ours, cols);
    std::vector<uint8_t> our_act(our_stride * tokens);
    for (int64_t t = 0; t < tokens; ++t) {
      if (ours.quantize) ours.quantize(x.data() + t * cols, our_act.data() + t * our_stride, cols);
      else std::copy_n(reinterpret_cast<const uint8_t*>(x.data() + t * cols), our_stride, our_act.data() + t * our_stride);
    }
    const auto& their_act_traits = lp::ggml_type_traits(static_cast<GgmlType>(theirs->vec_dot_type));
    const uint64_t their_stride = cols / their_act_traits.block_size * their_act_traits.block_bytes;
    std::vector<uint8_t> their_act(their_stride * tokens);
    for (int64_t t = 0; t < tokens; ++t) {
      if (theirs->vec_dot_type == 0) std::copy_n(reinterpret_cast<const uint8_t*>(x.data() + t * cols), their_stride, their_act.data() + t * their_stride);
      else get_traits(theirs->vec_dot_type)->from_float(x.data() + t * cols, their_act.data() + t * their_stride, cols);
    }

    std::vector<float> y(static_cast<size_t>(rows * tokens));
    const lp::DotTileFn tile = lp::dot_tile_for(ours, lp::active_kernel_isa());
    auto ours_run = [&](int64_t n_tokens) {
      for (int64_t t = 0; t < n_tokens; t += lp::kMaxTileTokens)
        for (int64_t r = 0; r < rows; ++r)
          tile(cols, weights.data() + r * row_bytes, our_act.data() + t * our_stride, our_stride,
               static_cast<int>(std::min<int64_t>(lp::kMaxTileTokens, n_tokens - t)), y.data() + t * rows + r, rows);
    };
    auto theirs_run = [&](int64_t n_tokens) {
      for (int64_t t = 0; t < n_tokens; ++t)
        for (int64_t r = 0; r < rows; ++r)
          theirs->vec_dot(static_cast<int>(cols), y.data() + t * rows + r, 0, weights.data() + r * row_bytes, 0,
                          their_act.data() + t * their_stride, 0, 1);
    };
    const double ov = min_seconds(20, [&] { ours_run(1); }), tv = min_seconds(20, [&] { theirs_run(1); });
    const double om = min_seconds(5, [&] { ours_run(tokens); }), tm = min_seconds(5, [&] { theirs_run(tokens); });
    std::printf("| %s | %.0f us | %.0f us | %.2fx | %.2f ms | %.2f ms | %.2fx |\n", traits.name.data(), ov * 1e6, tv * 1e6,
                tv / ov, om * 1e3, tm * 1e3, tm / om);
  }
  return 0;
}
