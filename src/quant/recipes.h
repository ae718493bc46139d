#pragma once
// Quantization recipes: which GGML type each tensor of a model gets for a file type such as
// Q4_K_M. A recipe is data — a base type and an ordered list of rules (tensor class or
// name pattern, optional layer rule, optional conditions on the model, type) — and the
// built-in ones, which reproduce llama.cpp's mixtures, are written in the same JSON format a
// user can pass in a recipe file.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/ggml_types.h"
#include "quant/name_pattern.h"

namespace lp {

// llama.cpp's tensor categories, decided from the GGUF tensor name.
enum class TensorClass { output, token_embd, attn_qkv, attn_kv_b, attn_v, attn_k, attn_q, attn_output, ffn_up, ffn_gate, ffn_down, other };
TensorClass classify_tensor(std::string_view gguf_name);

struct RecipeRule {
  // What the rule applies to: a class ("attn_v" covers the attn_v-like classes V, QKV and
  // KV_B; "output" covers a tied token embedding too) or a regular expression on the name.
  std::string tensor;
  std::optional<NamePattern> pattern;
  // Which layers: "all", "more_bits" (llama.cpp's use_more_bits), "first_eighth",
  // "first_sixteenth", or "first:N" (the first N tensors of the class).
  std::string layers = "all";
  // All must hold: "gqa>=4", "experts==8", "llama70b", "imatrix", "no_imatrix",
  // "row_not_multiple_of_base_block".
  std::vector<std::string> when;
  GgmlType type = GgmlType::F32;
};

struct Recipe {
  std::string name;                  // Q4_K_M, or the user's name
  std::optional<uint32_t> file_type; // general.file_type to write
  GgmlType base = GgmlType::F16;
  std::vector<RecipeRule> rules;
};

// Whether weights can be stored in `type` in a GGUF file (Q8_K exists only as the activation type of dot
// products; engine-only types never leave the engine).
bool is_weight_type(GgmlType type);

std::span<const Recipe> builtin_recipes();
const Recipe* find_builtin_recipe(std::string_view name);  // case-insensitive
// Parses a recipe in the JSON format of the built-in ones; InputError naming `source`.
Recipe parse_recipe(const nlohmann::json& j, const std::string& source);
Recipe load_recipe_file(const std::string& path);

// What the mixture rules need to know about the model.
struct ModelShape {
  std::string architecture;
  uint64_t n_layer = 0;
  uint64_t n_head = 0;
  uint64_t n_head_kv = 0;
  uint64_t n_expert = 0;
  bool tied_embeddings = false;
};

struct PlanInput {
  std::string name;             // GGUF tensor name
  std::vector<uint64_t> shape;  // GGML order
  GgmlType source_type;         // type it has in the source (kept when not quantizable)
};

struct QuantOptions {
  const Recipe* recipe = nullptr;
  std::vector<std::pair<NamePattern, GgmlType>> tensor_types;  // --tensor-type PATTERN=TYPE, first match wins
  std::optional<GgmlType> output_type;                        // --output-tensor-type
  std::optional<GgmlType> token_embedding_type;               // --token-embedding-type
  bool pure = false;                                          // --pure: no mixture rules
  bool has_imatrix = false;
};

struct PlannedTensor {
  size_t source_index = 0;  // position in the PlanInput list
  std::string name;
  std::vector<uint64_t> shape;
  GgmlType source_type;
  GgmlType type;
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  bool fell_back = false;  // the chosen type did not fit the row length
};

// Chooses every tensor's type in llama-quantize's order: not quantizable -> keep; explicit
// embedding/output type; --tensor-type patterns; the recipe's rules (unless pure); then the
// shape fallback when rows are not a whole number of blocks. The result is in llama-quantize's
// tensor order (non-layer tensors first, then by layer number, then by name), which is also
// the order the layer counters run in and the order the output file is written in.
std::vector<PlannedTensor> plan_quantization(const std::vector<PlanInput>& tensors, const ModelShape& model,
                                             const QuantOptions& options);

// llama.cpp's use_more_bits (llama-quant.cpp): layer i of n gets more bits in the first and last
// eighth and every third layer between. mlx-lm's mixed recipes reuse it.
bool use_more_bits(uint64_t i, uint64_t n);

bool tensor_is_quantizable(std::string_view name, const std::vector<uint64_t>& shape);

}  // namespace lp
