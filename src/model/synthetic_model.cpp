#include "model/synthetic_model.h"

#include <fmt/core.h>

#include <cmath>
#include <cstring>

#include "core/ggml_types.h"
#include "tokenizer/byte_level.h"

namespace lp {
namespace {

enum class Fill { noise, ones, zeros };

struct SynthTensor {
  std::string name;
  std::vector<uint64_t> shape;  // GGML order
  Fill fill;
};

// The tensors llama.cpp's loader expects for each architecture, in GGUF (GGML) shapes.
std::vector<SynthTensor> layout(const ModelPreset& p) {
  const uint64_t e = p.embd, v = p.vocab, f = p.ff, d = p.head_dim;
  const uint64_t q = uint64_t{p.heads} * d, kv = uint64_t{p.kv_heads} * d;
  const std::string_view arch = p.architecture;
  std::vector<SynthTensor> t;
  if (p.llama3_rope) t.push_back({"rope_freqs.weight", {d / 2}, Fill::ones});
  t.push_back({"token_embd.weight", {e, v}, Fill::noise});
  for (uint32_t l = 0; l < p.layers; ++l) {
    const std::string b = fmt::format("blk.{}.", l);
    auto add = [&](std::string_view n, std::vector<uint64_t> s, Fill fill = Fill::noise) {
      t.push_back({b + std::string(n), std::move(s), fill});
    };
    add("attn_norm.weight", {e}, Fill::ones);
    if (arch == "phi2") add("attn_norm.bias", {e}, Fill::zeros);
    if (arch == "phi2" || arch == "phi3") {
      add("attn_qkv.weight", {e, q + 2 * kv});
      if (arch == "phi2") add("attn_qkv.bias", {q + 2 * kv}, Fill::zeros);
    } else {
      add("attn_q.weight", {e, q});
      add("attn_k.weight", {e, kv});
      add("attn_v.weight", {e, kv});
      if (arch == "qwen2" || arch == "gpt-oss") {
        add("attn_q.bias", {q}, Fill::zeros);
        add("attn_k.bias", {kv}, Fill::zeros);
        add("attn_v.bias", {kv}, Fill::zeros);
      }
      if (arch == "qwen3" || arch == "qwen3moe" || arch == "gemma3") {
        add("attn_q_norm.weight", {d}, Fill::ones);
        add("attn_k_norm.weight", {d}, Fill::ones);
      }
    }
    add("attn_output.weight", {q, e});
    if (arch == "phi2" || arch == "gpt-oss") add("attn_output.bias", {e}, Fill::zeros);
    if (arch == "gpt-oss") add("attn_sinks.weight", {p.heads}, Fill::zeros);
    // gpt-oss's norm before the feed-forward is llama.cpp's "post-attention" norm.
    if (arch == "gemma2" || arch == "gemma3" || arch == "gpt-oss") add("post_attention_norm.weight", {e}, Fill::ones);
    if (arch != "phi2" && arch != "gpt-oss") add("ffn_norm.weight", {e}, Fill::ones);
    if (p.experts > 0) {
      add("ffn_gate_inp.weight", {e, p.experts});
      add("ffn_gate_exps.weight", {e, p.expert_ff, p.experts});
      add("ffn_up_exps.weight", {e, p.expert_ff, p.experts});
      add("ffn_down_exps.weight", {p.expert_ff, e, p.experts});
      if (arch == "gpt-oss") {
        add("ffn_gate_inp.bias", {p.experts}, Fill::zeros);
        add("ffn_gate_exps.bias", {p.expert_ff, p.experts}, Fill::zeros);
        add("ffn_up_exps.bias", {p.expert_ff, p.experts}, Fill::zeros);
        add("ffn_down_exps.bias", {e, p.experts}, Fill::zeros);
      }
    } else if (arch == "phi3") {
      add("ffn_up.weight", {e, 2 * f});  // gate and up fused
      add("ffn_down.weight", {f, e});
    } else if (arch == "phi2") {
      add("ffn_up.weight", {e, f});
      add("ffn_up.bias", {f}, Fill::zeros);
      add("ffn_down.weight", {f, e});
      add("ffn_down.bias", {e}, Fill::zeros);
    } else {
      add("ffn_gate.weight", {e, f});
      add("ffn_up.weight", {e, f});
      add("ffn_down.weight", {f, e});
    }
    if (arch == "gemma2" || arch == "gemma3") add("post_ffw_norm.weight", {e}, Fill::ones);
  }
  t.push_back({"output_norm.weight", {e}, Fill::ones});
  if (arch == "phi2") t.push_back({"output_norm.bias", {e}, Fill::zeros});
  if (!p.tied) t.push_back({"output.weight", {e, v}, Fill::noise});
  if (arch == "phi2") t.push_back({"output.bias", {v}, Fill::zeros});
  return t;
}

bool is_special(const ModelPreset& p, uint32_t id) {
  return id == p.bos || id == p.eos || (p.first_special > 0 && id >= p.first_special);
}

std::string special_text(const ModelPreset& p, uint32_t id) {
  if (id == p.bos) return p.tokenizer == "llama" ? "<s>" : "<|bos|>";
  if (id == p.eos) return p.tokenizer == "llama" ? "</s>" : "<|eos|>";
  return fmt::format("<|special_{}|>", id);
}

// A valid byte-level BPE vocabulary of the model's size: the 256 byte characters, then
// merges of (existing token + byte character), shortest first, then the special tokens at
// the real model's ids.
void add_gpt2_tokenizer(const ModelPreset& p, std::vector<GgufKeyValue>& kv) {
  constexpr int32_t kNormal = 1, kControl = 3;
  std::vector<std::string> normal;
  std::vector<GgufValue> merges;
  uint32_t n_normal = 0;
  for (uint32_t id = 0; id < p.vocab; ++id) n_normal += is_special(p, id) ? 0 : 1;
  for (int b = 0; b < 256 && normal.size() < n_normal; ++b) normal.push_back(byte_level_char(static_cast<uint8_t>(b)));
  for (size_t prefix = 0; normal.size() < n_normal; ++prefix) {
    for (int b = 0; b < 256 && normal.size() < n_normal; ++b) {
      const std::string& c = byte_level_char(static_cast<uint8_t>(b));
      merges.emplace_back(normal[prefix] + " " + c);
      normal.push_back(normal[prefix] + c);
    }
  }
  std::vector<GgufValue> tokens, types;
  size_t next = 0;
  for (uint32_t id = 0; id < p.vocab; ++id) {
    const bool special = is_special(p, id);
    tokens.emplace_back(special ? special_text(p, id) : normal[next++]);
    types.emplace_back(special ? kControl : kNormal);
  }
  kv.push_back({"tokenizer.ggml.model", GgufValue("gpt2")});
  kv.push_back({"tokenizer.ggml.pre", GgufValue(std::string(p.pre))});
  kv.push_back({"tokenizer.ggml.tokens", GgufValue::array(GgufValueType::STRING, std::move(tokens))});
  kv.push_back({"tokenizer.ggml.token_type", GgufValue::array(GgufValueType::INT32, std::move(types))});
  kv.push_back({"tokenizer.ggml.merges", GgufValue::array(GgufValueType::STRING, std::move(merges))});
}

// A valid SentencePiece-style vocabulary: <unk>, the special tokens, 256 byte-fallback
// tokens <0xNN>, the space marker "▁" and printable ASCII characters (so plain text
// tokenizes and decodes without falling back to bytes), then "▁"-prefixed pieces.
void add_spm_tokenizer(const ModelPreset& p, std::vector<GgufKeyValue>& kv) {
  constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6;
  std::vector<GgufValue> tokens, types, scores;
  int byte = 0;
  uint32_t piece = 0;
  for (uint32_t id = 0; id < p.vocab; ++id) {
    if (is_special(p, id)) {
      tokens.emplace_back(special_text(p, id));
      types.emplace_back(kControl);
    } else if (id == 0) {
      tokens.emplace_back("<unk>");
      types.emplace_back(kUnknown);
    } else if (byte < 256) {
      tokens.emplace_back(fmt::format("<0x{:02X}>", byte++));
      types.emplace_back(kByte);
    } else {
      // Piece 0 is "▁", pieces 1..94 the printable ASCII characters '!'..'~'.
      const uint32_t k = piece++;
      tokens.emplace_back(k == 0 ? std::string("\u2581") : k <= 94 ? std::string(1, static_cast<char>(' ' + k))
                                                                   : fmt::format("\u2581t{}", k));
      types.emplace_back(kNormal);
    }
    scores.emplace_back(-static_cast<float>(id));
  }
  kv.push_back({"tokenizer.ggml.model", GgufValue("llama")});
  kv.push_back({"tokenizer.ggml.pre", GgufValue(std::string(p.pre))});
  kv.push_back({"tokenizer.ggml.tokens", GgufValue::array(GgufValueType::STRING, std::move(tokens))});
  kv.push_back({"tokenizer.ggml.scores", GgufValue::array(GgufValueType::FLOAT32, std::move(scores))});
  kv.push_back({"tokenizer.ggml.token_type", GgufValue::array(GgufValueType::INT32, std::move(types))});
}

std::vector<GgufKeyValue> metadata(const ModelPreset& p) {
  const std::string a(p.architecture);
  std::vector<GgufKeyValue> kv = {
      {"general.architecture", GgufValue(a)},
      {"general.name", GgufValue(std::string(p.name) + " (synthetic weights)")},
      {a + ".vocab_size", GgufValue(p.vocab)},
      {a + ".context_length", GgufValue(p.context)},
      {a + ".embedding_length", GgufValue(p.embd)},
      {a + ".block_count", GgufValue(p.layers)},
      {a + ".feed_forward_length", GgufValue(p.ff)},
      {a + ".attention.head_count", GgufValue(p.heads)},
      {a + ".attention.head_count_kv", GgufValue(p.kv_heads)},
      {a + ".attention.key_length", GgufValue(p.head_dim)},
      {a + ".attention.value_length", GgufValue(p.head_dim)},
      {a + ".rope.dimension_count", GgufValue(p.rotary_dims > 0 ? p.rotary_dims : p.head_dim)},
      {a + ".rope.freq_base", GgufValue(static_cast<float>(p.rope_theta))},
      {a + (a == "phi2" ? ".attention.layer_norm_epsilon" : ".attention.layer_norm_rms_epsilon"),
       GgufValue(static_cast<float>(p.norm_eps))},
  };
  if (p.experts > 0) {
    kv.push_back({a + ".expert_count", GgufValue(p.experts)});
    kv.push_back({a + ".expert_used_count", GgufValue(p.experts_used)});
    if (a != "llama") kv.push_back({a + ".expert_feed_forward_length", GgufValue(p.expert_ff)});
  }
  if (p.sliding_window > 0) kv.push_back({a + ".attention.sliding_window", GgufValue(p.sliding_window)});
  if (p.yarn_factor > 0) {
    kv.push_back({a + ".rope.scaling.type", GgufValue("yarn")});
    kv.push_back({a + ".rope.scaling.factor", GgufValue(static_cast<float>(p.yarn_factor))});
    kv.push_back({a + ".rope.scaling.original_context_length", GgufValue(p.yarn_original_context)});
  }
  if (p.tokenizer == "gpt2") add_gpt2_tokenizer(p, kv);
  else add_spm_tokenizer(p, kv);
  kv.push_back({"tokenizer.ggml.bos_token_id", GgufValue(p.bos)});
  kv.push_back({"tokenizer.ggml.eos_token_id", GgufValue(p.eos)});
  kv.push_back({"tokenizer.ggml.add_bos_token", GgufValue(p.tokenizer == "llama" || p.pre == "llama-bpe")});
  return kv;
}

// Deterministic N(0, sigma²) values from a counter (splitmix64 + Box-Muller): any row can be
// produced on its own, in any thread, and the same seed gives the same model.
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class SyntheticSource final : public QuantSource {
 public:
  SyntheticSource(const ModelPreset& preset, uint64_t seed) : preset_(preset), seed_(seed), layout_(layout(preset)) {
    for (const auto& t : layout_) inputs_.push_back({t.name, t.shape, GgmlType::F32});
  }
  std::string description() const override { return fmt::format("synthetic {}", preset_.id); }
  ModelShape shape() const override {
    return {std::string(preset_.architecture), preset_.layers, preset_.heads, preset_.kv_heads, preset_.experts, preset_.tied};
  }
  const std::vector<PlanInput>& tensors() const override { return inputs_; }
  std::vector<GgufKeyValue> metadata() const override { return lp::metadata(preset_); }
  uint32_t alignment() const override { return 32; }

  void read_rows(size_t index, int64_t begin, int64_t end, float* out) const override {
    const auto& t = layout_[index];
    const auto n = static_cast<int64_t>(t.shape[0]);
    if (t.fill != Fill::noise) {
      std::fill(out, out + (end - begin) * n, t.fill == Fill::ones ? 1.0f : 0.0f);
      return;
    }
    constexpr double kSigma = 0.02, kTwoPi = 6.283185307179586;
    const uint64_t stream = splitmix64(seed_ ^ (static_cast<uint64_t>(index) << 40));
    // Element g takes the cosine (even g) or sine (odd g) of Box-Muller pair g/2, so a row's
    // values do not depend on which rows were asked for together.
    for (int64_t i = 0; i < (end - begin) * n; ++i) {
      const auto g = static_cast<uint64_t>(begin * n + i);
      const uint64_t r = splitmix64(stream + (g >> 1));
      const double u1 = (static_cast<double>(r >> 40) + 1.0) / 16777217.0;
      const double u2 = static_cast<double>(r & 0xffffff) / 16777216.0;
      const double radius = kSigma * std::sqrt(-2.0 * std::log(u1));
      out[i] = static_cast<float>(radius * ((g & 1) == 0 ? std::cos(kTwoPi * u2) : std::sin(kTwoPi * u2)));
    }
  }

  std::span<const uint8_t> raw(size_t index) const override {
    const auto& t = inputs_[index];
    int64_t rows = 1;
    for (size_t d = 1; d < t.shape.size(); ++d) rows *= static_cast<int64_t>(t.shape[d]);
    raw_.resize(static_cast<size_t>(rows) * t.shape[0] * sizeof(float));
    read_rows(index, 0, rows, reinterpret_cast<float*>(raw_.data()));
    return raw_;
  }

 private:
  const ModelPreset& preset_;
  uint64_t seed_;
  std::vector<SynthTensor> layout_;
  std::vector<PlanInput> inputs_;
  mutable std::vector<uint8_t> raw_;
};

}  // namespace

std::unique_ptr<QuantSource> make_synthetic_source(const ModelPreset& preset, uint64_t seed) {
  return std::make_unique<SyntheticSource>(preset, seed);
}

}  // namespace lp
