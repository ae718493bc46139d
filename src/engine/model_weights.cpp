#include "engine/model_weights.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>
#include <unordered_map>

#include "convert/hf_source.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf_reader.h"
#include "formats/mlx_quant_config.h"
#include "model/hf_checkpoint.h"

namespace lp {

// Finds tensors by GGUF name, checks their shapes against the hyperparameters and fills
// ModelWeights. Vectors (norms, biases, rope factors) become float32 copies: they are
// small and the forward pass reads them as floats.
class WeightBinder {
 public:
  // One tensor as the binder sees it, whichever file it came from.
  struct TensorRef {
    GgmlType type;
    std::vector<uint64_t> shape;  // GGML order
    std::span<const uint8_t> bytes;
    bool file_mapped = false;  // bytes of a file mapping (not a copy we made)
  };

  WeightBinder(LoadedModel& model, std::unordered_map<std::string, TensorRef> tensors)
      : m_(model), h_(model.hparams_), tensors_(std::move(tensors)) {}

  void bind(uint64_t ctx_size_hint) {
    const ArchitectureInfo& arch = *h_.info;
    const int64_t n_embd = dim(h_.embedding_length), n_vocab = dim(h_.vocab_size);
    const int64_t n_q = dim(h_.head_count * h_.key_length), n_k = dim(h_.head_count_kv * h_.key_length);
    const int64_t n_v = dim(h_.head_count_kv * h_.value_length);
    auto n_ff = [&] { return dim(h_.feed_forward_length); };  // a MoE model's dense width may be absent
    ModelWeights& w = m_.weights_;
    w.token_embd = matrix("token_embd.weight", n_embd, n_vocab);
    w.output_norm = vector("output_norm.weight", n_embd);
    w.output = tensors_.contains("output.weight") ? matrix("output.weight", n_embd, n_vocab) : w.token_embd;
    bind_rope_factors(ctx_size_hint);
    for (uint64_t il = 0; il < h_.block_count; ++il) {
      const std::string p = "blk." + std::to_string(il) + ".";
      LayerWeights L;
      L.attn_norm = vector(p + "attn_norm.weight", n_embd);
      if (arch.fused_qkv) {
        L.attn_qkv = matrix(p + "attn_qkv.weight", n_embd, n_q + n_k + n_v);
      } else {
        L.attn_q = matrix(p + "attn_q.weight", n_embd, n_q);
        L.attn_k = matrix(p + "attn_k.weight", n_embd, n_k);
        L.attn_v = matrix(p + "attn_v.weight", n_embd, n_v);
      }
      if (arch.qkv_bias) {
        L.attn_q_bias = vector(p + "attn_q.bias", n_q);
        L.attn_k_bias = vector(p + "attn_k.bias", n_k);
        L.attn_v_bias = vector(p + "attn_v.bias", n_v);
      }
      if (arch.qk_norm) {
        L.attn_q_norm = vector(p + "attn_q_norm.weight", dim(h_.key_length));
        L.attn_k_norm = vector(p + "attn_k_norm.weight", dim(h_.key_length));
      }
      L.attn_output = matrix(p + "attn_output.weight", dim(h_.head_count * h_.value_length), n_embd);
      if (arch.attn_output_bias) L.attn_output_bias = vector(p + "attn_output.bias", n_embd);
      if (arch.attn_sinks) L.attn_sinks = vector(p + "attn_sinks.weight", dim(h_.head_count));
      L.ffn_norm = vector(p + std::string(arch.ffn_norm) + ".weight", n_embd);
      if (arch.moe) {
        bind_experts(p, L);
      } else if (arch.fused_qkv) {
        L.ffn_up = matrix(p + "ffn_up.weight", n_embd, 2 * n_ff());
      } else {
        L.ffn_gate = matrix(p + "ffn_gate.weight", n_embd, n_ff());
        L.ffn_up = matrix(p + "ffn_up.weight", n_embd, n_ff());
      }
      if (!arch.moe) L.ffn_down = matrix(p + "ffn_down.weight", n_ff(), n_embd);
      if (arch.post_norms) {
        L.post_attention_norm = vector(p + "post_attention_norm.weight", n_embd);
        L.post_ffw_norm = vector(p + "post_ffw_norm.weight", n_embd);
      }
      // Gemma 3: every sliding_window_pattern-th layer is global, the others see a window.
      L.sliding_window = h_.sliding_window > 0 && h_.sliding_window_pattern > 0 &&
                         (il + 1) % h_.sliding_window_pattern != 0;
      w.layers.push_back(L);
    }
    // Reading one tensor maps the file's cached pages around it (the kernel's fault-around),
    // some of them in tensors already replaced and released: release those again.
    for (const auto& bytes : replaced_) release_mapped_pages(bytes);
  }

 private:
  static int64_t dim(uint64_t v) {
    if (v == 0 || v > (uint64_t{1} << 32)) fail("model dimension {} is out of range", v);
    return static_cast<int64_t>(v);
  }

  const TensorRef& find(const std::string& name) {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) fail("{}: tensor '{}' is missing", m_.path_.string(), name);
    return it->second;
  }

  WeightMatrix matrix(const std::string& name, int64_t cols, int64_t rows) {
    return std::move(stacked(name, cols, rows, 0).front());
  }

  // A tensor of `count` matrices of `rows` rows of `cols` values ([cols, rows, count] in GGML
  // order; count 0: a plain 2-D [cols, rows]), one WeightMatrix per slice.
  std::vector<WeightMatrix> stacked(const std::string& name, int64_t cols, int64_t rows, int64_t count) {
    const TensorRef& t = find(name);
    const bool shape_ok = count == 0 ? t.shape.size() == 2 : t.shape.size() == 3 && t.shape[2] == static_cast<uint64_t>(count);
    if (!shape_ok || t.shape[0] != static_cast<uint64_t>(cols) || t.shape[1] != static_cast<uint64_t>(rows)) {
      if (count == 0) fail("{}: tensor '{}' has shape {}, expected [{}, {}]", m_.path_.string(), name, shape_text(t.shape), cols, rows);
      fail("{}: tensor '{}' has shape {}, expected [{}, {}, {}]", m_.path_.string(), name, shape_text(t.shape), cols, rows, count);
    }
    const auto& traits = ggml_type_traits(t.type);
    if (!traits.dequantize) fail("{}: tensor '{}' is {}, a type the engine cannot compute with", m_.path_.string(), name, traits.name);
    const uint64_t slices = static_cast<uint64_t>(std::max<int64_t>(count, 1));
    const auto row_bytes = ggml_row_bytes(t.type, static_cast<uint64_t>(cols));
    if (!row_bytes || *row_bytes * static_cast<uint64_t>(rows) * slices != t.bytes.size()) {
      fail("{}: tensor '{}' has {} bytes, which do not fit its shape and type", m_.path_.string(), name, t.bytes.size());
    }
    m_.weight_bytes_ += t.bytes.size();
    m_.parameters_ += static_cast<uint64_t>(cols) * static_cast<uint64_t>(rows) * slices;
    type_bytes_[t.type] += t.bytes.size();
    const uint64_t slice_bytes = *row_bytes * static_cast<uint64_t>(rows);
    std::vector<WeightMatrix> result;
    for (uint64_t s = 0; s < slices; ++s) result.push_back({t.type, cols, rows, *row_bytes, t.bytes.data() + s * slice_bytes});
    // Types whose products run faster on interleaved rows get a regrouped copy in place of
    // the file's bytes, whose pages are then released (memory holds one of the two). The copy
    // is on huge pages: decode streams it every token.
    const uint64_t interleaved = interleaved_bytes(result.front());
    if (interleaved == 0) return result;
    auto& copy = m_.interleaved_.emplace_back(interleaved * slices);
    for (uint64_t s = 0; s < slices; ++s) result[s] = interleave_rows(result[s], copy.data() + s * interleaved);
    if (t.file_mapped) {
      release_mapped_pages(t.bytes);
      replaced_.push_back(t.bytes);
    }
    return result;
  }

  // A mixture-of-experts layer: the router (kept as the file has it; llama.cpp leaves it in
  // float) and the stacked experts. Tokens use expert_used_count of expert_count experts, so
  // the others' parameters are counted as inactive.
  void bind_experts(const std::string& p, LayerWeights& L) {
    const int64_t n_embd = dim(h_.embedding_length), n_expert = dim(h_.expert_count);
    const int64_t n_ff_exp = dim(h_.expert_feed_forward_length);
    L.ffn_gate_inp = matrix(p + "ffn_gate_inp.weight", n_embd, n_expert);
    if (h_.info->moe_biases) L.ffn_gate_inp_bias = vector(p + "ffn_gate_inp.bias", n_expert);
    const uint64_t before_bytes = m_.weight_bytes_, before_params = m_.parameters_;
    L.ffn_gate_exps = stacked(p + "ffn_gate_exps.weight", n_embd, n_ff_exp, n_expert);
    L.ffn_up_exps = stacked(p + "ffn_up_exps.weight", n_embd, n_ff_exp, n_expert);
    L.ffn_down_exps = stacked(p + "ffn_down_exps.weight", n_ff_exp, n_embd, n_expert);
    if (h_.info->moe_biases) {
      L.ffn_gate_exps_bias = vector(p + "ffn_gate_exps.bias", n_ff_exp * n_expert);
      L.ffn_up_exps_bias = vector(p + "ffn_up_exps.bias", n_ff_exp * n_expert);
      L.ffn_down_exps_bias = vector(p + "ffn_down_exps.bias", n_embd * n_expert);
    }
    const double unused = unused_expert_share(h_);
    m_.inactive_expert_bytes_ += static_cast<uint64_t>(static_cast<double>(m_.weight_bytes_ - before_bytes) * unused);
    m_.inactive_expert_parameters_ += static_cast<uint64_t>(static_cast<double>(m_.parameters_ - before_params) * unused);
  }

  // A norm, bias or factor vector as a float32 copy (small, and read as floats every token).
  const float* vector(const std::string& name, int64_t n) {
    const TensorRef& t = find(name);
    uint64_t elements = 1;
    for (uint64_t d : t.shape) elements *= d;
    if (elements != static_cast<uint64_t>(n)) fail("{}: tensor '{}' has {} values, expected {}", m_.path_.string(), name, elements, n);
    const auto& traits = ggml_type_traits(t.type);
    const auto bytes = ggml_row_bytes(t.type, elements);
    if (!traits.dequantize || !bytes || *bytes != t.bytes.size()) {
      fail("{}: tensor '{}' ({}) cannot be read as {} values", m_.path_.string(), name, traits.name, elements);
    }
    auto& owned = m_.owned_.emplace_back(elements * sizeof(float));
    traits.dequantize(t.bytes.data(), reinterpret_cast<float*>(owned.data()), static_cast<int64_t>(elements));
    m_.weight_bytes_ += t.bytes.size();
    m_.parameters_ += elements;
    return reinterpret_cast<const float*>(owned.data());
  }

  // Llama 3.1 writes rope_freqs; Phi-3 long-context models write a short and a long set,
  // the long one used when the context exceeds the original training length.
  void bind_rope_factors(uint64_t ctx_size_hint) {
    const int64_t pairs = dim(h_.key_length / 2);
    std::string name;
    if (tensors_.contains("rope_freqs.weight")) name = "rope_freqs.weight";
    if (tensors_.contains("rope_factors_short.weight")) {
      const bool long_ctx = h_.rope_scaling.original_context_length > 0 && ctx_size_hint > h_.rope_scaling.original_context_length;
      name = long_ctx ? "rope_factors_long.weight" : "rope_factors_short.weight";
    }
    if (name.empty()) return;
    const float* f = vector(name, pairs);
    m_.weights_.rope_factors.assign(f, f + pairs);
  }

  static std::string shape_text(const std::vector<uint64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }

 public:
  std::map<GgmlType, uint64_t> type_bytes_;

 private:
  LoadedModel& m_;
  const ModelHParams& h_;
  std::unordered_map<std::string, TensorRef> tensors_;
  std::vector<std::span<const uint8_t>> replaced_;  // mapped tensors replaced by interleaved copies
};

namespace {

std::string dominant_type(const std::map<GgmlType, uint64_t>& bytes) {
  GgmlType best = GgmlType::F32;
  uint64_t most = 0;
  for (const auto& [type, n] : bytes) {
    if (n > most) best = type, most = n;
  }
  return std::string(ggml_type_traits(best).name);
}

void check_supported(const ModelHParams& h, const std::filesystem::path& path) {
  static constexpr std::string_view kRunnable[] = {"llama", "qwen2", "qwen3", "qwen3moe", "gemma3", "phi3", "gpt-oss"};
  bool ok = false;
  for (auto a : kRunnable) ok = ok || h.architecture == a;
  if (!ok || h.info == nullptr) {
    fail("{}: the engine does not run the '{}' architecture yet (it runs llama, qwen2, qwen3, qwen3moe, gemma3, phi3 and gpt-oss)",
         path.string(), h.architecture);
  }
  if (h.info->moe && (h.expert_count == 0 || h.expert_used_count == 0 || h.expert_used_count > h.expert_count ||
                      h.expert_count > 4096)) {
    fail("{}: {} of {} experts per token is not a mixture of experts the engine can run", path.string(), h.expert_used_count,
         h.expert_count);
  }
  if (h.head_count == 0 || h.head_count_kv == 0 || h.head_count % h.head_count_kv != 0) {
    fail("{}: {} attention heads cannot share {} key/value heads", path.string(), h.head_count, h.head_count_kv);
  }
  if (h.key_length % 2 != 0 || h.key_length == 0) fail("{}: head dimension {} is not even", path.string(), h.key_length);
  if (h.vocab_size == 0) fail("{}: the vocabulary size is unknown", path.string());
}

}  // namespace

LoadedModel::~LoadedModel() = default;

std::string LoadedModel::quant_type_name() const { return quant_type_; }

std::unique_ptr<LoadedModel> LoadedModel::open(const std::filesystem::path& path, uint64_t ctx_size_hint) {
  std::unique_ptr<LoadedModel> m(new LoadedModel);
  m->path_ = path;
  std::unordered_map<std::string, WeightBinder::TensorRef> tensors;
  std::string mlx_label;
  if (std::filesystem::is_directory(path)) {
    // The converter's view gives GGUF names and conventions. Tensors the files hold as they
    // are (most matrices) are used in place over the mapping; transformed ones (permuted
    // Q/K, Gemma's norms +1, stacked experts) are produced once in their source type.
    const HfCheckpoint checkpoint = HfCheckpoint::open(path);
    m->hparams_ = checkpoint.hparams();
    check_supported(m->hparams_, path);
    // An MLX checkpoint is named by its own quantization, not by the blocks the engine repacks it into.
    if (const auto mlx = parse_mlx_quant_config(checkpoint.config(), (path / "config.json").string())) {
      mlx_label = mlx->label();
    }
    auto source = open_hf_source(path);
    for (size_t i = 0; i < source->tensors().size(); ++i) {
      const PlanInput& t = source->tensors()[i];
      if (const auto mapped = source->in_place(i)) {
        tensors.emplace(t.name, WeightBinder::TensorRef{t.source_type, t.shape, *mapped, true});
        continue;
      }
      const auto raw = source->raw(i);
      auto& owned = m->owned_.emplace_back(raw.begin(), raw.end());
      tensors.emplace(t.name, WeightBinder::TensorRef{t.source_type, t.shape, owned});
    }
    m->hf_source_ = std::move(source);  // keeps the safetensors mappings alive
  } else {
    m->gguf_ = std::make_unique<GgufModel>(GgufModel::open(path));
    m->hparams_ = hparams_from_gguf(*m->gguf_);
    check_supported(m->hparams_, path);
    for (const auto& t : m->gguf_->tensors()) tensors.emplace(t.name, WeightBinder::TensorRef{t.type, t.shape, t.data, true});
  }
  WeightBinder binder(*m, std::move(tensors));
  binder.bind(ctx_size_hint);
  m->quant_type_ = mlx_label.empty() ? dominant_type(binder.type_bytes_) : mlx_label;
  return m;
}

}  // namespace lp
