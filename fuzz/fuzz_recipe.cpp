// libFuzzer target: a recipe file (quantize --recipe), parsed and then used to plan a small
// model's tensor types, so a rule that parses but cannot apply is caught as well.
#include "formats/json_guard.h"
#include "fuzz/fuzz_support.h"
#include "quant/recipes.h"

namespace {
// Two layers of a GQA model plus the embeddings: every tensor class a rule can name.
std::vector<lp::PlanInput> sample_tensors() {
  std::vector<lp::PlanInput> tensors = {{"token_embd.weight", {256, 1000}, lp::GgmlType::F16},
                                        {"output.weight", {256, 1000}, lp::GgmlType::F16},
                                        {"output_norm.weight", {256}, lp::GgmlType::F32}};
  for (int layer = 0; layer < 2; ++layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    for (const char* name : {"attn_q", "attn_output", "ffn_up", "ffn_gate"})
      tensors.push_back({blk + name + ".weight", {256, 256}, lp::GgmlType::F16});
    for (const char* name : {"attn_k", "attn_v"}) tensors.push_back({blk + name + ".weight", {256, 64}, lp::GgmlType::F16});
    tensors.push_back({blk + "ffn_down.weight", {288, 256}, lp::GgmlType::F16});  // rows not a multiple of 256
  }
  return tensors;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<lp::PlanInput> tensors = sample_tensors();
  return lp::fuzz::accept_input_errors([&] {
    const nlohmann::json j = lp::parse_untrusted_json(lp::fuzz::as_text(data, size), "recipe.json");
    const lp::Recipe recipe = lp::parse_recipe(j, "recipe.json");
    lp::QuantOptions options;
    options.recipe = &recipe;
    (void)lp::plan_quantization(tensors, {"llama", 2, 4, 1, 0, false}, options);
  });
}
