#include "quant/quantize_model.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_writer.h"
#include "model/hparams.h"

namespace lp {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION: the K-quant block layouts

class GgufSource final : public QuantSource {
 public:
  explicit GgufSource(const std::filesystem::path& path) : model_(GgufModel::open(path)), path_(path) {
    const ModelHParams h = hparams_from_gguf(model_);
    shape_ = {h.architecture, h.block_count, h.head_count, h.head_count_kv, h.expert_count, h.tied_embeddings};
    for (const auto& t : model_.tensors()) {
      if (ggml_type_traits(t.type).dequantize == nullptr) {
        fail("{}: tensor '{}' is {}, which cannot be read for quantization", path.string(), t.name,
             ggml_type_traits(t.type).name);
      }
      inputs_.push_back({t.name, t.shape, t.type});
    }
  }
  std::string description() const override { return path_.string(); }
  ModelShape shape() const override { return shape_; }
  const std::vector<PlanInput>& tensors() const override { return inputs_; }
  uint32_t alignment() const override { return model_.alignment(); }
  std::vector<GgufKeyValue> metadata() const override {
    std::vector<GgufKeyValue> kv;
    for (const auto& m : model_.metadata()) {
      if (!m.key.starts_with("split.")) kv.push_back(m);  // the output is one file
    }
    return kv;
  }
  void read_rows(size_t index, int64_t begin, int64_t end, float* out) const override {
    const auto& t = model_.tensors()[index];
    const auto& traits = ggml_type_traits(t.type);
    const uint64_t row_bytes = *ggml_row_bytes(t.type, t.shape[0]);
    const auto n = static_cast<int64_t>(t.shape[0]);
    for (int64_t r = begin; r < end; ++r) traits.dequantize(t.data.data() + r * row_bytes, out + (r - begin) * n, n);
  }
  std::span<const uint8_t> raw(size_t index) const override { return model_.tensors()[index].data; }

 private:
  GgufModel model_;
  std::filesystem::path path_;
  ModelShape shape_;
  std::vector<PlanInput> inputs_;
};

std::vector<GgufKeyValue> output_metadata(const QuantSource& source, const Recipe& recipe,
                                          const QuantizeSettings& settings) {
  std::vector<GgufKeyValue> kv;
  for (auto& m : source.metadata()) {
    if (m.key != "general.file_type" && m.key != "general.quantization_version") kv.push_back(std::move(m));
  }
  if (recipe.file_type) kv.push_back({"general.file_type", GgufValue(*recipe.file_type)});
  kv.push_back({"general.quantization_version", GgufValue(kQuantizationVersion)});
  for (const auto& o : settings.override_kv) kv.push_back(o);
  return kv;
}

}  // namespace

uint64_t QuantSource::source_bytes(size_t index) const {
  const PlanInput& t = tensors()[index];
  uint64_t rows = 1;
  for (size_t d = 1; d < t.shape.size(); ++d) rows *= t.shape[d];
  return ggml_row_bytes(t.source_type, t.shape[0]).value_or(0) * rows;
}

std::unique_ptr<QuantSource> open_gguf_source(const std::filesystem::path& path) {
  return std::make_unique<GgufSource>(path);
}

std::vector<PlannedTensor> plan_for(const QuantSource& source, const Recipe& recipe, const QuantizeSettings& settings) {
  QuantOptions options = settings.options;
  options.recipe = &recipe;
  return plan_quantization(source.tensors(), source.shape(), options);
}

void quantize_model(const QuantSource& source, const std::vector<QuantizeTarget>& targets,
                    const QuantizeSettings& settings) {
  if (targets.empty()) return;
  std::vector<std::vector<PlannedTensor>> plans;
  std::vector<GgufWriter> writers;
  for (const auto& target : targets) {
    plans.push_back(plan_for(source, *target.recipe, settings));
    GgufWriter writer(source.alignment());
    for (auto& kv : output_metadata(source, *target.recipe, settings)) writer.set(kv.key, std::move(kv.value));
    for (const auto& t : plans.back()) writer.add_tensor(t.name, t.type, t.shape, TensorProducer{});
    writers.push_back(std::move(writer));
  }
  std::vector<GgufWriter::Stream> streams;
  for (size_t i = 0; i < targets.size(); ++i) streams.push_back(writers[i].open(targets[i].output));

  const auto& inputs = source.tensors();
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < inputs.size(); ++i) total_bytes += source.source_bytes(i);
  Progress progress("quantizing", inputs.size(), total_bytes);

  // Every plan lists the tensors in the same (llama-quantize's) order; p walks that order.
  for (size_t p = 0; p < plans[0].size(); ++p) {
    const size_t i = plans[0][p].source_index;
    const PlanInput& in = inputs[i];
    // One buffer per distinct output type this tensor needs; the source type is copied as is.
    std::map<GgmlType, std::vector<uint8_t>> encoded;
    for (const auto& plan : plans) {
      if (plan[p].type != in.source_type) encoded[plan[p].type].resize(plan[p].n_bytes);
    }
    // Importance per column, one block of shape[0] values per expert of a 3-D expert tensor.
    const std::vector<float>* importance = nullptr;
    if (settings.importance != nullptr) {
      const auto it = settings.importance->columns.find(in.name);
      if (it != settings.importance->columns.end()) importance = &it->second;
    }
    const uint64_t experts = in.shape.size() >= 3 ? in.shape[2] : 1;
    if (importance != nullptr && importance->size() != in.shape[0] * experts) {
      fail("the importance matrix has {} values for '{}', which needs {}", importance->size(), in.name,
           in.shape[0] * experts);
    }
    const uint64_t rows_per_expert = in.shape.size() >= 2 ? in.shape[1] : 1;
    if (!encoded.empty()) {
      const auto row = static_cast<int64_t>(in.shape[0]);
      const int64_t rows = row == 0 ? 0 : static_cast<int64_t>(plans[0][p].n_elements) / row;
      parallel_for(rows, settings.threads, [&](int64_t begin, int64_t end) {
        constexpr int64_t kRowsPerStep = 16;
        std::vector<float> values(static_cast<size_t>(row * kRowsPerStep));
        for (int64_t r = begin; r < end; r += kRowsPerStep) {
          const int64_t n = std::min(kRowsPerStep, end - r);
          source.read_rows(i, r, r + n, values.data());
          for (auto& [type, bytes] : encoded) {
            const auto& traits = ggml_type_traits(type);
            const uint64_t row_bytes = *ggml_row_bytes(type, in.shape[0]);
            for (int64_t k = 0; k < n; ++k) {
              const float* weights =
                  importance ? importance->data() + (static_cast<uint64_t>(r + k) / rows_per_expert) * in.shape[0] : nullptr;
              traits.quantize(values.data() + k * row, bytes.data() + (r + k) * row_bytes, row, weights);
            }
          }
        }
      });
    }
    std::span<const uint8_t> unchanged;  // the source bytes, produced once for every output keeping them
    for (size_t t = 0; t < targets.size(); ++t) {
      const GgmlType type = plans[t][p].type;
      if (type == in.source_type && unchanged.data() == nullptr) unchanged = source.raw(i);
      streams[t].write_next_tensor(type == in.source_type ? unchanged : std::span<const uint8_t>(encoded.at(type)));
    }
    progress.advance(1, source.source_bytes(i));
  }
  progress.finish();
  for (auto& s : streams) s.finish();
}

GgufKeyValue parse_override_kv(const std::string& text) {
  const auto eq = text.find('=');
  const auto colon = text.find(':', eq == std::string::npos ? 0 : eq);
  if (eq == std::string::npos || eq == 0 || colon == std::string::npos) {
    fail("--override-kv '{}' must look like KEY=TYPE:VALUE (TYPE int, float, bool or str)", text);
  }
  const std::string key = text.substr(0, eq), type = text.substr(eq + 1, colon - eq - 1), value = text.substr(colon + 1);
  try {
    if (type == "int") return {key, GgufValue(static_cast<int64_t>(std::stoll(value)))};
    if (type == "float") return {key, GgufValue(std::stod(value))};
    if (type == "str") return {key, GgufValue(value)};
    if (type == "bool" && (value == "true" || value == "false")) return {key, GgufValue(value == "true")};
  } catch (const std::exception&) {
  }
  fail("--override-kv '{}': '{}' is not a valid {} (types: int, float, bool, str)", text, value, type);
}

}  // namespace lp
