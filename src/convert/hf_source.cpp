#include "convert/hf_source.h"

#include <cmath>
#include <cstring>

#include "convert/hf_tensor_names.h"
#include "convert/hf_vocab.h"
#include "core/error.h"
#include "model/hf_checkpoint.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace lp {
namespace {

struct SourceTensor {
  const SafetensorsTensor* st = nullptr;  // nullptr: computed (rope_freqs)
  std::vector<float> computed;
  TensorTransform transform = TensorTransform::none;
  uint64_t heads = 1;  // heads whose rows a permutation regroups
};

class HfSource final : public QuantSource {
 public:
  explicit HfSource(const std::filesystem::path& dir) : checkpoint_(HfCheckpoint::open(dir)), dir_(dir) {
    const ModelHParams& h = checkpoint_.hparams();
    if (h.architecture != "llama" && h.architecture != "qwen2" && h.architecture != "qwen3") {
      fail("{}: converting {} checkpoints is not supported yet (llama, qwen2 and qwen3 are); convert with llama.cpp's "
           "convert_hf_to_gguf.py and quantize the GGUF",
           dir.string(), h.architecture);
    }
    shape_ = {h.architecture, h.block_count, h.head_count, h.head_count_kv, h.expert_count, h.tied_embeddings};
    if (h.rope_scaling.type == "llama3") {
      add({"rope_freqs.weight", {h.key_length / 2}, GgmlType::F32}, {nullptr, llama3_rope_factors(h)});
    }
    for (const auto& t : checkpoint_.weights().tensors()) {
      const auto mapped = map_hf_tensor_name(h.architecture, t.name, h.tied_embeddings);
      if (!mapped) continue;
      if (!t.dtype->is_float_convertible) {
        fail("{}: tensor '{}' is {}, not F32, F16 or BF16", dir.string(), t.name, t.dtype->name);
      }
      std::vector<uint64_t> shape(t.shape.rbegin(), t.shape.rend());  // row-major -> GGML order
      if (shape.empty()) shape = {1};
      const bool matrix = shape.size() >= 2 && mapped->gguf_name.ends_with(".weight");
      const GgmlType type = !matrix ? GgmlType::F32
                            : t.dtype->name == "F16" ? GgmlType::F16
                            : t.dtype->name == "BF16" ? GgmlType::BF16 : GgmlType::F32;
      SourceTensor s{&t, {}, mapped->transform,
                     mapped->transform == TensorTransform::permute_k ? h.head_count_kv : h.head_count};
      if (s.transform != TensorTransform::none) {
        const uint64_t rows = shape.size() >= 2 ? shape[1] : shape[0];
        if (rows % (2 * s.heads) != 0) fail("{}: tensor '{}' cannot be split into {} heads", dir.string(), t.name, s.heads);
      }
      add({mapped->gguf_name, shape, type}, std::move(s));
    }
  }

  std::string description() const override { return dir_.string(); }
  ModelShape shape() const override { return shape_; }
  const std::vector<PlanInput>& tensors() const override { return inputs_; }
  uint32_t alignment() const override { return 32; }
  std::vector<GgufKeyValue> metadata() const override;

  void read_rows(size_t index, int64_t begin, int64_t end, float* out) const override {
    const SourceTensor& s = sources_[index];
    const auto n = static_cast<int64_t>(inputs_[index].shape[0]);
    if (s.st == nullptr) {
      std::memcpy(out, s.computed.data() + begin * n, static_cast<size_t>((end - begin) * n) * sizeof(float));
      return;
    }
    const bool vector = inputs_[index].shape.size() == 1;
    const int64_t rows = vector ? n : static_cast<int64_t>(s.st->n_elements) / n;
    const uint64_t value_bytes = s.st->dtype->bytes;
    const DequantizeRowFn convert = s.st->dtype->name == "F32"   ? dequantize_row_f32
                                    : s.st->dtype->name == "F16" ? dequantize_row_f16
                                                                 : dequantize_row_bf16;
    if (vector && s.transform != TensorTransform::none) {  // a bias: permute its elements
      std::vector<float> values(static_cast<size_t>(n));
      convert(s.st->data.data(), values.data(), n);
      for (int64_t e = 0; e < n; ++e) out[e] = values[static_cast<size_t>(source_index(e, rows, s.heads))];
      return;
    }
    for (int64_t r = begin; r < end; ++r) {
      const int64_t from = s.transform == TensorTransform::none ? r : source_index(r, rows, s.heads);
      convert(s.st->data.data() + from * n * value_bytes, out + (r - begin) * n, n);
    }
  }

  std::span<const uint8_t> raw(size_t index) const override {
    const PlanInput& t = inputs_[index];
    int64_t rows = 1;
    for (size_t d = 1; d < t.shape.size(); ++d) rows *= static_cast<int64_t>(t.shape[d]);
    std::vector<float> values(static_cast<size_t>(rows) * t.shape[0]);
    read_rows(index, 0, rows, values.data());
    raw_.resize(source_bytes(index));
    ggml_type_traits(t.source_type).quantize(values.data(), raw_.data(), static_cast<int64_t>(values.size()), nullptr);
    return raw_;
  }

 private:
  void add(PlanInput input, SourceTensor source) {
    inputs_.push_back(std::move(input));
    sources_.push_back(std::move(source));
  }

  // GGUF row r of a permuted Q/K holds Hugging Face row: within each head of d rows, GGUF
  // interleaves the two halves Hugging Face keeps apart (convert_hf_to_gguf.py's permute).
  static int64_t source_index(int64_t r, int64_t rows, uint64_t heads) {
    const int64_t d = rows / static_cast<int64_t>(heads);
    const int64_t head = r / d, j = r % d;
    return head * d + (j % 2) * (d / 2) + j / 2;
  }

  HfCheckpoint checkpoint_;
  std::filesystem::path dir_;
  ModelShape shape_;
  std::vector<PlanInput> inputs_;
  std::vector<SourceTensor> sources_;
  mutable std::vector<uint8_t> raw_;
};

std::vector<GgufKeyValue> HfSource::metadata() const {
  const ModelHParams& h = checkpoint_.hparams();
  const std::string a = h.architecture;
  auto u32 = [](uint64_t v) { return GgufValue(static_cast<uint32_t>(v)); };
  std::vector<GgufKeyValue> kv = {
      {"general.architecture", GgufValue(a)},
      {"general.type", GgufValue("model")},
      {"general.name", GgufValue(std::filesystem::absolute(dir_).lexically_normal().filename().string())},
      {a + ".vocab_size", u32(h.vocab_size)},
      {a + ".context_length", u32(h.context_length)},
      {a + ".embedding_length", u32(h.embedding_length)},
      {a + ".block_count", u32(h.block_count)},
      {a + ".feed_forward_length", u32(h.feed_forward_length)},
      {a + ".attention.head_count", u32(h.head_count)},
      {a + ".attention.head_count_kv", u32(h.head_count_kv)},
      {a + ".attention.key_length", u32(h.key_length)},
      {a + ".attention.value_length", u32(h.value_length)},
      {a + ".rope.dimension_count", u32(h.key_length)},
      {a + ".rope.freq_base", GgufValue(static_cast<float>(h.rope_freq_base))},
      {a + ".attention.layer_norm_rms_epsilon", GgufValue(static_cast<float>(h.norm_eps))},
  };
  if (h.rope_scaling.type == "linear" || h.rope_scaling.type == "yarn") {
    kv.push_back({a + ".rope.scaling.type", GgufValue(h.rope_scaling.type)});
    kv.push_back({a + ".rope.scaling.factor", GgufValue(static_cast<float>(h.rope_scaling.factor))});
    if (h.rope_scaling.original_context_length > 0) {
      kv.push_back({a + ".rope.scaling.original_context_length", u32(h.rope_scaling.original_context_length)});
    }
  }
  for (auto& t : hf_vocab_to_gguf(dir_, h.vocab_size)) kv.push_back(std::move(t));
  // config.json's ids stand in where tokenizer_config.json named none.
  auto has = [&kv](std::string_view key) {
    return std::ranges::any_of(kv, [key](const GgufKeyValue& e) { return e.key == key; });
  };
  if (!has("tokenizer.ggml.bos_token_id") && !h.bos_token_ids.empty()) {
    kv.push_back({"tokenizer.ggml.bos_token_id", u32(static_cast<uint64_t>(h.bos_token_ids[0]))});
  }
  if (!has("tokenizer.ggml.eos_token_id") && !h.eos_token_ids.empty()) {
    kv.push_back({"tokenizer.ggml.eos_token_id", u32(static_cast<uint64_t>(h.eos_token_ids[0]))});
  }
  return kv;
}

}  // namespace

std::vector<float> llama3_rope_factors(const ModelHParams& h) {
  const auto& s = h.rope_scaling;
  const double base = h.rope_freq_base, factor = s.factor;
  const double low_wavelen = s.original_context_length / s.low_freq_factor;
  const double high_wavelen = s.original_context_length / s.high_freq_factor;
  std::vector<float> factors;
  for (uint64_t i = 0; i < h.key_length; i += 2) {
    const double freq = 1.0 / std::pow(base, static_cast<double>(i) / static_cast<double>(h.key_length));
    const double wavelen = 2.0 * M_PI / freq;
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(factor));
    } else {
      const double smooth = (s.original_context_length / wavelen - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / factor + smooth)));
    }
  }
  return factors;
}

std::unique_ptr<QuantSource> open_hf_source(const std::filesystem::path& dir) { return std::make_unique<HfSource>(dir); }

}  // namespace lp
