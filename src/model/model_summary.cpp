#include "model/model_summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/hub_cache.h"
#include "formats/mlx_quant_config.h"
#include "model/architectures.h"
#include "quant/file_types.h"

namespace lp {
namespace {

constexpr size_t kMaxArrayItemsShown = 16;  // tokenizer arrays run to 250k entries

nlohmann::json gguf_value_to_json(const GgufValue& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, GgufArray>) {
          nlohmann::json items = nlohmann::json::array();
          for (size_t i = 0; i < v.items.size() && i < kMaxArrayItemsShown; ++i) items.push_back(gguf_value_to_json(v.items[i]));
          if (v.items.size() <= kMaxArrayItemsShown) return items;
          return {{"type", "array"},
                  {"element_type", gguf_value_type_name(v.element_type)},
                  {"length", v.items.size()},
                  {"first", items}};
        } else {
          return v;
        }
      },
      value.storage());
}

ModelSummary summarize_gguf(const std::filesystem::path& path) {
  const GgufModel model = GgufModel::open(path);
  ModelSummary s;
  s.path = path.string();
  s.format = "gguf";
  s.gguf_version = model.version();
  for (const auto& f : model.files()) s.files.push_back(f.string());
  s.file_bytes = model.file_bytes();
  // GGUF also carries things that are not models (llama-imatrix's importance matrices,
  // LoRA adapters): show what they hold instead of refusing them.
  if (const GgufValue* type = model.find("general.type"); type && type->as_string()) s.gguf_type = *type->as_string();
  if (model.find("general.architecture") != nullptr || s.gguf_type.empty() || s.gguf_type == "model") {
    s.hparams = hparams_from_gguf(model);
  }
  if (model.find("tokenizer.ggml.model") != nullptr) s.tokenizer = tokenizer_summary_from_gguf(model);
  if (const GgufValue* name = model.find("general.name"); name && name->as_string()) s.name = *name->as_string();
  if (const GgufValue* ft = model.find("general.file_type"); ft && ft->as_uint()) {
    const FileTypeInfo* info = find_file_type(static_cast<uint32_t>(*ft->as_uint()));
    s.file_type = info ? std::string(info->name) : fmt::format("unknown ({})", *ft->as_uint());
  }
  s.metadata = nlohmann::json::object();
  for (const auto& kv : model.metadata()) s.metadata[kv.key] = gguf_value_to_json(kv.value);
  for (const auto& t : model.tensors()) {
    s.tensors.push_back({t.name, std::string(ggml_type_traits(t.type).name), t.shape, t.n_elements, t.n_bytes});
  }
  return s;
}

ModelSummary summarize_hf(const std::filesystem::path& dir) {
  const HfCheckpoint checkpoint = HfCheckpoint::open(dir);
  ModelSummary s;
  s.path = dir.string();
  s.format = "huggingface";
  for (const auto& f : checkpoint.weights().files()) s.files.push_back(f.string());
  s.file_bytes = checkpoint.weights().file_bytes();
  s.name = model_folder_name(dir);
  s.hparams = checkpoint.hparams();
  s.tokenizer = checkpoint.tokenizer();
  s.generation = checkpoint.generation();
  s.metadata = checkpoint.config();
  // An mlx-lm checkpoint: each quantized module is one tensor of its logical shape, its
  // levels, scales and biases counted together.
  const auto mlx = parse_mlx_quant_config(checkpoint.config(), (dir / "config.json").string());
  if (mlx) s.format = "mlx";
  const auto& weights = checkpoint.weights();
  for (const auto& t : weights.tensors()) {
    if (is_mlx_group_parameter(weights, t.name)) continue;
    if (const auto q = mlx_quantized_tensor(weights, t, mlx, dir.string())) {
      s.tensors.push_back({t.name, fmt::format("MLX{}g{}", q->spec.bits, q->spec.group_size), {q->rows, q->columns},
                           q->rows * q->columns, t.data.size() + q->scales->data.size() + q->biases->data.size()});
      continue;
    }
    s.tensors.push_back({t.name, std::string(t.dtype->name), t.shape, t.n_elements, t.data.size()});
  }
  return s;
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.2f} {}", v, units[u]);
}

}  // namespace

std::string human_count(uint64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f} B", n / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f} M", n / 1e6);
  if (n >= 1'000) return fmt::format("{:.2f} K", n / 1e3);
  return fmt::format("{}", n);
}

ModelSummary summarize_model(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{} does not exist", path.string());
  ModelSummary s = std::filesystem::is_directory(path, ec) ? summarize_hf(path) : summarize_gguf(path);
  const double unused = unused_expert_share(s.hparams);
  uint64_t inactive = 0;
  for (const auto& t : s.tensors) {
    s.parameter_count += t.n_elements;
    s.tensor_bytes += t.n_bytes;
    if (t.name.find("_exps.") != std::string::npos) inactive += static_cast<uint64_t>(static_cast<double>(t.n_elements) * unused);
  }
  s.active_parameter_count = s.parameter_count - inactive;
  return s;
}

nlohmann::json summary_to_json(const ModelSummary& s) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : s.tensors) {
    tensors.push_back({{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"elements", t.n_elements}, {"bytes", t.n_bytes}});
  }
  nlohmann::json j = {
      {"path", s.path},
      {"format", s.format},
      {"files", s.files},
      {"file_bytes", s.file_bytes},
      {"name", s.name},
      {"hparams", hparams_to_json(s.hparams)},
      {"tensors", tensors},
      {"totals",
       {{"tensors", s.tensors.size()},
        {"parameters", s.parameter_count},
        {"active_parameters", s.active_parameter_count},
        {"bytes", s.tensor_bytes},
        {"bits_per_weight", s.bits_per_weight()}}},
      {"metadata", s.metadata},
  };
  if (s.format == "gguf") j["gguf_version"] = s.gguf_version;
  if (!s.gguf_type.empty()) j["gguf_type"] = s.gguf_type;
  if (!s.file_type.empty()) j["file_type"] = s.file_type;
  j["tokenizer"] = s.tokenizer ? tokenizer_summary_to_json(*s.tokenizer) : nlohmann::json(nullptr);
  if (s.generation) j["generation"] = generation_defaults_to_json(*s.generation);
  return j;
}

std::string summary_to_text(const ModelSummary& s) {
  std::string out;
  auto line = [&out](std::string_view label, const std::string& value) {
    out += fmt::format("{:<22}{}\n", label, value);
  };
  const auto& h = s.hparams;
  line("model", s.name.empty() ? "(unnamed)" : s.name);
  line("format", s.format == "gguf"  ? fmt::format("GGUF v{}", s.gguf_version)
                 : s.format == "mlx" ? std::string("MLX (mlx-lm safetensors)")
                                     : std::string("Hugging Face safetensors"));
  line("files", fmt::format("{} ({} file{}, {})", s.path, s.files.size(), s.files.size() == 1 ? "" : "s",
                            human_bytes(s.file_bytes)));
  if (h.architecture.empty()) {
    line("contents", fmt::format("{} (not a model)", s.gguf_type));
  } else {
    line("architecture", h.info ? fmt::format("{} ({})", h.architecture, h.info->family)
                                : fmt::format("{} (not supported for running)", h.architecture));
  }
  if (!s.file_type.empty()) line("file type", s.file_type);

  const auto hp = [&line](std::string_view label, const auto& value) { line(fmt::format("  {}", label), fmt::format("{}", value)); };
  if (!h.architecture.empty()) {  // a model, not an importance matrix or adapter
    out += "\nhyperparameters\n";
    hp("vocabulary", h.vocab_size);
    hp("context length", h.context_length);
    hp("hidden size", h.embedding_length);
    hp("layers", h.block_count);
    hp("feed-forward", h.feed_forward_length);
    hp("attention heads", h.head_count);
    hp("key/value heads", h.head_count_kv);
    hp("head dim (k/v)", fmt::format("{}/{}", h.key_length, h.value_length));
    hp("rope base", fmt::format("{:g}", h.rope_freq_base));
    if (h.rope_freq_base_local) hp("rope base (local)", *h.rope_freq_base_local);
    if (h.rope_scaling.type != "none") {
      hp("rope scaling", fmt::format("{} x{} (from {})", h.rope_scaling.type, h.rope_scaling.factor,
                                     h.rope_scaling.original_context_length));
    }
    hp("norm epsilon", fmt::format("{:g}", static_cast<float>(h.norm_eps)));
    if (h.sliding_window > 0) hp("sliding window", h.sliding_window);
    if (h.sliding_window_pattern > 0) hp("global every", fmt::format("{} layers", h.sliding_window_pattern));
    if (h.expert_count > 0) {
      hp("experts", fmt::format("{} ({} used, ff {})", h.expert_count, h.expert_used_count, h.expert_feed_forward_length));
    }
    hp("tied embeddings", h.tied_embeddings ? "yes" : "no");
    if (h.final_logit_softcapping) hp("logit softcap", *h.final_logit_softcapping);
  }

  out += "\ntokenizer\n";
  if (!s.tokenizer) {
    out += "  (none found)\n";
  } else {
    const auto& t = *s.tokenizer;
    hp("model", t.pre_tokenizer.empty() ? t.model : fmt::format("{} (pre-tokenizer {})", t.model, t.pre_tokenizer));
    hp("vocabulary", fmt::format("{} tokens, {} merges, {} special", t.vocab_size, t.merges, t.control_tokens));
    for (const auto& sp : t.special) {
      hp(sp.role, fmt::format("{} {:?}", sp.id, sp.text));
    }
    if (t.add_bos) hp("add bos", *t.add_bos ? "yes" : "no");
    if (t.add_eos) hp("add eos", *t.add_eos ? "yes" : "no");
    hp("chat template", t.chat_template ? fmt::format("yes ({} bytes)", t.chat_template->size()) : "no");
  }

  out += fmt::format("\ntensors ({}; shapes {})\n", s.tensors.size(),
                     s.format == "gguf" ? "in GGML order, contiguous dimension first" : "row-major");
  size_t name_width = 4;
  for (const auto& t : s.tensors) name_width = std::max(name_width, t.name.size());
  out += fmt::format("  {:<{}}  {:<8} {:<22} {:>12}\n", "name", name_width, "type", "shape", "bytes");
  for (const auto& t : s.tensors) {
    out += fmt::format("  {:<{}}  {:<8} {:<22} {:>12}\n", t.name, name_width, t.type,
                       fmt::format("[{}]", fmt::join(t.shape, ", ")), t.n_bytes);
  }
  out += "\ntotals\n";
  hp("parameters", fmt::format("{} ({})", s.parameter_count, human_count(s.parameter_count)));
  if (s.active_parameter_count != s.parameter_count) {
    hp("active per token", fmt::format("{} ({}, {} of {} experts)", s.active_parameter_count,
                                       human_count(s.active_parameter_count), s.hparams.expert_used_count,
                                       s.hparams.expert_count));
  }
  hp("tensor bytes", fmt::format("{} ({})", s.tensor_bytes, human_bytes(s.tensor_bytes)));
  hp("bits per weight", fmt::format("{:.4f}", s.bits_per_weight()));
  return out;
}

}  // namespace lp
