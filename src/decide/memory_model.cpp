#include "decide/memory_model.h"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "convert/hf_source.h"
#include "core/error.h"
#include "core/ggml_types.h"
#include "core/units.h"
#include "kernels/kv_rows.h"

namespace lp::decide {
namespace {


std::string mib(uint64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / kMiB); }

bool is_embedding(const std::string& name) { return name == "token_embd.weight"; }
bool is_output(const std::string& name) { return name == "output.weight"; }

// Bytes per activation value the matrix kernels quantize a batch's inputs to, by the
// activation type the weight type pairs with (kernels/kernel_table.cpp): K-quants meet Q8_K
// (292 bytes per 256), the _0 types Q8_0 (34 per 32), the _1 types Q8_1 (36 per 32); float
// weights meet the float32 rows themselves (no copy).
double activation_bytes_per_value(const std::string& type) {
  if (type.size() >= 2 && type.ends_with("_K")) return 292.0 / 256.0;
  if (type == "Q4_0" || type == "Q5_0" || type == "Q8_0") return 34.0 / 32.0;
  if (type == "Q4_1" || type == "Q5_1") return 36.0 / 32.0;
  return 0.0;
}

// Tensors a Hugging Face directory holds in another form than the engine reads (Q/K rows
// permuted for RoPE, Gemma's norms + 1, stacked experts): produced once at load, beside the
// mapped originals, whose pages were read to make them.
uint64_t hf_transformed_bytes(const ModelSummary& model) {
  const auto source = open_hf_source(model.path);
  uint64_t bytes = 0;
  for (size_t i = 0; i < source->tensors().size(); ++i)
    if (!source->in_place(i)) bytes += source->source_bytes(i);
  return bytes;
}

}  // namespace

uint64_t MemoryEstimate::total() const {
  uint64_t sum = 0;
  for (const auto& t : terms) sum += t.bytes;
  return sum;
}

uint64_t MemoryEstimate::term(std::string_view name) const {
  for (const auto& t : terms)
    if (t.name == name) return t.bytes;
  return 0;
}

MemoryEstimate estimate_memory(const ModelSummary& model, const MemorySettings& s) {
  const ModelHParams& h = model.hparams;
  if (s.ctx_size <= 0) fail("the context size must be positive, not {}", s.ctx_size);
  if (h.context_length > 0 && static_cast<uint64_t>(s.ctx_size) > h.context_length) {
    fail("a context of {} is larger than {}'s maximum of {} positions", s.ctx_size, model.path, h.context_length);
  }
  if (h.block_count == 0 || h.embedding_length == 0 || h.head_count == 0 || h.head_count_kv == 0 || h.key_length == 0) {
    fail("{} does not state the hyperparameters a memory estimate needs (layers, widths, heads)", model.path);
  }
  MemoryEstimate e;

  // Weights: every tensor as stored. A GGUF's are used in place over the mapping (or replaced
  // by an interleaved copy of exactly their size, whose mapped pages are released).
  uint64_t weights = 0, vectors = 0, embedding = 0, tied_output = 1, experts = 0;
  std::string activation_types;
  double act_bytes_kquant = 0, act_bytes_other = 0;
  for (const TensorSummary& t : model.tensors) {
    weights += t.n_bytes;
    if (is_embedding(t.name)) embedding = t.n_bytes;
    if (is_output(t.name)) tied_output = 0;
    // Norm, bias and factor vectors are also copied as float32 (read as floats every token),
    // gpt-oss's per-expert biases ([width, experts]) too.
    if (t.shape.size() == 1 || t.name.ends_with(".bias")) vectors += t.n_elements * sizeof(float);
    if (t.name.find("_exps.") != std::string::npos) experts += t.n_bytes;  // stacked experts and their biases
    const double a = activation_bytes_per_value(t.type);
    if (t.shape.size() == 2 && a > 0) (t.type.ends_with("_K") ? act_bytes_kquant : act_bytes_other) = a;
  }
  const uint64_t transformed = model.format == "huggingface" ? hf_transformed_bytes(model) : 0;
  e.terms.push_back({"weights", weights, fmt::format("{} tensors as stored ({})", model.tensors.size(), mib(weights))});
  e.terms.push_back({"weight_copies", vectors + transformed,
                     transformed ? fmt::format("float32 copies of norm/bias vectors {} + tensors rewritten at load {}", mib(vectors),
                                               mib(transformed))
                                 : fmt::format("float32 copies of norm/bias vectors ({})", mib(vectors))});

  // KV cache: per layer, a K row and a V row per position for every KV head (grouped-query
  // attention: head_count_kv, not head_count) in the cache's type, as the session allocates.
  const uint64_t key_dim = h.key_length, value_dim = h.value_length ? h.value_length : h.key_length;
  check_kv_cache_fits(s.kv_type, static_cast<int64_t>(key_dim), static_cast<int64_t>(value_dim));
  const std::optional<uint64_t> key_row = ggml_row_bytes(s.kv_type, key_dim), value_row = ggml_row_bytes(s.kv_type, value_dim);
  const uint64_t ctx = static_cast<uint64_t>(s.ctx_size);
  // F16 keys take whole tiles of 64 positions (kernels/kv_rows.h).
  const auto key_positions = static_cast<uint64_t>(kv_key_positions(s.kv_type, s.ctx_size));
  const uint64_t per_layer_position = h.head_count_kv * (*key_row + *value_row);
  const uint64_t kv = h.block_count * h.head_count_kv * (key_positions * *key_row + ctx * *value_row);
  e.terms.push_back({"kv_cache", kv,
                     fmt::format("{} layers x {} KV heads x {} positions x ({} + {} bytes: K and V rows of {} and {} values in {}){}",
                                 h.block_count, h.head_count_kv, ctx, *key_row, *value_row, key_dim, value_dim,
                                 kv_cache_type_name(s.kv_type),
                                 key_positions != ctx ? fmt::format("; keys in whole tiles of 64: {} positions", key_positions)
                                                      : std::string())});
  uint64_t windowed = kv;
  if (h.sliding_window > 0 && h.sliding_window_pattern > 0) {
    const uint64_t local_layers = h.block_count - h.block_count / h.sliding_window_pattern;
    windowed = kv - local_layers * ctx * per_layer_position +
               local_layers * std::min<uint64_t>(ctx, h.sliding_window) * per_layer_position;
  }
  e.kv_cache_windowed_bytes = windowed;

  // Compute: the session's scratch for one batch (residual, normed input, projections, Q/K/V,
  // attention output, FFN gate and up, RoPE tables), the logits, the quantized activations of
  // a batch (one buffer per activation type, sized for the widest input, the FFN's) and each
  // thread's attention tiles.
  const uint64_t b = static_cast<uint64_t>(std::clamp<int64_t>(s.batch_size, 1, s.ctx_size));
  // A mixture-of-experts layer's feed-forward scratch holds one expert's width.
  const bool moe = h.expert_count > 0 && h.expert_feed_forward_length > 0;
  const uint64_t n_embd = h.embedding_length, n_ff = moe ? h.expert_feed_forward_length : h.feed_forward_length;
  const uint64_t hd = h.key_length;
  const uint64_t hd_v = h.value_length ? h.value_length : hd;
  const bool fused = h.info != nullptr && h.info->fused_qkv;
  uint64_t per_token = 3 * n_embd + h.head_count * hd + h.head_count_kv * (hd + hd_v) + h.head_count * hd_v + 2 * n_ff +
                       4 * (hd / 2);
  if (fused) per_token += h.head_count * hd + h.head_count_kv * (hd + hd_v) + n_ff;
  // Router logits, the chosen experts (index, weight and group slot) and the gathered inputs and outputs.
  if (moe) per_token += h.expert_count + 3 * h.expert_used_count + 2 * n_embd;
  const uint64_t scratch = b * per_token * sizeof(float);
  const uint64_t logits = (s.all_logits ? b : 1) * h.vocab_size * sizeof(float);
  const uint64_t widest = std::max(n_embd, n_ff);
  const auto activations = static_cast<uint64_t>(static_cast<double>(b * widest) * (act_bytes_kquant + act_bytes_other));
  constexpr uint64_t kTile = 64;
  const uint64_t group = h.head_count / h.head_count_kv;
  const uint64_t attention = std::max(1u, s.threads) * (kTile * (2 * hd + hd_v) + 8 * group * (kTile + 2)) * sizeof(float);
  const uint64_t compute = scratch + logits + activations + attention;
  e.terms.push_back({"compute", compute,
                     fmt::format("batch {} x {} floats scratch {} + logits {} + quantized activations {} + attention tiles {}", b,
                                 per_token, mib(scratch), mib(logits), mib(activations), mib(attention))});

  // Runtime: the process itself, plus the file's metadata (the tokenizer's vocabulary and
  // merges), which is read from the mapping and held parsed: about three times its bytes.
  const uint64_t metadata = model.file_bytes > model.tensor_bytes ? model.file_bytes - model.tensor_bytes : 0;
  const uint64_t runtime = kRuntimeBaseBytes + (model.format == "gguf" ? 3 * metadata : 0);
  e.terms.push_back({"runtime", runtime,
                     fmt::format("process base {} + parsed metadata ({} of header, x3)", mib(kRuntimeBaseBytes), mib(metadata))});

  // One decoded token reads every matrix once; of the embedding table only its row, unless
  // the output projection is the same table; of a mixture's experts only the ones it uses.
  const auto unused_experts = moe ? static_cast<uint64_t>(static_cast<double>(experts) * unused_expert_share(h)) : uint64_t{0};
  e.decode_bytes_per_token = weights - unused_experts - (tied_output ? 0 : embedding) +
                             (tied_output || embedding == 0 ? 0 : embedding / std::max<uint64_t>(1, h.vocab_size));
  return e;
}

nlohmann::json memory_estimate_json(const MemoryEstimate& e) {
  nlohmann::json terms = nlohmann::json::array();
  for (const auto& t : e.terms) terms.push_back({{"name", t.name}, {"bytes", t.bytes}, {"detail", t.detail}});
  return {{"total_bytes", e.total()}, {"terms", terms}, {"kv_cache_windowed_bytes", e.kv_cache_windowed_bytes},
          {"decode_bytes_per_token", e.decode_bytes_per_token}};
}

}  // namespace lp::decide
