// Microbenchmarks of the file-format layer: parsing a tokenizer-heavy GGUF header, a
// many-tensor safetensors header, and the scalar f16/bf16 -> f32 conversions.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fmt/core.h>

#include "core/float_convert.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "support/safetensors_builder.h"
#include "support/sample_gguf.h"

namespace {

// A header shaped like SmolLM2's: 49152 token strings, 48900 merges, 272 tensor infos.
const std::vector<uint8_t>& tokenizer_heavy_gguf() {
  static const std::vector<uint8_t> bytes = [] {
    lp::GgufWriter w;
    std::vector<lp::GgufValue> tokens, merges, scores;
    for (int i = 0; i < 49152; ++i) tokens.emplace_back(fmt::format("Ġtoken{}", i));
    for (int i = 0; i < 48900; ++i) merges.emplace_back(fmt::format("Ġt oken{}", i));
    for (int i = 0; i < 49152; ++i) scores.emplace_back(static_cast<float>(i));
    w.set("tokenizer.ggml.tokens", lp::GgufValue::array(lp::GgufValueType::STRING, std::move(tokens)));
    w.set("tokenizer.ggml.merges", lp::GgufValue::array(lp::GgufValueType::STRING, std::move(merges)));
    w.set("tokenizer.ggml.scores", lp::GgufValue::array(lp::GgufValueType::FLOAT32, std::move(scores)));
    static const std::vector<uint8_t> row(576 * 4);
    for (int i = 0; i < 272; ++i) w.add_tensor(fmt::format("blk.{}.w", i), lp::GgmlType::F32, {576}, std::span(row));
    const auto path = std::filesystem::temp_directory_path() / "lp-bench-header.gguf";
    w.write(path);
    auto out = lp::testing::read_file_bytes(path);
    std::filesystem::remove(path);
    return out;
  }();
  return bytes;
}

void BM_ParseGgufTokenizerHeavyHeader(benchmark::State& state) {
  const auto& bytes = tokenizer_heavy_gguf();
  for (auto _ : state) benchmark::DoNotOptimize(lp::parse_gguf(bytes, "bench.gguf"));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ParseGgufTokenizerHeavyHeader)->Unit(benchmark::kMillisecond);

void BM_ParseSafetensorsHeader(benchmark::State& state) {
  std::vector<lp::testing::StTensor> tensors;
  for (int i = 0; i < 1000; ++i) tensors.push_back({fmt::format("model.layers.{}.w", i), "BF16", {4, 4}, std::vector<uint8_t>(32)});
  const auto bytes = lp::testing::build_safetensors(tensors);
  for (auto _ : state) benchmark::DoNotOptimize(lp::parse_safetensors(bytes, "bench.safetensors"));
}
BENCHMARK(BM_ParseSafetensorsHeader)->Unit(benchmark::kMicrosecond);

void BM_F16ToF32(benchmark::State& state) {
  const auto raw = lp::testing::pseudo_random_bytes(2 << 20, 3);
  std::vector<float> out(raw.size() / 2);
  for (auto _ : state) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = lp::f16_to_f32(static_cast<uint16_t>(raw[2 * i] | raw[2 * i + 1] << 8));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_F16ToF32);

void BM_F32ToF16(benchmark::State& state) {
  std::vector<float> in(1 << 20);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i) * 1e-3f - 500.0f;
  std::vector<uint16_t> out(in.size());
  for (auto _ : state) {
    for (size_t i = 0; i < in.size(); ++i) out[i] = lp::f32_to_f16(in[i]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_F32ToF16);

}  // namespace

BENCHMARK_MAIN();
