// Microbenchmarks of the quantized matrix products at a Qwen2.5-1.5B FFN shape (8960 rows
// of 1536 columns): matvec (one token, decode) and matmat (64 tokens, prefill) per weight
// type, with the best kernels and, for comparison, the scalar reference; decode from rows
// interleaved as the engine loads them (matvec_interleaved) and from 16 such matrices, past
// the last-level cache (matvec_dram*), also with the AVX2 set (matvec_interleaved_avx2); and
// one thread's 64-row prefill chunk through the panel kernels against the tile kernels, of the
// active set (LP_KERNELS=avx2 compares AVX2's on an AVX-512 CPU). Reports weight bytes read
// per second and multiply-adds (2 flops each) per second.
//
//   build/bench/lp_kernel_benchmarks [--benchmark_filter=Q4_K]   (LP_BENCH_THREADS, default 2)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/ggml_types.h"
#include "core/huge_page_buffer.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/panel_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lp {
namespace {

constexpr int64_t kCols = 1536, kRows = 8960, kDramCopies = 16;

unsigned bench_threads() {
  const char* value = std::getenv("LP_BENCH_THREADS");
  return value ? static_cast<unsigned>(std::atoi(value)) : 2u;
}

ThreadPool& pool() {
  static ThreadPool p(bench_threads());
  return p;
}

// A weight matrix of `type`: 64 distinct rows quantized with the tool's quantizer, repeated
// (quantizing 13.8M values per type would dominate the run; the bytes read are the same).
struct BenchWeights {
  std::vector<uint8_t> bytes;
  HugePageBuffer interleaved_bytes{0};  // on huge pages, as the engine holds it
  WeightMatrix matrix, interleaved;  // `interleaved`: the rows regrouped as the engine loads them (if it does)
};

const BenchWeights& weights_of(GgmlType type, int64_t rows = kRows) {
  static std::vector<std::pair<std::pair<GgmlType, int64_t>, BenchWeights*>> cache;
  for (auto& [key, w] : cache)
    if (key.first == type && key.second == rows) return *w;
  auto* w = new BenchWeights;
  const uint64_t row_bytes = *ggml_row_bytes(type, kCols);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(kCols);
  std::vector<uint8_t> distinct(row_bytes * 64);
  for (int r = 0; r < 64; ++r) {
    for (auto& v : row) v = normal(rng);
    ggml_type_traits(type).quantize(row.data(), distinct.data() + r * row_bytes, kCols, nullptr);
  }
  w->bytes.resize(row_bytes * static_cast<uint64_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    std::copy_n(distinct.data() + (r % 64) * row_bytes, row_bytes, w->bytes.data() + r * row_bytes);
  w->matrix = WeightMatrix{type, kCols, rows, row_bytes, w->bytes.data()};
  w->interleaved_bytes = HugePageBuffer(interleaved_bytes(w->matrix));
  w->interleaved = w->interleaved_bytes.size() == 0 ? w->matrix : interleave_rows(w->matrix, w->interleaved_bytes.data());
  cache.emplace_back(std::pair{type, rows}, w);
  return *w;
}

// `interleaved`: the rows as the engine holds them at load (interleaved_gemm.h) where the type
// has that layout on this CPU; otherwise the file's rows.
void run_matmul(benchmark::State& state, GgmlType type, int64_t tokens, KernelIsa isa, int64_t rows, bool interleaved) {
  const BenchWeights& w = weights_of(type, rows);
  const WeightMatrix& matrix = interleaved ? w.interleaved : w.matrix;
  std::vector<float> x(static_cast<size_t>(kCols * tokens)), y(static_cast<size_t>(rows * tokens));
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  const KernelIsa before = active_kernel_isa();
  set_kernel_isa(isa);
  for (auto _ : state) {
    matmul(matrix, x.data(), tokens, y.data(), pool());
    benchmark::DoNotOptimize(y.data());
  }
  set_kernel_isa(before);
  state.SetLabel(kernel_isa_name(std::min(isa, best_kernel_isa())));
  const double iterations = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(iterations * static_cast<double>(w.bytes.size()) / 1e9,
                                              benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(iterations * 2.0 * kCols * rows * static_cast<double>(tokens) / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// The decode kernel alone: one interleaved group of eight rows (under 10 KB: the first-level
// cache) against one token, called in a loop. What one core can compute, with no memory and
// no matmul around it, to set against what it reads from memory (matvec_dram_interleaved).
void BM_InterleavedGroup(benchmark::State& state, GgmlType type, KernelIsa isa) {
  const BenchWeights& w = weights_of(type);
  const WeightKernels& kernels = *find_weight_kernels(type);
  const KernelIsa used = std::min(isa, best_kernel_isa());
  const InterleavedGemmFn gemm = interleaved_gemm_for(kernels, used);
  const QuantizeActivationsFn quantize = quantizer_for(kernels, used);
  if (w.interleaved_bytes.size() == 0 || gemm == nullptr || quantize == nullptr) {
    state.SkipWithError("no interleaved layout for this type on this CPU");
    return;
  }
  std::vector<float> x(kCols), y(8);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  std::vector<uint8_t> act(activation_row_bytes(kernels, kCols));
  quantize(x.data(), act.data(), kCols);
  for (auto _ : state) {
    gemm(kCols, w.interleaved.group(0), act.data(), act.size(), 1, y.data(), 8);
    benchmark::DoNotOptimize(y.data());
  }
  const double bytes = static_cast<double>(w.interleaved.group_bytes);
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * bytes / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(kernel_isa_name(used));
}

// Other processes share this machine's cores: rates are per CPU second of the calling
// thread (which does its share of the rows), and repetitions report their minimum.
void with_min(benchmark::internal::Benchmark* b) {
  b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
}

// The fixed cost of one matmul call (pool wake-up, activation scratch, chunk hand-out):
// decode makes about 200 calls per token, most of them small.
void BM_SmallMatvecOverhead(benchmark::State& state) {
  const int64_t cols = 256, rows = 64;
  std::vector<float> weights(static_cast<size_t>(cols * rows), 0.01f), x(cols, 1.0f), y(rows);
  const WeightMatrix w{GgmlType::F32, cols, rows, cols * sizeof(float), reinterpret_cast<const uint8_t*>(weights.data())};
  for (auto _ : state) {
    matmul(w, x.data(), 1, y.data(), pool());
    benchmark::DoNotOptimize(y.data());
  }
}
BENCHMARK(BM_SmallMatvecOverhead)->Unit(benchmark::kMicrosecond)->Apply(with_min);

#if defined(__x86_64__)
// One core's float32 multiply-add peak (ten independent 8-wide FMA chains, 16 flops each):
// the ceiling of any float32 matrix product, such as F16 weights converted to float32 (what
// our F16 prefill and llama.cpp's both do on a CPU without AVX-512 FP16).
__attribute__((target("avx2,fma"))) void BM_Fp32FmaPeak(benchmark::State& state) {
  __m256 acc[10];
  for (int i = 0; i < 10; ++i) acc[i] = _mm256_set1_ps(1.0f + static_cast<float>(i) * 1e-7f);
  const __m256 scale = _mm256_set1_ps(0.9999999f), offset = _mm256_set1_ps(1e-7f);
  constexpr int kSteps = 1000;
  for (auto _ : state) {
    for (int k = 0; k < kSteps; ++k)
      for (auto& a : acc) a = _mm256_fmadd_ps(a, scale, offset);
    benchmark::DoNotOptimize(acc);
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kSteps * 10 * 16 / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Fp32FmaPeak)->Apply(with_min);
#endif

// Quantizing one activation row (decode does it on the calling thread before the rows are
// split): 8960 values, the width of Qwen2.5-1.5B's ffn_down input.
void BM_QuantizeActivations(benchmark::State& state, GgmlType weight, KernelIsa isa) {
  const int64_t n = 8960;
  const WeightKernels& kernels = *find_weight_kernels(weight);
  const QuantizeActivationsFn quantize = quantizer_for(kernels, std::min(isa, best_kernel_isa()));
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& v : x) v = normal(rng);
  std::vector<uint8_t> out(activation_row_bytes(kernels, n));
  for (auto _ : state) {
    quantize(x.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(kernel_isa_name(std::min(isa, best_kernel_isa())));
}
BENCHMARK_CAPTURE(BM_QuantizeActivations, q8_0, GgmlType::Q8_0, KernelIsa::Avx512)->Apply(with_min);
BENCHMARK_CAPTURE(BM_QuantizeActivations, q8_1, GgmlType::Q4_1, KernelIsa::Avx512)->Apply(with_min);
BENCHMARK_CAPTURE(BM_QuantizeActivations, q8_k, GgmlType::Q4_K, KernelIsa::Avx512)->Apply(with_min);
BENCHMARK_CAPTURE(BM_QuantizeActivations, q8_0_scalar, GgmlType::Q8_0, KernelIsa::Scalar)->Apply(with_min);
BENCHMARK_CAPTURE(BM_QuantizeActivations, q8_k_scalar, GgmlType::Q4_K, KernelIsa::Scalar)->Apply(with_min);

// One thread, one 64-row chunk of the FFN weight against a prefill batch: the panel kernel
// (rows unpacked once for all tokens) against the tile kernel (unpacked once per tile of
// tokens), so the two are compared without the pool, the activation quantizer or the
// matmul's choice between them.
void BM_PrefillChunk(benchmark::State& state, GgmlType type, bool panel) {
  const int64_t rows = 64, tokens = state.range(0);
  const BenchWeights& w = weights_of(type);
  const WeightKernels& kernels = *find_weight_kernels(type);
  const KernelIsa isa = active_kernel_isa();  // the best, or LP_KERNELS's (avx2 on an AVX-512 CPU)
  const PanelGemmFn panel_fn = panel_for(kernels, isa);
  if (panel && panel_fn == nullptr) {
    state.SkipWithError("no panel kernel for this type on this CPU");
    return;
  }
  const uint64_t stride = activation_row_bytes(kernels, kCols);
  std::vector<uint8_t> act(stride * static_cast<uint64_t>(tokens));
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kCols);
  // The panel reads its own batch quantizer's rows (panel_gemm.h), quantized once as matmul does.
  const QuantizeActivationsFn quantize = panel ? panel_quantizer_for(kernels, isa) : quantizer_for(kernels, isa);
  for (int64_t t = 0; t < tokens; ++t) {
    for (auto& v : x) v = normal(rng);
    if (quantize) quantize(x.data(), act.data() + static_cast<uint64_t>(t) * stride, kCols);
    else std::memcpy(act.data() + static_cast<uint64_t>(t) * stride, x.data(), stride);
  }
  std::vector<float> y(static_cast<size_t>(rows * tokens));
  const DotTileFn tile = dot_tile_for(kernels, isa);
  for (auto _ : state) {
    if (panel) {
      for (int64_t r = 0; r < rows; r += kPanelRows)
        panel_fn(kCols, w.matrix.row(r), w.matrix.row_bytes, kPanelRows, act.data(), stride, tokens, y.data() + r, rows);
    } else {
      for (int64_t t = 0; t < tokens; t += kMaxTileTokens)
        for (int64_t r = 0; r < rows; ++r)
          tile(kCols, w.matrix.row(r), act.data() + static_cast<uint64_t>(t) * stride, stride,
               static_cast<int>(std::min<int64_t>(kMaxTileTokens, tokens - t)), y.data() + t * rows + r, rows);
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * kCols * rows * static_cast<double>(tokens) / 1e9,
      benchmark::Counter::kIsRate);
}

const GgmlType kTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                           GgmlType::F16,  GgmlType::BF16, GgmlType::F32};

[[maybe_unused]] const bool registered = [] {
  for (const GgmlType type : kTypes) {
    const std::string name(ggml_type_traits(type).name);
    benchmark::RegisterBenchmark(("matvec/" + name).c_str(), run_matmul, type, int64_t{1}, KernelIsa::Avx512, kRows, false)
        ->Unit(benchmark::kMicrosecond)->Apply(with_min);
    benchmark::RegisterBenchmark(("matmat64/" + name).c_str(), run_matmul, type, int64_t{64}, KernelIsa::Avx512, kRows, false)
        ->Unit(benchmark::kMillisecond)->Apply(with_min);
    // Decode as it meets a real model: 16 FFN matrices' worth of rows (124 MB of Q4_K), far
    // past the last-level cache, so the rate includes waiting for memory.
    benchmark::RegisterBenchmark(("matvec_dram/" + name).c_str(), run_matmul, type, int64_t{1}, KernelIsa::Avx512,
                                 kRows * kDramCopies, false)
        ->Unit(benchmark::kMillisecond)->Apply(with_min);
    if (find_weight_kernels(type)->interleaved == nullptr) continue;
    benchmark::RegisterBenchmark(("matvec_interleaved/" + name).c_str(), run_matmul, type, int64_t{1},
                                 KernelIsa::Avx512, kRows, true)
        ->Unit(benchmark::kMicrosecond)->Apply(with_min);
    benchmark::RegisterBenchmark(("matvec_dram_interleaved/" + name).c_str(), run_matmul, type, int64_t{1},
                                 KernelIsa::Avx512, kRows * kDramCopies, true)
        ->Unit(benchmark::kMillisecond)->Apply(with_min);
  }
  for (const GgmlType type : {GgmlType::F16, GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
                              GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const std::string name(ggml_type_traits(type).name);
    benchmark::RegisterBenchmark(("prefill_panel/" + name).c_str(), BM_PrefillChunk, type, true)
        ->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond)->Apply(with_min);
    benchmark::RegisterBenchmark(("prefill_tiles/" + name).c_str(), BM_PrefillChunk, type, false)
        ->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond)->Apply(with_min);
  }
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K, GgmlType::Q8_0}) {
    const std::string name(ggml_type_traits(type).name);
    benchmark::RegisterBenchmark(("interleaved_group/" + name).c_str(), BM_InterleavedGroup, type, KernelIsa::Avx512)
        ->Apply(with_min);
    benchmark::RegisterBenchmark(("interleaved_group_avx2/" + name).c_str(), BM_InterleavedGroup, type, KernelIsa::Avx2)
        ->Apply(with_min);
    benchmark::RegisterBenchmark(("matvec_avx2/" + name).c_str(), run_matmul, type, int64_t{1}, KernelIsa::Avx2, kRows, false)
        ->Unit(benchmark::kMicrosecond)->Apply(with_min);
    benchmark::RegisterBenchmark(("matvec_interleaved_avx2/" + name).c_str(), run_matmul, type, int64_t{1}, KernelIsa::Avx2,
                                 kRows, true)
        ->Unit(benchmark::kMicrosecond)->Apply(with_min);
    benchmark::RegisterBenchmark(("matvec_scalar/" + name).c_str(), run_matmul, type, int64_t{1}, KernelIsa::Scalar, kRows, false)
        ->Unit(benchmark::kMicrosecond)->Apply(with_min);
    benchmark::RegisterBenchmark(("matmat64_avx2/" + name).c_str(), run_matmul, type, int64_t{64}, KernelIsa::Avx2, kRows, false)
        ->Unit(benchmark::kMillisecond)->Apply(with_min);
  }
  return true;
}();

}  // namespace
}  // namespace lp

BENCHMARK_MAIN();
