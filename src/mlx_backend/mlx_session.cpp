// The forward pass of mlx_lm/models/llama.py, qwen2.py and qwen3.py in MLX's C++ API.
#include <mlx/mlx.h>

#include <cmath>
#include <cstring>
#include <map>
#include <optional>

#include "convert/hf_source.h"
#include "core/error.h"
#include "formats/mlx_quant_config.h"
#include "mlx_backend/mlx_backend.h"
#include "model/hf_checkpoint.h"

namespace lp {
namespace {

namespace mx = mlx::core;

// A Linear or Embedding module: float weight, or MLX affine levels with scales and biases.
struct Module {
  std::optional<mx::array> weight, scales, biases, bias;
  MlxAffineSpec spec;
  bool quantized() const { return scales.has_value(); }

  mx::array linear(const mx::array& x) const {
    mx::array y = quantized() ? mx::quantized_matmul(x, *weight, *scales, biases, true, spec.group_size, spec.bits)
                              : mx::matmul(x, mx::transpose(*weight));
    return bias ? mx::add(y, *bias) : y;
  }
  // Rows `ids` of an embedding table.
  mx::array rows(const mx::array& ids) const {
    if (!quantized()) return mx::take(*weight, ids, 0);
    return mx::dequantize(mx::take(*weight, ids, 0), mx::take(*scales, ids, 0), mx::take(*biases, ids, 0),
                          spec.group_size, spec.bits);
  }
};

struct Layer {
  mx::array input_norm, post_attention_norm;
  std::optional<mx::array> q_norm, k_norm;
  Module q, k, v, o, gate, up, down;
};

class MlxSession final : public SequenceEvaluator {
 public:
  MlxSession(const std::filesystem::path& dir, int64_t ctx_size) : ctx_size_(ctx_size) {
    const HfCheckpoint checkpoint = HfCheckpoint::open(dir);
    h_ = checkpoint.hparams();
    if (h_.architecture != "llama" && h_.architecture != "qwen2" && h_.architecture != "qwen3") {
      fail("--backend mlx runs llama, qwen2 and qwen3 models; {} is {}", dir.string(), h_.architecture);
    }
    quant_ = parse_mlx_quant_config(checkpoint.config(), (dir / "config.json").string());
    for (const auto& file : checkpoint.weights().files()) {
      auto [arrays, metadata] = mx::load_safetensors(file.string());
      for (auto& [name, a] : arrays) weights_.insert_or_assign(name, a);
    }
    embed_ = module("model.embed_tokens");
    for (uint64_t i = 0; i < h_.block_count; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      Layer l{tensor(p + "input_layernorm.weight"), tensor(p + "post_attention_layernorm.weight"), optional(p + "self_attn.q_norm.weight"),
              optional(p + "self_attn.k_norm.weight"), module(p + "self_attn.q_proj"), module(p + "self_attn.k_proj"),
              module(p + "self_attn.v_proj"), module(p + "self_attn.o_proj"), module(p + "mlp.gate_proj"),
              module(p + "mlp.up_proj"), module(p + "mlp.down_proj")};
      layers_.push_back(std::move(l));
    }
    norm_ = tensor("model.norm.weight");
    if (weights_.count("lm_head.weight")) head_ = module("lm_head");
    head_dim_ = static_cast<int>(h_.key_length);
    if (h_.rope_scaling.type == "llama3") {
      // mlx-lm's Llama3RoPE: each dimension pair's period base^(2i/d), stretched by llama.cpp's factors.
      const std::vector<float> factors = llama3_rope_factors(h_);
      std::vector<float> periods(factors.size());
      for (size_t i = 0; i < factors.size(); ++i) {
        periods[i] = static_cast<float>(std::pow(h_.rope_freq_base, 2.0 * static_cast<double>(i) / head_dim_)) * factors[i];
      }
      rope_periods_ = mx::array(periods.data(), {static_cast<int>(periods.size())});
    } else if (h_.rope_scaling.type == "linear") {
      rope_scale_ = static_cast<float>(1.0 / h_.rope_scaling.factor);
    } else if (h_.rope_scaling.type != "none") {
      fail("--backend mlx: RoPE scaling '{}' is not supported", h_.rope_scaling.type);
    }
    keys_.resize(layers_.size());
    values_.resize(layers_.size());
  }

  int64_t n_past() const override { return n_past_; }
  int64_t ctx_size() const override { return ctx_size_; }
  int64_t vocab_size() const override { return static_cast<int64_t>(h_.vocab_size); }
  uint64_t kv_cache_bytes() const override {
    uint64_t total = 0;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i]) total += keys_[i]->nbytes() + values_[i]->nbytes();
    }
    return total;
  }

  void rewind(int64_t n) override {
    if (n >= n_past_) return;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (!keys_[i]) continue;
      if (n == 0) {
        keys_[i].reset();
        values_[i].reset();
        continue;
      }
      auto cut = [n](const mx::array& a) {
        return mx::slice(a, {0, 0, 0, 0}, {a.shape(0), a.shape(1), static_cast<int>(n), a.shape(3)});
      };
      keys_[i] = cut(*keys_[i]);
      values_[i] = cut(*values_[i]);
    }
    n_past_ = n;
  }

  void eval(std::span<const int32_t> tokens, std::span<float> logits, bool all_logits) override {
    const auto n = static_cast<int64_t>(tokens.size());
    if (n == 0) return;
    if (n_past_ + n > ctx_size_) fail("the context is full ({} of {} positions)", n_past_ + n, ctx_size_);
    for (const int32_t t : tokens) {
      if (t < 0 || t >= vocab_size()) fail("token id {} is outside the vocabulary of {}", t, vocab_size());
    }
    mx::array out = forward(tokens);
    if (!all_logits) out = mx::slice(out, {static_cast<int>(n) - 1, 0}, {static_cast<int>(n), out.shape(1)});
    out = mx::astype(out, mx::float32);
    mx::eval(out);
    std::memcpy(logits.data(), out.data<float>(), std::min<size_t>(logits.size(), out.size()) * sizeof(float));
    n_past_ += n;
  }

 private:
  mx::array tensor(const std::string& name) const {
    const auto it = weights_.find(name);
    if (it == weights_.end()) fail("--backend mlx: the checkpoint has no tensor '{}'", name);
    return it->second;
  }
  std::optional<mx::array> optional(const std::string& name) const {
    const auto it = weights_.find(name);
    return it == weights_.end() ? std::nullopt : std::optional(it->second);
  }
  Module module(const std::string& path) const {
    Module m;
    m.weight = tensor(path + ".weight");
    m.bias = optional(path + ".bias");
    if (const auto scales = optional(path + ".scales")) {
      if (!quant_) fail("--backend mlx: '{}' is quantized but config.json has no \"quantization\" entry", path);
      m.scales = scales;
      m.biases = tensor(path + ".biases");
      m.spec = quant_->spec_for(path);
    }
    return m;
  }

  mx::array rope(const mx::array& x) const {
    if (rope_periods_) return mx::fast::rope(x, head_dim_, false, std::nullopt, 1.0f, static_cast<int>(n_past_), rope_periods_);
    return mx::fast::rope(x, head_dim_, false, static_cast<float>(h_.rope_freq_base), rope_scale_, static_cast<int>(n_past_));
  }

  // [1, n, heads * head_dim] -> [1, n, heads, head_dim]
  mx::array split_heads(const mx::array& x, int n, int heads) const {
    return mx::reshape(x, {1, n, heads, head_dim_});
  }

  mx::array forward(std::span<const int32_t> tokens) {
    const int n = static_cast<int>(tokens.size());
    const float eps = static_cast<float>(h_.norm_eps);
    const int heads = static_cast<int>(h_.head_count), kv_heads = static_cast<int>(h_.head_count_kv);
    const mx::array ids(tokens.data(), {n}, mx::int32);
    mx::array x = mx::expand_dims(embed_.rows(ids), 0);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const Layer& l = layers_[i];
      const mx::array r = mx::fast::rms_norm(x, l.input_norm, eps);
      mx::array q = split_heads(l.q.linear(r), n, heads);
      mx::array k = split_heads(l.k.linear(r), n, kv_heads);
      mx::array v = split_heads(l.v.linear(r), n, kv_heads);
      if (l.q_norm) q = mx::fast::rms_norm(q, *l.q_norm, eps);
      if (l.k_norm) k = mx::fast::rms_norm(k, *l.k_norm, eps);
      q = rope(mx::transpose(q, {0, 2, 1, 3}));
      k = rope(mx::transpose(k, {0, 2, 1, 3}));
      v = mx::transpose(v, {0, 2, 1, 3});
      keys_[i] = keys_[i] ? mx::concatenate({*keys_[i], k}, 2) : k;
      values_[i] = values_[i] ? mx::concatenate({*values_[i], v}, 2) : v;
      mx::array o = mx::fast::scaled_dot_product_attention(q, *keys_[i], *values_[i],
                                                           1.0f / std::sqrt(static_cast<float>(head_dim_)),
                                                           n > 1 ? "causal" : "");
      o = mx::reshape(mx::transpose(o, {0, 2, 1, 3}), {1, n, heads * head_dim_});
      x = mx::add(x, l.o.linear(o));
      const mx::array r2 = mx::fast::rms_norm(x, l.post_attention_norm, eps);
      const mx::array g = l.gate.linear(r2);
      x = mx::add(x, l.down.linear(mx::multiply(mx::multiply(g, mx::sigmoid(g)), l.up.linear(r2))));
    }
    x = mx::fast::rms_norm(x, norm_, eps);
    const mx::array out = head_ ? head_->linear(x) : embed_.linear(x);  // a tied head reuses the embedding
    return mx::reshape(out, {n, out.shape(2)});
  }

  ModelHParams h_;
  int64_t ctx_size_;
  int64_t n_past_ = 0;
  int head_dim_ = 0;
  float rope_scale_ = 1.0f;
  std::optional<mx::array> rope_periods_;
  std::optional<MlxQuantConfig> quant_;
  std::map<std::string, mx::array> weights_;
  Module embed_;
  std::optional<Module> head_;
  mx::array norm_ = mx::array(0.0f);
  std::vector<Layer> layers_;
  std::vector<std::optional<mx::array>> keys_, values_;
};

}  // namespace

std::unique_ptr<SequenceEvaluator> open_mlx_session(const std::filesystem::path& dir, int64_t ctx_size) {
  try {
    return std::make_unique<MlxSession>(dir, ctx_size);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    fail("--backend mlx: MLX could not load {}: {}", dir.string(), e.what());
  }
}

}  // namespace lp
