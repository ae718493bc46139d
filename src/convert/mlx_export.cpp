#include "convert/mlx_export.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/float_convert.h"
#include "core/parallel.h"
#include "core/progress.h"
#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "model/hf_checkpoint.h"

namespace lp {
namespace {

// model_types whose mlx-lm modules carry Hugging Face's own parameter names (their sanitize()
// only drops rotary caches and a tied lm_head). Mixtures of experts (mlx-lm stacks experts
// into switch_mlp) and multimodal wrappers (language_model.*) are named otherwise.
constexpr const char* kSameNameModelTypes[] = {"llama", "qwen2", "qwen3", "gemma3_text", "phi3", "mistral"};

// Sanitize's drops: precomputed rotary frequencies, and lm_head when tied to the embeddings.
bool dropped_by_mlx_lm(const std::string& name, bool tied) {
  return name.find("rotary_emb.inv_freq") != std::string::npos || (tied && name == "lm_head.weight");
}

std::string output_dtype(const std::string& requested, std::string_view source_dtype) {
  if (requested == "float16") return "F16";
  if (requested == "bfloat16") return "BF16";
  if (requested == "float32") return "F32";
  return std::string(source_dtype);
}

uint32_t dtype_bytes(const std::string& dtype) { return dtype == "F32" ? 4 : 2; }

// float32 values stored as `dtype`, and read back: what MLX quantizes when the weights are that dtype.
void round_to_dtype(float* v, int64_t n, const std::string& dtype) {
  if (dtype == "F16") {
    for (int64_t i = 0; i < n; ++i) v[i] = f16_to_f32(f32_to_f16(v[i]));
  } else if (dtype == "BF16") {
    for (int64_t i = 0; i < n; ++i) v[i] = bf16_to_f32(f32_to_bf16(v[i]));
  }
}

void store_as(const float* v, int64_t n, const std::string& dtype, uint8_t* out) {
  if (dtype == "F32") {
    std::memcpy(out, v, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  uint16_t (*const half)(float) = dtype == "F16" ? f32_to_f16 : f32_to_bf16;
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = half(v[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

// One output tensor of the safetensors files: a float tensor, or one of a quantized module's three.
struct OutputTensor {
  SafetensorsEntry entry;
  size_t plan_index = 0;
  int part = 0;  // 0: float values or levels, 1: scales, 2: biases
};

std::vector<OutputTensor> output_tensors(const MlxExportPlan& plan) {
  std::vector<OutputTensor> out;
  for (size_t i = 0; i < plan.entries.size(); ++i) {
    const MlxPlanEntry& e = plan.entries[i];
    const auto& shape = e.source->shape;
    if (!e.spec) {
      out.push_back({{e.name, e.dtype, shape, e.bytes}, i, 0});
      continue;
    }
    const uint64_t rows = shape[0], n = shape[1];
    const uint64_t groups = n / static_cast<uint64_t>(e.spec->group_size);
    const uint64_t group_bytes = rows * groups * dtype_bytes(e.dtype);
    out.push_back({{e.module + ".biases", e.dtype, {rows, groups}, group_bytes}, i, 2});
    out.push_back({{e.module + ".scales", e.dtype, {rows, groups}, group_bytes}, i, 1});
    out.push_back({{e.name, "U32", {rows, n * static_cast<uint64_t>(e.spec->bits) / 32},
                    rows * mlx_packed_row_bytes(static_cast<int64_t>(n), e.spec->bits)},
                   i, 0});
  }
  std::ranges::sort(out, {}, [](const OutputTensor& t) { return t.entry.name; });
  return out;
}

// The three tensors of a quantized module, computed row by row across threads.
struct QuantizedModule {
  std::vector<uint8_t> levels, scales, biases;
};

QuantizedModule quantize_module(const MlxPlanEntry& e, unsigned threads) {
  const auto rows = static_cast<int64_t>(e.source->shape[0]), n = static_cast<int64_t>(e.source->shape[1]);
  const MlxAffineSpec spec = *e.spec;
  const int64_t groups = n / spec.group_size;
  const uint64_t row_bytes = mlx_packed_row_bytes(n, spec.bits);
  const uint32_t scale_bytes = dtype_bytes(e.dtype);
  QuantizedModule q;
  q.levels.resize(static_cast<uint64_t>(rows) * row_bytes);
  q.scales.resize(static_cast<uint64_t>(rows * groups) * scale_bytes);
  q.biases.resize(q.scales.size());
  const std::vector<float> values = safetensors_to_f32(*e.source);
  parallel_for(rows, threads, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(n)), scales(static_cast<size_t>(groups)), biases(scales.size());
    for (int64_t r = begin; r < end; ++r) {
      std::memcpy(row.data(), values.data() + r * n, static_cast<size_t>(n) * sizeof(float));
      round_to_dtype(row.data(), n, e.dtype);
      mlx_affine_quantize_row(row.data(), n, spec, q.levels.data() + static_cast<uint64_t>(r) * row_bytes,
                              scales.data(), biases.data());
      store_as(scales.data(), groups, e.dtype, q.scales.data() + static_cast<uint64_t>(r * groups) * scale_bytes);
      store_as(biases.data(), groups, e.dtype, q.biases.data() + static_cast<uint64_t>(r * groups) * scale_bytes);
    }
  });
  return q;
}

std::vector<uint8_t> float_tensor(const MlxPlanEntry& e) {
  if (e.source->dtype->name == e.dtype) return {e.source->data.begin(), e.source->data.end()};
  const std::vector<float> values = safetensors_to_f32(*e.source);
  std::vector<uint8_t> out(e.bytes);
  store_as(values.data(), static_cast<int64_t>(values.size()), e.dtype, out.data());
  return out;
}

nlohmann::json mlx_config(const HfCheckpoint& checkpoint, const MlxExportPlan& plan) {
  nlohmann::json config = checkpoint.config();
  config.erase("_name_or_path");
  config.erase("vision_config");
  config["quantization"] = plan.config.to_json();
  config["quantization_config"] = config["quantization"];  // mlx-lm writes both (#957)
  return config;
}

// The tokenizer, chat template and generation files mlx-lm's loader reads, as the source has them.
void copy_side_files(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                           "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json",
                           "generation_config.json"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(from / name, ec)) continue;
    std::filesystem::copy_file(from / name, to / name, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) fail("cannot copy {} into {}: {}", (from / name).string(), to.string(), ec.message());
  }
}

}  // namespace

MlxExportPlan plan_mlx_export(const HfCheckpoint& checkpoint, const MlxExportOptions& options) {
  const auto& config = checkpoint.config();
  const std::string model_type = config.value("model_type", std::string());
  if (std::ranges::find(kSameNameModelTypes, model_type) == std::end(kSameNameModelTypes)) {
    fail("{}: writing MLX checkpoints of model_type '{}' is not supported yet (llama, qwen2, qwen3, gemma3_text, "
         "phi3 and mistral are; mlx-lm names the modules of mixtures of experts and multimodal models its own way)",
         checkpoint.dir().string(), model_type);
  }
  if (const auto problem = mlx_spec_problem({options.settings.bits, options.settings.group_size})) {
    fail("--method/--group-size: {}", *problem);
  }
  for (const int b : {options.settings.embedding_bits, options.settings.output_bits}) {
    if (!mlx_bits_supported(b)) fail("--embedding-bits/--output-bits: {} is not a width MLX quantizes to (2, 3, 4, 5, 6 or 8)", b);
  }
  const ModelHParams& h = checkpoint.hparams();
  MlxExportPlan plan;
  plan.config.global = {options.settings.bits, options.settings.group_size};  // as mlx-lm's --q-bits/--q-group-size
  for (const auto& t : checkpoint.weights().tensors()) {
    if (dropped_by_mlx_lm(t.name, h.tied_embeddings)) continue;
    if (!t.dtype->is_float_convertible) {
      fail("{}: tensor '{}' is {}; writing MLX needs F32, F16 or BF16 weights", checkpoint.dir().string(), t.name,
           t.dtype->name);
    }
    MlxPlanEntry e;
    e.source = &t;
    e.name = t.name;
    e.dtype = output_dtype(options.dtype, t.dtype->name);
    e.parameters = t.n_elements;
    // mlx-lm quantizes Linear and Embedding modules (every 2-D ".weight" of these models) whose
    // input width splits into groups of the global size, and leaves the rest in float.
    const bool quantizable = t.shape.size() == 2 && t.name.ends_with(".weight") &&
                             t.shape[1] % static_cast<uint64_t>(options.settings.group_size) == 0;
    if (quantizable) {
      e.module = t.name.substr(0, t.name.size() - 7);
      e.spec = choose_mlx_spec(*options.recipe, options.settings, e.module, h.block_count);
    }
    if (e.spec) {
      if (t.shape[1] % static_cast<uint64_t>(e.spec->group_size) != 0) {
        fail("{}: {} has {} inputs, which do not split into groups of {}", checkpoint.dir().string(), e.module,
             t.shape[1], e.spec->group_size);
      }
      const uint64_t groups = t.shape[0] * (t.shape[1] / static_cast<uint64_t>(e.spec->group_size));
      e.bytes = t.shape[0] * mlx_packed_row_bytes(static_cast<int64_t>(t.shape[1]), e.spec->bits) +
                2 * groups * dtype_bytes(e.dtype);
      if (options.recipe->every_module_in_config || !(*e.spec == plan.config.global)) plan.config.modules[e.module] = e.spec;
    } else {
      e.bytes = t.n_elements * dtype_bytes(e.dtype);
    }
    plan.total_bytes += e.bytes;
    plan.total_parameters += e.parameters;
    plan.entries.push_back(std::move(e));
  }
  std::ranges::sort(plan.entries, {}, &MlxPlanEntry::name);
  return plan;
}

void write_mlx_export(const HfCheckpoint& checkpoint, const MlxExportPlan& plan, const MlxExportOptions& options,
                      const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !(std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec))) {
    fail("{} already exists; MLX checkpoints are written into a new directory", dir.string());
  }
  const std::filesystem::path parent = std::filesystem::absolute(dir).parent_path();
  if (!std::filesystem::is_directory(parent, ec)) fail("cannot write {}: folder {} does not exist", dir.string(), parent.string());
  // Everything goes into a hidden sibling first, renamed into place when complete.
  const std::filesystem::path staging = parent / fmt::format(".{}.tmp-{}", dir.filename().string(), getpid());
  std::filesystem::remove_all(staging, ec);
  if (!std::filesystem::create_directory(staging, ec)) fail("cannot create {}: {}", staging.string(), ec.message());
  struct RemoveOnFailure {
    std::filesystem::path path;
    bool keep = false;
    ~RemoveOnFailure() {
      std::error_code ignored;
      if (!keep) std::filesystem::remove_all(path, ignored);
    }
  } cleanup{staging};

  const std::vector<OutputTensor> outputs = output_tensors(plan);
  // Shards as mlx-lm's make_shards cuts them: greedily, a new one when the next tensor would pass the limit.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t shard_bytes = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (shard_bytes + outputs[i].entry.n_bytes > options.max_shard_bytes && !shards.back().empty()) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += outputs[i].entry.n_bytes;
  }
  auto shard_name = [&](size_t s) {
    return shards.size() == 1 ? std::string("model.safetensors")
                              : fmt::format("model-{:05d}-of-{:05d}.safetensors", s + 1, shards.size());
  };

  Progress progress("writing MLX", plan.entries.size(), plan.total_bytes);
  nlohmann::json weight_map = nlohmann::json::object();
  std::optional<QuantizedModule> current;  // the module whose three tensors are being written
  size_t current_index = SIZE_MAX;
  for (size_t s = 0; s < shards.size(); ++s) {
    std::vector<SafetensorsEntry> entries;
    for (const size_t i : shards[s]) entries.push_back(outputs[i].entry);
    SafetensorsWriter writer(staging / shard_name(s), entries, {{"format", "mlx"}});
    for (size_t k = 0; k < shards[s].size(); ++k) {
      const OutputTensor& o = outputs[shards[s][k]];
      const MlxPlanEntry& e = plan.entries[o.plan_index];
      weight_map[o.entry.name] = shard_name(s);
      if (!e.spec) {
        writer.write(k, float_tensor(e));
        progress.advance(1, e.bytes);
        continue;
      }
      if (current_index != o.plan_index) {
        current = quantize_module(e, options.threads);
        current_index = o.plan_index;
        progress.advance(1, e.bytes);
      }
      writer.write(k, o.part == 0 ? current->levels : o.part == 1 ? current->scales : current->biases);
    }
    writer.commit();
  }
  progress.finish();

  nlohmann::json index = {{"metadata", {{"total_size", plan.total_bytes}, {"total_parameters", plan.total_parameters}}},
                          {"weight_map", weight_map}};
  write_file_atomically(staging / "model.safetensors.index.json", index.dump(4) + "\n");
  write_file_atomically(staging / "config.json", mlx_config(checkpoint, plan).dump(4) + "\n");
  copy_side_files(checkpoint.dir(), staging);
  write_file_atomically(staging / "README.md",
             fmt::format("---\nlibrary_name: mlx\npipeline_tag: text-generation\ntags:\n- mlx\n---\n\n"
                         "Written by llama-pajamas from {} (recipe {}, {} bits, group size {}).\n",
                         std::filesystem::absolute(checkpoint.dir()).lexically_normal().filename().string(),
                         options.recipe->name, plan.config.global.bits, plan.config.global.group_size));
  std::filesystem::remove(dir, ec);  // an empty directory the user made for it
  std::filesystem::rename(staging, dir, ec);
  if (ec) fail("cannot move the finished checkpoint to {}: {}", dir.string(), ec.message());
  cleanup.keep = true;
}

}  // namespace lp
