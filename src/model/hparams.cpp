#include "model/hparams.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/architectures.h"
#include "formats/gguf_reader.h"
#include "model/architectures.h"

namespace lp {
namespace {

constexpr uint64_t kMaxReasonableCount = uint64_t{1} << 32;  // layers, heads, widths: anything above is damage

// ---- GGUF ----------------------------------------------------------------------------

class GgufKeys {
 public:
  GgufKeys(const GgufModel& model, std::string arch) : model_(model), arch_(std::move(arch)) {}

  // `{arch}.suffix` as an unsigned integer; a per-layer array gives its largest element.
  uint64_t uint(std::string_view suffix, uint64_t fallback = 0) const {
    const GgufValue* v = model_.find(arch_ + "." + std::string(suffix));
    if (v == nullptr) return fallback;
    if (const auto* a = v->as_array()) {
      uint64_t best = fallback;
      for (const auto& item : a->items) best = std::max(best, item.as_uint().value_or(0));
      return best;
    }
    return v->as_uint().value_or(fallback);
  }
  std::optional<double> real(std::string_view suffix) const {
    const GgufValue* v = model_.find(arch_ + "." + std::string(suffix));
    return v == nullptr ? std::nullopt : v->as_double();
  }
  std::optional<std::string> string(std::string_view suffix) const {
    const GgufValue* v = model_.find(arch_ + "." + std::string(suffix));
    if (v == nullptr || v->as_string() == nullptr) return std::nullopt;
    return *v->as_string();
  }

 private:
  const GgufModel& model_;
  std::string arch_;
};

std::vector<int64_t> gguf_token_ids(const GgufModel& model, const std::string& key) {
  const GgufValue* v = model.find(key);
  if (v == nullptr) return {};
  if (const auto id = v->as_int()) return {*id};
  return {};
}

// ---- config.json ---------------------------------------------------------------------

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& config, const std::string& source) : config_(config), source_(source) {}

  bool has(const char* key) const { return config_.contains(key) && !config_[key].is_null(); }

  uint64_t required_uint(const char* key) const {
    if (!has(key)) fail("{} has no '{}', which the model needs", source_, key);
    return checked_uint(config_[key], key);
  }
  uint64_t uint(const char* key, uint64_t fallback) const {
    return has(key) ? checked_uint(config_[key], key) : fallback;
  }
  double real(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    if (!config_[key].is_number()) fail("{}: '{}' is not a number", source_, key);
    return config_[key].get<double>();
  }
  std::optional<double> optional_real(const char* key) const {
    if (!has(key)) return std::nullopt;
    return real(key, 0.0);
  }
  std::string text(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!config_[key].is_string()) fail("{}: '{}' is not a string", source_, key);
    return config_[key].get<std::string>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!config_[key].is_boolean()) fail("{}: '{}' is not true or false", source_, key);
    return config_[key].get<bool>();
  }
  std::vector<int64_t> token_ids(const char* key) const {
    if (!has(key)) return {};
    const auto& v = config_[key];
    std::vector<int64_t> ids;
    for (const auto& item : v.is_array() ? v : nlohmann::json::array({v})) {
      if (!item.is_number_integer()) fail("{}: '{}' is not a token id or a list of them", source_, key);
      ids.push_back(item.get<int64_t>());
    }
    return ids;
  }
  const nlohmann::json& json() const { return config_; }
  const std::string& source() const { return source_; }

 private:
  uint64_t checked_uint(const nlohmann::json& v, const char* key) const {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxReasonableCount) {
      fail("{}: '{}' is not a sensible non-negative integer", source_, key);
    }
    return v.get<uint64_t>();
  }
  const nlohmann::json& config_;
  const std::string& source_;
};

// Where a config keeps RoPE settings. transformers 4 writes "rope_theta" and "rope_scaling";
// transformers 5 writes "rope_parameters" holding both, and for Gemma 3 one such object per
// layer type ("full_attention", "sliding_attention").
struct RopeSection {
  const nlohmann::json* global = nullptr;  // theta and scaling of full-attention layers
  const nlohmann::json* local = nullptr;   // Gemma 3's sliding-window layers (v5 only)
};

RopeSection find_rope_section(const nlohmann::json& config) {
  RopeSection r;
  const auto params = config.find("rope_parameters");
  if (params != config.end() && params->is_object()) {
    const auto full = params->find("full_attention");
    r.global = full != params->end() && full->is_object() ? &*full : &*params;
    const auto sliding = params->find("sliding_attention");
    if (sliding != params->end() && sliding->is_object()) r.local = &*sliding;
  }
  return r;
}

RopeScaling rope_scaling_from_config(const ConfigReader& cfg, const RopeSection& section) {
  RopeScaling r;
  const nlohmann::json* s = section.global;
  if (cfg.has("rope_scaling")) s = &cfg.json()["rope_scaling"];
  if (s == nullptr) return r;
  if (!s->is_object()) fail("{}: the rope scaling settings are not an object", cfg.source());
  const ConfigReader sub(*s, cfg.source());
  // Through the reader, which checks the type: json::value() would throw a type_error (not an
  // InputError) for a "type" that is not a string.
  std::string type = sub.text("rope_type", sub.text("type", "default"));
  if (type == "default") return r;
  if (type == "su") type = "longrope";  // early Phi-3 configs
  r.type = type;
  r.factor = sub.real("factor", 1.0);
  r.original_context_length =
      sub.uint("original_max_position_embeddings", cfg.uint("original_max_position_embeddings", 0));
  r.low_freq_factor = sub.real("low_freq_factor", 0.0);
  r.beta_fast = sub.real("beta_fast", 32.0);
  r.beta_slow = sub.real("beta_slow", 1.0);
  r.yarn_truncate = sub.boolean("truncate", true);
  r.attn_factor = sub.optional_real("attention_factor");
  r.high_freq_factor = sub.real("high_freq_factor", 0.0);
  for (const auto& [name, out] : {std::pair{"short_factor", &r.short_factor}, std::pair{"long_factor", &r.long_factor}}) {
    if (!sub.has(name)) continue;
    if (!(*s)[name].is_array()) fail("{}: rope scaling '{}' is not a list", cfg.source(), name);
    for (const auto& f : (*s)[name]) {
      if (!f.is_number()) fail("{}: rope scaling '{}' holds a non-number", cfg.source(), name);
      out->push_back(f.get<double>());
    }
  }
  return r;
}

std::string supported_hf_types() {
  std::string list;
  for (const auto& a : all_architectures()) {
    for (const auto t : a.hf_model_types) list += (list.empty() ? "" : ", ") + std::string(t);
  }
  return list;
}

void check_attention_shape(const ModelHParams& h, const std::string& source) {
  if (h.block_count == 0 || h.embedding_length == 0 || h.head_count == 0) {
    fail("{} does not give the layer count, hidden size and attention head count", source);
  }
  if (h.head_count_kv == 0 || h.head_count % h.head_count_kv != 0) {
    fail("{}: {} attention heads cannot be shared by {} key/value heads", source, h.head_count, h.head_count_kv);
  }
}

}  // namespace

double unused_expert_share(const ModelHParams& h) {
  if (h.expert_count == 0 || h.expert_used_count > h.expert_count) return 0.0;
  return static_cast<double>(h.expert_count - h.expert_used_count) / static_cast<double>(h.expert_count);
}

ModelHParams hparams_from_gguf(const GgufModel& model) {
  ModelHParams h;
  const GgufValue* arch = model.find("general.architecture");
  if (arch == nullptr || arch->as_string() == nullptr) {
    fail("{} has no general.architecture, so it is not a model file", model.files().front().string());
  }
  h.architecture = *arch->as_string();
  h.info = find_architecture_by_gguf_name(h.architecture);
  const GgufKeys k(model, h.architecture);
  h.context_length = k.uint("context_length");
  h.embedding_length = k.uint("embedding_length");
  h.block_count = k.uint("block_count");
  h.feed_forward_length = k.uint("feed_forward_length");
  h.head_count = k.uint("attention.head_count");
  h.head_count_kv = k.uint("attention.head_count_kv", h.head_count);
  const uint64_t default_head_dim = h.head_count > 0 ? h.embedding_length / h.head_count : 0;
  h.key_length = k.uint("attention.key_length", default_head_dim);
  h.value_length = k.uint("attention.value_length", h.key_length);
  h.rope_freq_base = k.real("rope.freq_base").value_or(10000.0);  // llama.cpp's default
  h.norm_eps = k.real("attention.layer_norm_rms_epsilon").value_or(k.real("attention.layer_norm_epsilon").value_or(0));
  h.sliding_window = k.uint("attention.sliding_window");
  h.expert_count = k.uint("expert_count");
  h.expert_used_count = k.uint("expert_used_count");
  h.expert_feed_forward_length = k.uint("expert_feed_forward_length");
  h.final_logit_softcapping = k.real("final_logit_softcapping");
  h.attn_logit_softcapping = k.real("attn_logit_softcapping");
  if (const auto type = k.string("rope.scaling.type")) {
    h.rope_scaling.type = *type;
    h.rope_scaling.factor = k.real("rope.scaling.factor").value_or(1.0);
  }
  h.rope_scaling.original_context_length = k.uint("rope.scaling.original_context_length");
  h.rope_scaling.attn_factor = k.real("rope.scaling.attn_factor");
  h.rope_scaling.beta_fast = k.real("rope.scaling.yarn_beta_fast").value_or(32.0);
  h.rope_scaling.beta_slow = k.real("rope.scaling.yarn_beta_slow").value_or(1.0);
  // llama.cpp's converter writes Phi-3's long-context RoPE as factor tensors and no type.
  if (h.rope_scaling.type == "none" && model.find_tensor("rope_factors_long.weight") != nullptr) {
    h.rope_scaling.type = "longrope";
  }
  if (h.architecture == "gemma3") {
    // llama.cpp's defaults when the converter wrote no key: local base 10000, every 6th layer global.
    h.rope_freq_base_local = k.real("rope.freq_base_swa").value_or(10000.0);
    h.sliding_window_pattern = k.uint("attention.sliding_window_pattern", 6);
    // llama.cpp scales queries by 1/sqrt(head dim), except Gemma 3 27B (62 layers): 1/sqrt(n_embd/n_head).
    const double d = h.block_count == 62 && h.head_count > 0 ? static_cast<double>(h.embedding_length / h.head_count)
                                                             : static_cast<double>(h.key_length);
    if (d > 0) h.attention_scale = 1.0 / std::sqrt(d);
  }

  if (h.architecture == "gpt-oss") {
    // llama.cpp's defaults: sliding window on even layers. The YaRN ramp is gpt-oss's own,
    // untruncated (OpenAI's reference and transformers; llama.cpp rounds it out).
    h.sliding_window_pattern = k.uint("attention.sliding_window_pattern", 2);
    h.rope_scaling.yarn_truncate = false;
  }

  h.vocab_size = k.uint("vocab_size");
  if (h.vocab_size == 0) {
    if (const GgufValue* tokens = model.find("tokenizer.ggml.tokens"); tokens && tokens->as_array()) {
      h.vocab_size = tokens->as_array()->items.size();
    } else if (const auto* embd = model.find_tensor("token_embd.weight"); embd && embd->shape.size() == 2) {
      h.vocab_size = embd->shape[1];
    }
  }
  h.tied_embeddings = model.find_tensor("output.weight") == nullptr && model.find_tensor("token_embd.weight") != nullptr;
  h.bos_token_ids = gguf_token_ids(model, "tokenizer.ggml.bos_token_id");
  h.eos_token_ids = gguf_token_ids(model, "tokenizer.ggml.eos_token_id");
  return h;
}

ModelHParams hparams_from_hf_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) fail("{} is not a JSON object", source);
  const auto model_type = config.find("model_type");
  if (model_type == config.end() || !model_type->is_string()) fail("{} has no model_type", source);
  const std::string type = model_type->get<std::string>();
  const ArchitectureInfo* info = find_architecture_by_hf_type(type);
  if (info == nullptr) {
    fail("{}: model_type '{}' is not supported (supported: {})", source, type, supported_hf_types());
  }
  // Multimodal Gemma 3 checkpoints keep the language model's settings in text_config; keys
  // the file leaves out mean the config class's defaults.
  const bool nested = config.contains("text_config") && config["text_config"].is_object();
  nlohmann::json merged = nlohmann::json::parse(info->hf_config_defaults);
  for (const auto& [key, value] : (nested ? config["text_config"] : config).items()) merged[key] = value;
  if (nested) {
    for (const char* key : {"bos_token_id", "eos_token_id", "tie_word_embeddings"}) {
      if (config.contains(key)) merged[key] = config[key];
    }
  }
  const ConfigReader cfg(merged, source);

  ModelHParams h;
  h.architecture = std::string(info->gguf_name);
  h.info = info;
  h.vocab_size = cfg.required_uint("vocab_size");
  h.embedding_length = cfg.required_uint("hidden_size");
  h.block_count = cfg.required_uint("num_hidden_layers");
  h.head_count = cfg.required_uint("num_attention_heads");
  h.head_count_kv = cfg.uint("num_key_value_heads", h.head_count);
  h.feed_forward_length = cfg.required_uint("intermediate_size");
  h.context_length = cfg.uint("max_position_embeddings", 0);
  check_attention_shape(h, source);
  h.key_length = cfg.uint("head_dim", h.embedding_length / h.head_count);
  h.value_length = h.key_length;
  const RopeSection rope = find_rope_section(merged);
  h.rope_freq_base = rope.global ? ConfigReader(*rope.global, source).real("rope_theta", 10000.0)
                                 : cfg.real("rope_theta", 10000.0);
  h.rope_scaling = rope_scaling_from_config(cfg, rope);
  h.norm_eps = cfg.real("rms_norm_eps", 1e-6);
  h.tied_embeddings = cfg.boolean("tie_word_embeddings", false);
  h.final_logit_softcapping = cfg.optional_real("final_logit_softcapping");
  h.attn_logit_softcapping = cfg.optional_real("attn_logit_softcapping");
  if (h.architecture == "gpt-oss") {  // every feed-forward is a mixture; intermediate_size is an expert's width
    h.expert_count = cfg.required_uint("num_local_experts");
    h.expert_used_count = cfg.required_uint("num_experts_per_tok");
    h.expert_feed_forward_length = h.feed_forward_length;
    h.swiglu_alpha = cfg.real("swiglu_alpha", 1.702);
    h.swiglu_limit = cfg.real("swiglu_limit", 7.0);
  } else if (info->moe) {
    h.expert_count = cfg.required_uint("num_experts");
    h.expert_used_count = cfg.required_uint("num_experts_per_tok");
    h.expert_feed_forward_length = cfg.required_uint("moe_intermediate_size");
  }
  // Qwen configs name a window they do not use unless use_sliding_window is set.
  const bool window_used = !cfg.has("use_sliding_window") || cfg.boolean("use_sliding_window", false);
  h.sliding_window = window_used ? cfg.uint("sliding_window", 0) : 0;
  if (h.architecture == "gemma3") {
    h.rope_freq_base_local = rope.local ? ConfigReader(*rope.local, source).real("rope_theta", 10000.0)
                                        : cfg.real("rope_local_base_freq", 10000.0);
    h.sliding_window_pattern = cfg.uint("sliding_window_pattern", 6);
    h.attention_scale = 1.0 / std::sqrt(cfg.real("query_pre_attn_scalar", 256.0));
  }
  if (h.architecture == "gemma3" || h.architecture == "gpt-oss") {
    if (h.architecture == "gpt-oss") h.sliding_window_pattern = 2;  // llama.cpp's: even layers slide
    if (cfg.has("layer_types") && merged["layer_types"].is_array()) {
      // transformers >= 4.53 lists each layer; the pattern is the period of "full_attention".
      const auto& layers = merged["layer_types"];
      const auto first_full = std::find(layers.begin(), layers.end(), "full_attention");
      if (first_full != layers.end()) h.sliding_window_pattern = static_cast<uint64_t>(first_full - layers.begin()) + 1;
    }
  }
  h.bos_token_ids = cfg.token_ids("bos_token_id");
  h.eos_token_ids = cfg.token_ids("eos_token_id");
  return h;
}

nlohmann::json hparams_to_json(const ModelHParams& h) {
  nlohmann::json j = {
      {"architecture", h.architecture},
      {"supported", h.info != nullptr},
      {"vocab_size", h.vocab_size},
      {"context_length", h.context_length},
      {"embedding_length", h.embedding_length},
      {"block_count", h.block_count},
      {"feed_forward_length", h.feed_forward_length},
      {"head_count", h.head_count},
      {"head_count_kv", h.head_count_kv},
      {"key_length", h.key_length},
      {"value_length", h.value_length},
      {"rope_freq_base", h.rope_freq_base},
      {"norm_eps", h.norm_eps},
      {"tied_embeddings", h.tied_embeddings},
      {"bos_token_ids", h.bos_token_ids},
      {"eos_token_ids", h.eos_token_ids},
  };
  if (h.info != nullptr) j["family"] = h.info->family;
  if (h.rope_freq_base_local) j["rope_freq_base_local"] = *h.rope_freq_base_local;
  if (h.rope_scaling.type != "none") {
    j["rope_scaling"] = {{"type", h.rope_scaling.type},
                         {"factor", h.rope_scaling.factor},
                         {"original_context_length", h.rope_scaling.original_context_length}};
    if (h.rope_scaling.type == "llama3") {
      j["rope_scaling"]["low_freq_factor"] = h.rope_scaling.low_freq_factor;
      j["rope_scaling"]["high_freq_factor"] = h.rope_scaling.high_freq_factor;
    }
    if (!h.rope_scaling.long_factor.empty()) {
      j["rope_scaling"]["short_factor"] = h.rope_scaling.short_factor;
      j["rope_scaling"]["long_factor"] = h.rope_scaling.long_factor;
    }
  }
  if (h.sliding_window > 0) j["sliding_window"] = h.sliding_window;
  if (h.sliding_window_pattern > 0) j["sliding_window_pattern"] = h.sliding_window_pattern;
  if (h.expert_count > 0) {
    j["expert_count"] = h.expert_count;
    j["expert_used_count"] = h.expert_used_count;
    j["expert_feed_forward_length"] = h.expert_feed_forward_length;
  }
  if (h.final_logit_softcapping) j["final_logit_softcapping"] = *h.final_logit_softcapping;
  if (h.attn_logit_softcapping) j["attn_logit_softcapping"] = *h.attn_logit_softcapping;
  return j;
}

}  // namespace lp
