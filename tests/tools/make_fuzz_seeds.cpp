// Test helper (not shipped): writes the binary and recipe seed corpora of fuzz/corpus with the
// project's own writers, so the seeds are files our tools produce, not hand-made bytes.
//   make_fuzz_seeds FUZZ_DIR FIXTURES_DIR
// gguf_tokenizer: the tiny fixture models' tokenizers converted to tokenizer-only GGUFs (the
//   tokenizer.ggml.* keys `convert` writes, no tensors);
// imatrix: importance matrices in llama-imatrix's GGUF layout (dense and 4-expert);
// reference_logits: files from ReferenceLogitsWriter, as --save-reference-logits writes them;
// recipe: every built-in recipe as a recipe file, and the README's example.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convert/hf_vocab.h"
#include "formats/gguf_writer.h"
#include "formats/json_guard.h"
#include "quant/builtin_recipes.h"
#include "support/sample_gguf.h"
#include "validate/reference_logits_file.h"

namespace {

namespace fs = std::filesystem;

void write_tokenizer_ggufs(const fs::path& out, const fs::path& tiny_models) {
  for (const char* family : {"llama", "qwen2", "gemma3", "phi3"}) {
    const fs::path dir = tiny_models / family;
    const auto config = lp::read_json_file((dir / "config.json").string());
    lp::GgufWriter w;
    w.set("general.architecture", "llama");
    for (auto& kv : lp::hf_vocab_to_gguf(dir, config.at("vocab_size").get<uint64_t>())) w.set(kv.key, std::move(kv.value));
    w.write(out / fmt::format("{}.gguf", family));
  }
}

// One weight's sums (ne0 per expert) and per-expert counts, as llama-imatrix stores them.
struct ImatrixEntry {
  std::string name;
  uint64_t ne0, experts;
};

void write_imatrix(const fs::path& path, const std::vector<ImatrixEntry>& entries) {
  std::vector<std::vector<uint8_t>> keep;  // the tensors' bytes, alive until write()
  lp::GgufWriter w;
  w.set("general.type", "imatrix");
  w.set("imatrix.chunk_count", uint32_t{4});
  w.set("imatrix.chunk_size", uint32_t{512});
  w.set("imatrix.datasets", lp::GgufValue::string_array({"wiki.train.raw"}));
  uint32_t seed = 1;
  for (const auto& e : entries) {
    std::vector<float> sums(e.ne0 * e.experts), counts(e.experts);
    for (size_t i = 0; i < sums.size(); ++i) sums[i] = static_cast<float>((i * 7 + seed) % 13) * 0.25f;
    for (size_t x = 0; x < counts.size(); ++x) counts[x] = static_cast<float>(x == 1 ? 0 : 512 * (x + 1));  // one unused expert
    keep.emplace_back(reinterpret_cast<const uint8_t*>(sums.data()), reinterpret_cast<const uint8_t*>(sums.data() + sums.size()));
    w.add_tensor(e.name + ".in_sum2", lp::GgmlType::F32, {e.ne0, e.experts}, keep.back());
    keep.emplace_back(reinterpret_cast<const uint8_t*>(counts.data()), reinterpret_cast<const uint8_t*>(counts.data() + counts.size()));
    w.add_tensor(e.name + ".counts", lp::GgmlType::F32, {1, e.experts}, keep.back());
    ++seed;
  }
  w.write(path);
}

void write_reference_logits(const fs::path& path, int64_t n_ctx, int64_t n_vocab, int64_t n_chunks) {
  std::vector<int32_t> tokens(static_cast<size_t>(n_ctx * n_chunks));
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 5 + 1) % static_cast<size_t>(n_vocab));
  lp::validate::ReferenceLogitsWriter w(path, n_ctx, n_vocab, n_chunks, tokens);
  const int64_t rows = n_ctx - 1 - n_ctx / 2;
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  std::vector<uint16_t> chunk(static_cast<size_t>(rows * lp::validate::row_words(n_vocab)));
  for (int64_t c = 0; c < n_chunks; ++c) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t v = 0; v < n_vocab; ++v) logits[static_cast<size_t>(v)] = static_cast<float>((v * 3 + r + c) % 11) - 4.0f;
      lp::validate::quantize_log_probs(logits.data(), n_vocab, chunk.data() + r * lp::validate::row_words(n_vocab));
    }
    w.add_chunk(chunk);
  }
  w.commit();
}

void write_recipes(const fs::path& out) {
  for (const auto& recipe : nlohmann::json::parse(lp::kBuiltinRecipesJson)) {
    std::ofstream(out / fmt::format("{}.json", recipe.at("name").get<std::string>())) << recipe.dump(1) << "\n";
  }
  std::ofstream(out / "readme-example.json") << R"({"name": "mine", "base": "Q4_K", "rules": [
  {"tensor": "output", "type": "Q6_K"},
  {"tensor": "attn_v", "layers": "more_bits", "type": "Q6_K"},
  {"tensor": "regex:blk\\.(0|1)\\.ffn_down", "type": "Q8_0"},
  {"tensor": "ffn_down", "layers": "first:4", "when": ["gqa>=4"], "type": "Q5_K"}]}
)";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: make_fuzz_seeds FUZZ_DIR FIXTURES_DIR\n");
    return 2;
  }
  const fs::path corpus = fs::path(argv[1]) / "corpus", fixtures = argv[2];
  for (const char* t : {"gguf_tokenizer", "imatrix", "reference_logits", "recipe"}) fs::create_directories(corpus / t);
  write_tokenizer_ggufs(corpus / "gguf_tokenizer", fixtures / "tiny_models");
  write_imatrix(corpus / "imatrix" / "dense.gguf",
                {{"blk.0.attn_q.weight", 64, 1}, {"blk.0.ffn_down.weight", 96, 1}, {"output.weight", 64, 1}});
  write_imatrix(corpus / "imatrix" / "moe.gguf", {{"blk.0.ffn_up_exps.weight", 32, 4}, {"blk.0.attn_k.weight", 32, 1}});
  write_reference_logits(corpus / "reference_logits" / "ctx8-vocab5.logits", 8, 5, 2);
  write_reference_logits(corpus / "reference_logits" / "ctx16-vocab33.logits", 16, 33, 1);
  write_recipes(corpus / "recipe");
  return 0;
}
