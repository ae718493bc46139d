// Writes a GGUF with the tensor table, hyperparameters and tokenizer-sized metadata of
// Llama-3.1-8B (Q4_0 weights, all zero), about 4.3 GiB, streamed through our GgufWriter.
// It exists for bench/inspect_metadata_only.sh: the content of the weights is irrelevant
// there, only that the file is multi-GB with a real-sized header.
//   lp_make_large_gguf OUT.gguf
#include <fmt/core.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf_writer.h"

namespace {

constexpr uint64_t kEmbd = 4096, kFf = 14336, kKv = 1024, kVocab = 128256, kLayers = 32;
constexpr uint64_t kMerges = 280147;  // Llama 3's merge count

void zeros(lp::GgufWriter& w, const std::string& name, lp::GgmlType type, std::vector<uint64_t> shape) {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  const auto& t = lp::ggml_type_traits(type);
  const uint64_t bytes = n / t.block_size * t.block_bytes;
  w.add_tensor(name, type, std::move(shape), [bytes](lp::ByteSink& sink) {
    static const std::vector<uint8_t> chunk(1 << 20);
    for (uint64_t left = bytes; left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, chunk.size());
      sink.write(std::span(chunk).first(n));
      left -= n;
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: lp_make_large_gguf OUT.gguf\n");
    return 2;
  }
  try {
    using lp::GgmlType;
    using lp::GgufValue;
    lp::GgufWriter w;
    w.set("general.architecture", GgufValue("llama"));
    w.set("general.name", GgufValue("Llama-3.1-8B shape (zero weights, benchmark fixture)"));
    w.set("general.file_type", GgufValue(uint32_t{2}));
    w.set("llama.context_length", GgufValue(uint32_t{131072}));
    w.set("llama.embedding_length", GgufValue(static_cast<uint32_t>(kEmbd)));
    w.set("llama.block_count", GgufValue(static_cast<uint32_t>(kLayers)));
    w.set("llama.feed_forward_length", GgufValue(static_cast<uint32_t>(kFf)));
    w.set("llama.attention.head_count", GgufValue(uint32_t{32}));
    w.set("llama.attention.head_count_kv", GgufValue(uint32_t{8}));
    w.set("llama.rope.freq_base", GgufValue(500000.0f));
    w.set("llama.attention.layer_norm_rms_epsilon", GgufValue(1e-5f));
    w.set("tokenizer.ggml.model", GgufValue("gpt2"));
    std::vector<GgufValue> tokens, types, merges;
    for (uint64_t i = 0; i < kVocab; ++i) {
      tokens.emplace_back(fmt::format("tok{}", i));
      types.emplace_back(int32_t{1});
    }
    for (uint64_t i = 0; i < kMerges; ++i) merges.emplace_back(fmt::format("m{} x{}", i % 977, i));
    w.set("tokenizer.ggml.tokens", GgufValue::array(lp::GgufValueType::STRING, std::move(tokens)));
    w.set("tokenizer.ggml.token_type", GgufValue::array(lp::GgufValueType::INT32, std::move(types)));
    w.set("tokenizer.ggml.merges", GgufValue::array(lp::GgufValueType::STRING, std::move(merges)));

    zeros(w, "token_embd.weight", GgmlType::Q4_0, {kEmbd, kVocab});
    for (uint64_t l = 0; l < kLayers; ++l) {
      const std::string p = fmt::format("blk.{}.", l);
      zeros(w, p + "attn_norm.weight", GgmlType::F32, {kEmbd});
      zeros(w, p + "attn_q.weight", GgmlType::Q4_0, {kEmbd, kEmbd});
      zeros(w, p + "attn_k.weight", GgmlType::Q4_0, {kEmbd, kKv});
      zeros(w, p + "attn_v.weight", GgmlType::Q4_0, {kEmbd, kKv});
      zeros(w, p + "attn_output.weight", GgmlType::Q4_0, {kEmbd, kEmbd});
      zeros(w, p + "ffn_norm.weight", GgmlType::F32, {kEmbd});
      zeros(w, p + "ffn_gate.weight", GgmlType::Q4_0, {kEmbd, kFf});
      zeros(w, p + "ffn_up.weight", GgmlType::Q4_0, {kEmbd, kFf});
      zeros(w, p + "ffn_down.weight", GgmlType::Q4_0, {kFf, kEmbd});
    }
    zeros(w, "output_norm.weight", GgmlType::F32, {kEmbd});
    zeros(w, "output.weight", GgmlType::Q6_K, {kEmbd, kVocab});
    w.write(argv[1]);
  } catch (const lp::InputError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 2;
  }
  return 0;
}
