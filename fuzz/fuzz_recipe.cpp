// libFuzzer target: a quantization recipe file (README "Recipe files"), then the plan it makes
// for a small Llama-shaped model, so rule matching (classes, regex:, first:N, when) runs too.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/json_guard.h"
#include "fuzz_input.h"
#include "quant/recipes.h"

namespace {

// Two layers of a Llama-style model with a GQA ratio of 4 and a row length (96) that is not a
// whole number of K-quant blocks in the FFN, so the fallback path is reachable.
std::vector<lp::PlanInput> small_model() {
  std::vector<lp::PlanInput> t = {{"token_embd.weight", {256, 512}, lp::GgmlType::F32},
                                  {"output_norm.weight", {256}, lp::GgmlType::F32},
                                  {"output.weight", {256, 512}, lp::GgmlType::F32}};
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    for (const char* name : {"attn_q", "attn_output"}) t.push_back({p + name + ".weight", {256, 256}, lp::GgmlType::F32});
    for (const char* name : {"attn_k", "attn_v"}) t.push_back({p + name + ".weight", {256, 64}, lp::GgmlType::F32});
    for (const char* name : {"ffn_up", "ffn_gate"}) t.push_back({p + name + ".weight", {256, 96}, lp::GgmlType::F32});
    t.push_back({p + "ffn_down.weight", {96, 256}, lp::GgmlType::F32});
    t.push_back({p + "attn_norm.weight", {256}, lp::GgmlType::F32});
  }
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<lp::PlanInput> tensors = small_model();
  try {
    const nlohmann::json j = lp::parse_untrusted_json(lp::fuzz::as_text(data, size), "fuzz/recipe.json");
    const lp::Recipe recipe = lp::parse_recipe(j, "fuzz/recipe.json");
    const lp::ModelShape shape{.architecture = "llama", .n_layer = 2, .n_head = 8, .n_head_kv = 2};
    (void)lp::plan_quantization(tensors, shape, {.recipe = &recipe, .has_imatrix = size % 2 == 0});
  } catch (const lp::InputError&) {
  }
  return 0;
}
