#include "convert/hf_source.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>

#include "convert/hf_tensor_names.h"
#include "convert/hf_vocab.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/mlx_quant_config.h"
#include "model/hf_checkpoint.h"
#include "quant/dequantize.h"
#include "quant/quantize.h"

namespace lp {
namespace {

constexpr uint64_t kMaxExperts = uint64_t{1} << 16;

struct SourceTensor {
  // The Hugging Face tensors it is read from: one, or one per expert when `stacked`.
  // Empty: computed (rope factors).
  std::vector<const SafetensorsTensor*> from;
  bool stacked = false;
  std::vector<float> computed;
  TensorTransform transform = TensorTransform::none;
  uint64_t heads = 1;              // heads whose rows a permutation regroups
  uint32_t part = 0, parts = 1;    // row block of each expert's matrix (fused gate_up)
  bool interleaved = false;        // part p is every parts-th row (transposed) or value from p
  const SafetensorsTensor* mxfp4_scales = nullptr;  // with from[0] the packed values: an MXFP4 tensor
  // With from[0] the packed levels: an MLX affine tensor (an mlx-lm checkpoint), rows of
  // scales and biases per group in the checkpoint's float dtype.
  const SafetensorsTensor* mlx_scales = nullptr;
  const SafetensorsTensor* mlx_biases = nullptr;
  MlxAffineSpec mlx_spec = {};
};

// The language model's section of config.json (multimodal Gemma 3 nests it).
const nlohmann::json& text_config(const nlohmann::json& config) {
  const auto nested = config.find("text_config");
  return nested != config.end() && nested->is_object() ? *nested : config;
}

// The RoPE scaling object of a config (transformers 4 "rope_scaling", 5 "rope_parameters").
const nlohmann::json* rope_section(const nlohmann::json& config) {
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    const auto it = config.find(key);
    if (it != config.end() && it->is_object()) return &*it;
  }
  return nullptr;
}

std::optional<double> number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

class HfSource final : public QuantSource {
 public:
  explicit HfSource(const std::filesystem::path& dir) : checkpoint_(HfCheckpoint::open(dir)), dir_(dir) {
    const ModelHParams& h = checkpoint_.hparams();
    if (!hf_tensor_names_known(h.architecture)) {
      fail("{}: converting {} checkpoints is not supported yet (llama, qwen2, qwen3, qwen3moe, gemma3, phi3 and gpt-oss are); "
           "convert with llama.cpp's convert_hf_to_gguf.py and quantize the GGUF",
           dir.string(), h.architecture);
    }
    check_expressible(h);
    shape_ = {h.architecture, h.block_count, h.head_count, h.head_count_kv, h.expert_count, h.tied_embeddings};
    if (h.rope_scaling.type == "llama3") {
      add({"rope_freqs.weight", {h.key_length / 2}, GgmlType::F32}, computed(llama3_rope_factors(h)));
    }
    if (h.architecture == "phi3" && h.rope_scaling.type == "longrope") add_longrope_factors(h);

    mlx_ = parse_mlx_quant_config(checkpoint_.config(), (dir / "config.json").string());
    std::map<std::string, std::vector<const SafetensorsTensor*>> experts;  // stacked GGUF name -> per expert
    std::map<std::string, std::pair<MappedTensorName, std::array<const SafetensorsTensor*, 2>>> mxfp4;  // blocks, scales
    for (const auto& t : checkpoint_.weights().tensors()) {
      if (is_mlx_group_parameter(checkpoint_.weights(), t.name)) continue;  // read with their weight
      for (const auto& mapped : map_hf_tensor_name(h.architecture, t.name, h.tied_embeddings)) {
        if (const auto q = mlx_quantized_tensor(checkpoint_.weights(), t, mlx_, dir.string())) {
          add_mlx_quantized(mapped, *q);
          continue;
        }
        if (mapped.transform == TensorTransform::mxfp4_blocks || mapped.transform == TensorTransform::mxfp4_scales) {
          auto& [first, halves] = mxfp4[mapped.gguf_name];
          if (mapped.transform == TensorTransform::mxfp4_blocks) first = mapped;
          halves[mapped.transform == TensorTransform::mxfp4_blocks ? 0 : 1] = &t;
          continue;
        }
        if (!t.dtype->is_float_convertible) {
          fail("{}: tensor '{}' is {}, not F32, F16 or BF16", dir.string(), t.name, t.dtype->name);
        }
        if (mapped.expert >= 0) {
          if (static_cast<uint64_t>(mapped.expert) >= h.expert_count) {
            fail("{}: tensor '{}' names expert {}, but the model has {} experts", dir.string(), t.name, mapped.expert,
                 h.expert_count);
          }
          auto& slots = experts[mapped.gguf_name];
          slots.resize(h.expert_count, nullptr);
          if (slots[mapped.expert] != nullptr) fail("{}: tensor '{}' appears twice", dir.string(), t.name);
          slots[mapped.expert] = &t;
          continue;
        }
        add_tensor(mapped, t);
      }
    }
    for (auto& [name, slots] : experts) add_stacked(name, slots);
    for (auto& [name, entry] : mxfp4) add_mxfp4(name, entry.first, entry.second[0], entry.second[1]);
    check_complete(h);
  }

  std::string description() const override { return dir_.string(); }
  ModelShape shape() const override { return shape_; }
  const std::vector<PlanInput>& tensors() const override { return inputs_; }
  uint32_t alignment() const override { return 32; }
  std::vector<GgufKeyValue> metadata() const override;

  void read_rows(size_t index, int64_t begin, int64_t end, float* out) const override {
    const SourceTensor& s = sources_[index];
    const PlanInput& in = inputs_[index];
    const auto n = static_cast<int64_t>(in.shape[0]);
    if (s.from.empty()) {
      std::memcpy(out, s.computed.data() + begin * n, static_cast<size_t>((end - begin) * n) * sizeof(float));
      return;
    }
    if (in.shape.size() == 1) {  // a vector is one row; a permuted bias has its elements regrouped
      std::vector<float> values(static_cast<size_t>(n));
      convert(*s.from[0], 0, n, values.data());
      for (int64_t e = 0; e < n; ++e) {
        const int64_t from = s.transform == TensorTransform::none || s.transform == TensorTransform::add_one
                                 ? e
                                 : source_index(e, n, s.heads);
        out[e] = values[static_cast<size_t>(from)];
      }
      if (s.transform == TensorTransform::add_one) {
        for (int64_t e = 0; e < n; ++e) out[e] += 1.0f;
      }
      return;
    }
    const auto rows = static_cast<int64_t>(in.shape[1]);  // per expert
    if (s.mxfp4_scales != nullptr) {
      std::vector<uint8_t> row(ggml_row_bytes(GgmlType::MXFP4, static_cast<uint64_t>(n)).value_or(0));
      for (int64_t r = begin; r < end; ++r) {
        mxfp4_row(s, n, rows, r, row.data());
        dequantize_row_mxfp4(row.data(), out + (r - begin) * n, n);
      }
      return;
    }
    if (s.mlx_scales != nullptr) {
      std::vector<float> scales, biases;
      for (int64_t r = begin; r < end; ++r) {
        const uint8_t* levels = mlx_row(s, n, permuted_row(s, r, rows), scales, biases);
        mlx_affine_dequantize_row(levels, scales.data(), biases.data(), n, s.mlx_spec, out + (r - begin) * n);
      }
      return;
    }
    if (s.transform == TensorTransform::transpose || s.interleaved) return read_strided_rows(s, n, rows, begin, end, out);
    for (int64_t r = begin; r < end; ++r) {
      const int64_t expert = r / rows, j = r % rows;
      const int64_t row = s.transform == TensorTransform::permute_q || s.transform == TensorTransform::permute_k
                              ? source_index(j, rows, s.heads)
                              : j;
      float* dst = out + (r - begin) * n;
      if (s.stacked) {
        convert(*s.from[static_cast<size_t>(expert)], row * n, n, dst);
      } else {
        convert(*s.from[0], (expert * rows * s.parts + s.part * rows + row) * n, n, dst);
      }
      if (s.transform == TensorTransform::add_one) {
        for (int64_t e = 0; e < n; ++e) dst[e] += 1.0f;
      }
    }
  }

  std::optional<std::span<const uint8_t>> in_place(size_t index) const override {
    const SourceTensor& s = sources_[index];
    const PlanInput& t = inputs_[index];
    if (s.from.size() != 1 || s.stacked || s.transform != TensorTransform::none || s.parts != 1 || s.interleaved) {
      return std::nullopt;
    }
    if (s.from[0]->dtype->name != ggml_type_traits(t.source_type).name) return std::nullopt;
    return s.from[0]->data;
  }

  std::span<const uint8_t> raw(size_t index) const override {
    if (const auto bytes = in_place(index)) return *bytes;
    const PlanInput& t = inputs_[index];
    int64_t rows = 1;
    for (size_t d = 1; d < t.shape.size(); ++d) rows *= static_cast<int64_t>(t.shape[d]);
    if (sources_[index].mlx_scales != nullptr) {  // repacked: no value changes
      const SourceTensor& s = sources_[index];
      const auto n = static_cast<int64_t>(t.shape[0]);
      const uint64_t row_bytes = ggml_row_bytes(t.source_type, static_cast<uint64_t>(n)).value_or(0);
      raw_.resize(row_bytes * static_cast<uint64_t>(rows));
      std::vector<float> scales, biases;
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* levels = mlx_row(s, n, permuted_row(s, r, rows), scales, biases);
        mlx_repack_row(levels, scales.data(), biases.data(), n, s.mlx_spec, t.source_type,
                       raw_.data() + static_cast<uint64_t>(r) * row_bytes);
      }
      // The repacked copy replaces the mapped tensors: memory holds one of the two.
      for (const auto* source : {s.from[0], s.mlx_scales, s.mlx_biases}) release_mapped_pages(source->data);
      return raw_;
    }
    if (sources_[index].mxfp4_scales != nullptr) {  // the blocks as they are: no value changes
      const auto n = static_cast<int64_t>(t.shape[0]);
      const uint64_t row_bytes = ggml_row_bytes(GgmlType::MXFP4, static_cast<uint64_t>(n)).value_or(0);
      raw_.resize(row_bytes * static_cast<uint64_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        mxfp4_row(sources_[index], n, static_cast<int64_t>(t.shape[1]), r, raw_.data() + static_cast<uint64_t>(r) * row_bytes);
      }
      return raw_;
    }
    std::vector<float> values(static_cast<size_t>(rows) * t.shape[0]);
    read_rows(index, 0, rows, values.data());
    raw_.resize(source_bytes(index));
    ggml_type_traits(t.source_type).quantize(values.data(), raw_.data(), static_cast<int64_t>(values.size()), nullptr);
    return raw_;
  }

 private:
  static SourceTensor computed(std::vector<float> values) {
    SourceTensor s;
    s.computed = std::move(values);
    return s;
  }

  // gpt-oss's layouts: GGUF rows [begin, end) of `n` values, `rows` rows per expert, where the
  // source holds each expert as [in = n][out] (transposed: a GGUF row is a source column) or
  // holds the parts' values alternately (interleaved: part p is every parts-th row or value).
  static void read_strided_rows(const SourceTensor& s, int64_t n, int64_t rows, int64_t begin, int64_t end, float* out) {
    const int64_t parts = s.parts, part = s.part;
    for (int64_t r = begin; r < end; ++r) {
      const int64_t expert = r / rows, j = r % rows;
      float* dst = out + (r - begin) * n;
      if (s.transform == TensorTransform::transpose) {
        const int64_t out_total = rows * parts;
        const int64_t column = s.interleaved ? j * parts + part : part * rows + j;
        for (int64_t c = 0; c < n; ++c) convert(*s.from[0], (expert * n + c) * out_total + column, 1, &dst[c]);
      } else {
        for (int64_t c = 0; c < n; ++c) convert(*s.from[0], r * n * parts + c * parts + part, 1, &dst[c]);
      }
    }
  }

  // GGUF row r (`rows` per expert, `n` values) of an MXFP4 tensor as GGML blocks: exponent,
  // then 16 bytes holding values j (low nibble) and j + 16 (high). gpt-oss packs values 2j
  // and 2j + 1 into byte j instead; both exponents are E8M0 with the same meaning (GGML
  // halves the scale and doubles the levels).
  static void mxfp4_row(const SourceTensor& s, int64_t n, int64_t rows, int64_t r, uint8_t* out) {
    const int64_t expert = r / rows, j = r % rows;
    const int64_t source_rows = rows * s.parts;
    const int64_t row = s.interleaved ? j * s.parts + s.part : s.part * rows + j;
    const int64_t blocks = n / 32;
    const uint8_t* packed = s.from[0]->data.data() + ((expert * source_rows + row) * blocks) * 16;
    const uint8_t* scales = s.mxfp4_scales->data.data() + (expert * source_rows + row) * blocks;
    for (int64_t b = 0; b < blocks; ++b, out += 17, packed += 16) {
      out[0] = scales[b];
      auto value = [&](int i) { return static_cast<uint8_t>((packed[i / 2] >> (4 * (i & 1))) & 0x0F); };
      for (int i = 0; i < 16; ++i) out[1 + i] = static_cast<uint8_t>(value(i) | (value(i + 16) << 4));
    }
  }

  // Row r of a 2-D tensor with its Q/K permutation (the Hugging Face row it is read from).
  static int64_t permuted_row(const SourceTensor& s, int64_t r, int64_t rows) {
    const bool permuted = s.transform == TensorTransform::permute_q || s.transform == TensorTransform::permute_k;
    return permuted ? source_index(r, rows, s.heads) : r;
  }

  // Source row `row` of an MLX tensor: its packed levels, and its groups' scales and biases as float32.
  static const uint8_t* mlx_row(const SourceTensor& s, int64_t n, int64_t row, std::vector<float>& scales,
                                std::vector<float>& biases) {
    const int64_t groups = n / s.mlx_spec.group_size;
    scales.resize(static_cast<size_t>(groups));
    biases.resize(static_cast<size_t>(groups));
    convert(*s.mlx_scales, row * groups, groups, scales.data());
    convert(*s.mlx_biases, row * groups, groups, biases.data());
    return s.from[0]->data.data() + static_cast<uint64_t>(row) * mlx_packed_row_bytes(n, s.mlx_spec.bits);
  }

  // An mlx-lm checkpoint's quantized module: ".weight" holds the packed levels (uint32 words),
  // ".scales" and ".biases" one value per group; bits and group size come from config.json.
  void add_mlx_quantized(const MappedTensorName& mapped, const MlxQuantizedTensor& q) {
    const SafetensorsTensor& t = *q.levels;
    if (mapped.expert >= 0 || mapped.parts != 1 || mapped.interleaved ||
        (mapped.transform != TensorTransform::none && mapped.transform != TensorTransform::permute_q &&
         mapped.transform != TensorTransform::permute_k)) {
      fail("{}: '{}' is quantized, but our engine reads quantized MLX tensors only where they map to one GGUF "
           "matrix (not stacked experts)", dir_.string(), t.name);
    }
    const MlxAffineSpec spec = q.spec;
    const uint64_t n = q.columns, rows = q.rows;
    SourceTensor s{{&t}, false, {}, mapped.transform,
                   mapped.transform == TensorTransform::permute_k ? checkpoint_.hparams().head_count_kv
                                                                   : checkpoint_.hparams().head_count};
    s.mlx_scales = q.scales;
    s.mlx_biases = q.biases;
    s.mlx_spec = spec;
    if ((s.transform == TensorTransform::permute_q || s.transform == TensorTransform::permute_k) &&
        (s.heads == 0 || rows % (2 * s.heads) != 0)) {
      fail("{}: tensor '{}' cannot be split into {} heads", dir_.string(), t.name, s.heads);
    }
    // One block type for the whole tensor: Q4_1 / Q5_1 only when every group's scale and bias is exact there.
    const uint64_t groups = rows * (n / static_cast<uint64_t>(spec.group_size));
    std::vector<float> all_scales(groups), all_biases(groups);
    convert(*q.scales, 0, static_cast<int64_t>(groups), all_scales.data());
    convert(*q.biases, 0, static_cast<int64_t>(groups), all_biases.data());
    const GgmlType type = mlx_repack_type(spec, all_scales.data(), all_biases.data(), static_cast<int64_t>(groups));
    add({mapped.gguf_name, {n, rows}, type}, std::move(s));
  }

  // `count` values of `t` from element `first`, as float32.
  static void convert(const SafetensorsTensor& t, int64_t first, int64_t count, float* out) {
    const DequantizeRowFn fn = t.dtype->name == "F32"   ? dequantize_row_f32
                               : t.dtype->name == "F16" ? dequantize_row_f16
                                                        : dequantize_row_bf16;
    fn(t.data.data() + first * t.dtype->bytes, out, count);
  }

  // GGUF type a tensor keeps when a recipe leaves it alone: matrices keep their dtype; vectors
  // and the MoE router are F32, as llama.cpp's converter writes them.
  static GgmlType kept_type(const std::string& gguf_name, size_t dims, std::string_view dtype) {
    const bool matrix = dims >= 2 && gguf_name.ends_with(".weight") && gguf_name.find("ffn_gate_inp") == std::string::npos;
    if (!matrix) return GgmlType::F32;
    return dtype == "F16" ? GgmlType::F16 : dtype == "BF16" ? GgmlType::BF16 : GgmlType::F32;
  }

  void add_tensor(const MappedTensorName& mapped, const SafetensorsTensor& t) {
    const ModelHParams& h = checkpoint_.hparams();
    std::vector<uint64_t> shape(t.shape.rbegin(), t.shape.rend());  // row-major -> GGML order
    if (shape.empty()) shape = {1};
    if (shape.size() > 3) fail("{}: tensor '{}' has {} dimensions", dir_.string(), t.name, shape.size());
    SourceTensor s{{&t}, false, {}, mapped.transform,
                   mapped.transform == TensorTransform::permute_k ? h.head_count_kv : h.head_count, mapped.part,
                   mapped.parts, mapped.interleaved};
    if (s.transform == TensorTransform::transpose) {
      if (shape.size() != 3) fail("{}: tensor '{}' is not a 3-D stack of expert matrices", dir_.string(), t.name);
      std::swap(shape[0], shape[1]);
    }
    if (mapped.interleaved && s.transform != TensorTransform::transpose) {  // values alternate within each row
      if (shape[0] % mapped.parts != 0) {
        fail("{}: tensor '{}' cannot be cut into {} interleaved parts", dir_.string(), t.name, mapped.parts);
      }
      shape[0] /= mapped.parts;
    } else if (mapped.parts > 1) {
      if (shape.size() < 2 || shape[1] % mapped.parts != 0) {
        fail("{}: tensor '{}' cannot be cut into {} equal row blocks", dir_.string(), t.name, mapped.parts);
      }
      shape[1] /= mapped.parts;
    }
    if (s.transform == TensorTransform::permute_q || s.transform == TensorTransform::permute_k) {
      const uint64_t rows = shape.size() >= 2 ? shape[1] : shape[0];
      if (s.heads == 0 || rows % (2 * s.heads) != 0) {
        fail("{}: tensor '{}' cannot be split into {} heads", dir_.string(), t.name, s.heads);
      }
    }
    const GgmlType type = kept_type(mapped.gguf_name, shape.size(), t.dtype->name);
    add({mapped.gguf_name, shape, type}, std::move(s));
  }

  void add_stacked(const std::string& name, const std::vector<const SafetensorsTensor*>& slots) {
    const auto missing = std::ranges::find(slots, nullptr);
    if (missing != slots.end()) {
      fail("{}: expert {} of '{}' is missing", dir_.string(), missing - slots.begin(), name);
    }
    const SafetensorsTensor& first = *slots.front();
    for (const auto* t : slots) {
      if (t->shape.size() != 2 || t->shape != first.shape || t->dtype != first.dtype) {
        fail("{}: the experts of '{}' are not matrices of one shape and type ('{}')", dir_.string(), name, t->name);
      }
    }
    SourceTensor s;
    s.from = slots;
    s.stacked = true;
    add({name, {first.shape[1], first.shape[0], slots.size()}, kept_type(name, 3, first.dtype->name)}, std::move(s));
  }

  // gpt-oss's MXFP4 experts: packed values [expert][rows][blocks][16] and exponents
  // [expert][rows][blocks], rows interleaving gate and up when `mapped` takes every other one.
  void add_mxfp4(const std::string& name, const MappedTensorName& mapped, const SafetensorsTensor* packed,
                 const SafetensorsTensor* scales) {
    if (packed == nullptr || scales == nullptr) {
      fail("{}: '{}' needs both its MXFP4 blocks and its scales", dir_.string(), name);
    }
    const auto& p = packed->shape;
    const auto& e = scales->shape;
    if (packed->dtype->name != "U8" || scales->dtype->name != "U8" || p.size() != 4 || p[3] != 16 || e.size() != 3 ||
        e[0] != p[0] || e[1] != p[1] || e[2] != p[2] || p[1] % mapped.parts != 0) {
      fail("{}: '{}' and '{}' are not MXFP4 blocks [experts, rows, blocks, 16] and scales [experts, rows, blocks] of U8",
           dir_.string(), packed->name, scales->name);
    }
    SourceTensor s;
    s.from = {packed};
    s.mxfp4_scales = scales;
    s.part = mapped.part;
    s.parts = mapped.parts;
    s.interleaved = mapped.interleaved;
    add({name, {p[2] * 32, p[1] / mapped.parts, p[0]}, GgmlType::MXFP4}, std::move(s));
  }

  // Phi-3's long-context RoPE: per-dimension frequency divisors for contexts within and
  // beyond the original one, as the two tensors llama.cpp reads.
  void add_longrope_factors(const ModelHParams& h) {
    const auto& r = h.rope_scaling;
    const uint64_t half = rope_dimensions(h) / 2;
    if (r.long_factor.size() != half || r.short_factor.size() != half) {
      fail("{}: longrope needs {} long and short factors (half the rotated dimensions), the config gives {} and {}",
           dir_.string(), half, r.long_factor.size(), r.short_factor.size());
    }
    for (const auto& [name, factors] : {std::pair{"rope_factors_long.weight", &r.long_factor},
                                        std::pair{"rope_factors_short.weight", &r.short_factor}}) {
      add({name, {half}, GgmlType::F32}, computed(std::vector<float>(factors->begin(), factors->end())));
    }
  }

  // Per-head dimensions RoPE rotates (Phi's partial_rotary_factor rotates only some).
  uint64_t rope_dimensions(const ModelHParams& h) const {
    const auto& cfg = text_config(checkpoint_.config());
    const nlohmann::json* rope = rope_section(cfg);  // transformers 5 keeps it with the RoPE settings
    auto fraction = number(cfg, "partial_rotary_factor");
    if (!fraction && rope != nullptr) fraction = number(*rope, "partial_rotary_factor");
    if (!fraction || *fraction >= 1.0) return h.key_length;
    return static_cast<uint64_t>(*fraction * static_cast<double>(h.embedding_length)) / h.head_count;
  }

  uint64_t original_context_length(const ModelHParams& h) const {
    if (h.rope_scaling.original_context_length > 0) return h.rope_scaling.original_context_length;
    const auto orig = number(text_config(checkpoint_.config()), "original_max_position_embeddings");
    return orig && *orig > 0 ? static_cast<uint64_t>(*orig) : h.context_length;
  }

  // Settings transformers honours that llama.cpp's architecture has no way to express: a file
  // that silently computed something else would be worse than none.
  void check_expressible(const ModelHParams& h) const {
    const auto& cfg = text_config(checkpoint_.config());
    const std::string source = (dir_ / "config.json").string();
    if (h.expert_count > kMaxExperts) fail("{}: {} experts is more than this converter accepts", source, h.expert_count);
    if (h.expert_count > 0 && (h.expert_used_count == 0 || h.expert_used_count > h.expert_count)) {
      fail("{}: {} experts per token of {} is not a mixture of experts", source, h.expert_used_count, h.expert_count);
    }
    if (h.architecture == "qwen3moe") {
      if (const auto it = cfg.find("mlp_only_layers"); it != cfg.end() && it->is_array() && !it->empty()) {
        fail("{}: mlp_only_layers makes some layers dense, which llama.cpp's qwen3moe cannot hold", source);
      }
      if (const auto step = number(cfg, "decoder_sparse_step"); step && *step != 1) {
        fail("{}: decoder_sparse_step {} makes some layers dense, which llama.cpp's qwen3moe cannot hold", source, *step);
      }
      // transformers' default is false; llama.cpp always renormalizes the chosen experts' weights.
      if (!cfg.contains("norm_topk_prob") || !cfg["norm_topk_prob"].is_boolean() || !cfg["norm_topk_prob"].get<bool>()) {
        fail("{}: norm_topk_prob is not true, but llama.cpp's qwen3moe always renormalizes the experts' weights", source);
      }
    }
    if (h.architecture == "gemma3") {
      if (h.attn_logit_softcapping) fail("{}: Gemma 3 with attention logit soft-capping cannot be converted", source);
      // llama.cpp scales queries by 1/sqrt(head_dim) (1/sqrt(hidden/heads) for the 62-layer 27B).
      const double expected = h.block_count == 62 ? static_cast<double>(h.embedding_length / h.head_count)
                                                  : static_cast<double>(h.key_length);
      const double scalar = number(cfg, "query_pre_attn_scalar").value_or(256.0);
      if (scalar != expected) {
        fail("{}: query_pre_attn_scalar {} differs from the {} llama.cpp's gemma3 scales queries by", source, scalar,
             expected);
      }
    }
    if (h.architecture == "gpt-oss") {
      // llama.cpp's gpt-oss: SwiGLU alpha 1.702 and limit 7 (constants), sliding window on even
      // layers, the YaRN ramp read untruncated (by us; llama.cpp rounds it out).
      if (h.swiglu_alpha != 1.702 || h.swiglu_limit != 7.0) {
        fail("{}: swiglu_alpha {} / swiglu_limit {} differ from the 1.702 / 7 llama.cpp's gpt-oss computes with", source,
             h.swiglu_alpha, h.swiglu_limit);
      }
      if (h.sliding_window_pattern != 2) fail("{}: layer_types do not alternate sliding and full attention", source);
      if (h.rope_scaling.type == "yarn" && h.rope_scaling.yarn_truncate) {
        fail("{}: a truncated YaRN ramp cannot be told apart from gpt-oss's own in a GGUF file", source);
      }
    }
    if (h.rope_scaling.type != "none" && h.rope_scaling.type != "linear" && h.rope_scaling.type != "yarn" &&
        h.rope_scaling.type != "llama3" && !(h.rope_scaling.type == "longrope" && h.architecture == "phi3")) {
      fail("{}: RoPE scaling '{}' cannot be converted for {}", source, h.rope_scaling.type, h.architecture);
    }
  }

  // Every tensor llama.cpp requires of each layer is there.
  void check_complete(const ModelHParams& h) const {
    std::vector<std::string_view> required = {"attn_norm.weight", "attn_output.weight"};
    const std::string ffn_norm = std::string(h.info->ffn_norm) + ".weight";
    required.push_back(ffn_norm);
    if (h.info->attn_sinks) required.push_back("attn_sinks.weight");
    if (h.info->moe_biases) {
      required.insert(required.end(), {"ffn_gate_inp.bias", "ffn_gate_exps.bias", "ffn_up_exps.bias", "ffn_down_exps.bias"});
    }
    if (h.architecture == "phi3") {
      required.insert(required.end(), {"attn_qkv.weight", "ffn_up.weight", "ffn_down.weight"});
    } else {
      required.insert(required.end(), {"attn_q.weight", "attn_k.weight", "attn_v.weight"});
      if (h.info != nullptr && h.info->moe) {
        required.insert(required.end(),
                        {"ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"});
      } else {
        required.insert(required.end(), {"ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"});
      }
    }
    auto has = [&](const std::string& name) { return std::ranges::any_of(inputs_, [&](const auto& t) { return t.name == name; }); };
    if (!has("token_embd.weight")) fail("{} has no token embedding (model.embed_tokens.weight)", dir_.string());
    for (uint64_t layer = 0; layer < h.block_count; ++layer) {
      for (const auto suffix : required) {
        const std::string name = "blk." + std::to_string(layer) + "." + std::string(suffix);
        if (!has(name)) fail("{}: layer {} has no tensor for GGUF '{}'", dir_.string(), layer, name);
      }
    }
  }

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
  std::optional<MlxQuantConfig> mlx_;
  mutable std::vector<uint8_t> raw_;
};

std::vector<GgufKeyValue> HfSource::metadata() const {
  const ModelHParams& h = checkpoint_.hparams();
  const std::string a = h.architecture;
  auto u32 = [](uint64_t v) { return GgufValue(static_cast<uint32_t>(v)); };
  auto f32 = [](double v) { return GgufValue(static_cast<float>(v)); };
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
      {a + ".rope.dimension_count", u32(rope_dimensions(h))},
      {a + ".rope.freq_base", f32(h.rope_freq_base)},
      {a + ".attention.layer_norm_rms_epsilon", f32(h.norm_eps)},
  };
  if (h.rope_scaling.type == "linear" || h.rope_scaling.type == "yarn") {
    kv.push_back({a + ".rope.scaling.type", GgufValue(h.rope_scaling.type)});
    kv.push_back({a + ".rope.scaling.factor", f32(h.rope_scaling.factor)});
    if (h.rope_scaling.original_context_length > 0) {
      kv.push_back({a + ".rope.scaling.original_context_length", u32(h.rope_scaling.original_context_length)});
    }
  }
  if (h.rope_scaling.type == "yarn") {
    kv.push_back({a + ".rope.scaling.yarn_beta_fast", f32(h.rope_scaling.beta_fast)});
    kv.push_back({a + ".rope.scaling.yarn_beta_slow", f32(h.rope_scaling.beta_slow)});
  }
  if (a == "gpt-oss") kv.push_back({a + ".attention.sliding_window", u32(h.sliding_window)});
  if (h.expert_count > 0) {
    kv.push_back({a + ".expert_count", u32(h.expert_count)});
    kv.push_back({a + ".expert_used_count", u32(h.expert_used_count)});
    kv.push_back({a + ".expert_feed_forward_length", u32(h.expert_feed_forward_length)});
  }
  if (a == "gemma3") {
    if (h.rope_freq_base_local) kv.push_back({a + ".rope.freq_base_swa", f32(*h.rope_freq_base_local)});
    if (h.sliding_window > 0 && h.sliding_window_pattern != 1) {
      kv.push_back({a + ".attention.sliding_window", u32(h.sliding_window)});
      kv.push_back({a + ".attention.sliding_window_pattern", u32(h.sliding_window_pattern)});
    }
    if (h.final_logit_softcapping) kv.push_back({a + ".final_logit_softcapping", f32(*h.final_logit_softcapping)});
  }
  if (a == "phi3") {
    const uint64_t original = original_context_length(h);
    kv.push_back({a + ".rope.scaling.original_context_length", u32(original)});
    kv.push_back({a + ".attention.sliding_window", u32(h.sliding_window)});  // 0: none, as the converter writes
    if (h.rope_scaling.type == "longrope") {
      // transformers' attention factor: the config's, else sqrt(1 + ln(s) / ln(original)) for s = context / original.
      const nlohmann::json* rope = rope_section(text_config(checkpoint_.config()));
      const double scale = original > 0 ? static_cast<double>(h.context_length) / static_cast<double>(original) : 1.0;
      double factor = scale > 1.0 ? std::sqrt(1.0 + std::log(scale) / std::log(static_cast<double>(original))) : 1.0;
      if (rope != nullptr) factor = number(*rope, "attention_factor").value_or(factor);
      kv.push_back({a + ".rope.scaling.attn_factor", f32(factor)});
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
