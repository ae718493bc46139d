#include <gtest/gtest.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "quant/recipes.h"

namespace lp {
namespace {

// Llama-3.1-8B's tensors in GGUF order, as convert_hf_to_gguf writes them.
std::vector<PlanInput> llama31_8b() {
  const uint64_t e = 4096, f = 14336, kv = 1024, v = 128256;
  std::vector<PlanInput> t = {{"rope_freqs.weight", {64}, GgmlType::F32}, {"token_embd.weight", {e, v}, GgmlType::F16}};
  for (int l = 0; l < 32; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    t.push_back({p + "attn_norm.weight", {e}, GgmlType::F32});
    t.push_back({p + "ffn_down.weight", {f, e}, GgmlType::F16});
    t.push_back({p + "ffn_gate.weight", {e, f}, GgmlType::F16});
    t.push_back({p + "ffn_up.weight", {e, f}, GgmlType::F16});
    t.push_back({p + "ffn_norm.weight", {e}, GgmlType::F32});
    t.push_back({p + "attn_k.weight", {e, kv}, GgmlType::F16});
    t.push_back({p + "attn_output.weight", {e, e}, GgmlType::F16});
    t.push_back({p + "attn_q.weight", {e, e}, GgmlType::F16});
    t.push_back({p + "attn_v.weight", {e, kv}, GgmlType::F16});
  }
  t.push_back({"output.weight", {e, v}, GgmlType::F16});
  t.push_back({"output_norm.weight", {e}, GgmlType::F32});
  return t;
}
const ModelShape kLlama8B{"llama", 32, 32, 8, 0, false};

std::vector<PlannedTensor> plan(const std::vector<PlanInput>& tensors, const ModelShape& shape, const std::string& method,
                                QuantOptions options = {}) {
  options.recipe = find_builtin_recipe(method);
  EXPECT_NE(options.recipe, nullptr) << method;
  return plan_quantization(tensors, shape, options);
}

double bits_per_weight(const std::vector<PlannedTensor>& p) {
  double bytes = 0, params = 0;
  for (const auto& t : p) {
    bytes += static_cast<double>(t.n_bytes);
    params += static_cast<double>(t.n_elements);
  }
  return 8 * bytes / params;
}

const PlannedTensor& planned(const std::vector<PlannedTensor>& p, const std::string& name) {
  for (const auto& t : p) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}
GgmlType type_of(const std::vector<PlannedTensor>& p, const std::string& name) { return planned(p, name).type; }

// Bits per weight of llama-quantize's Llama-3.1-8B files (tools/quantize/README.md; REFERENCE C.5).
TEST(Recipes, Llama31_8BSizesMatchLlamaQuantize) {
  const std::vector<std::pair<std::string, double>> published = {
      {"Q2_K", 3.1593}, {"Q3_K_S", 3.6429}, {"Q3_K_M", 3.9960}, {"Q3_K_L", 4.2979}, {"Q4_K_S", 4.6672},
      {"Q4_K_M", 4.8944}, {"Q5_K_S", 5.5704}, {"Q5_K_M", 5.7036}, {"Q6_K", 6.5633}, {"Q8_0", 8.5008}, {"F16", 16.0005}};
  const auto tensors = llama31_8b();
  for (const auto& [method, bpw] : published) {
    EXPECT_NEAR(bits_per_weight(plan(tensors, kLlama8B, method)), bpw, 0.01) << method;
  }
}

TEST(Recipes, UseMoreBitsLayersForQ4_K_M) {
  const auto p = plan(llama31_8b(), kLlama8B, "Q4_K_M");
  // n = 32: layers 0-3, 6, 9, ..., 27, 28-31 get more bits (REFERENCE C.2).
  std::vector<int> more;
  for (int l = 0; l < 32; ++l) {
    if (type_of(p, fmt::format("blk.{}.ffn_down.weight", l)) == GgmlType::Q6_K) more.push_back(l);
    EXPECT_EQ(type_of(p, fmt::format("blk.{}.attn_v.weight", l)), type_of(p, fmt::format("blk.{}.ffn_down.weight", l)));
    EXPECT_EQ(type_of(p, fmt::format("blk.{}.attn_q.weight", l)), GgmlType::Q4_K);
  }
  EXPECT_EQ(more, (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
  EXPECT_EQ(type_of(p, "output.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type_of(p, "token_embd.weight"), GgmlType::Q4_K);  // untied: base type
  EXPECT_EQ(type_of(p, "blk.0.attn_norm.weight"), GgmlType::F32);
  EXPECT_EQ(type_of(p, "rope_freqs.weight"), GgmlType::F32);
}

TEST(Recipes, Q3_K_MFirstTwoAttnVAndFirstSixteenthFfnDown) {
  const auto p = plan(llama31_8b(), kLlama8B, "Q3_K_M");
  EXPECT_EQ(type_of(p, "blk.0.attn_v.weight"), GgmlType::Q5_K);
  EXPECT_EQ(type_of(p, "blk.1.attn_v.weight"), GgmlType::Q5_K);
  EXPECT_EQ(type_of(p, "blk.2.attn_v.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type_of(p, "blk.1.ffn_down.weight"), GgmlType::Q5_K);  // 1 < 32/16
  EXPECT_EQ(type_of(p, "blk.2.ffn_down.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type_of(p, "blk.5.attn_output.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type_of(p, "blk.5.ffn_up.weight"), GgmlType::Q3_K);
}

TEST(Recipes, Q2_KAttnVDependsOnGqa) {
  EXPECT_EQ(type_of(plan(llama31_8b(), kLlama8B, "Q2_K"), "blk.3.attn_v.weight"), GgmlType::Q4_K);  // GQA 4
  const ModelShape gqa2{"llama", 32, 32, 16, 0, false};
  EXPECT_EQ(type_of(plan(llama31_8b(), gqa2, "Q2_K"), "blk.3.attn_v.weight"), GgmlType::Q3_K);
}

TEST(Recipes, Q4_0WithImatrixGuardsTheFirstFfnDownLayers) {
  QuantOptions with;
  with.has_imatrix = true;
  const auto p = plan(llama31_8b(), kLlama8B, "Q4_0", with);
  EXPECT_EQ(type_of(p, "blk.3.ffn_down.weight"), GgmlType::Q4_1);  // 3 < 32/8
  EXPECT_EQ(type_of(p, "blk.4.ffn_down.weight"), GgmlType::Q4_0);
  EXPECT_EQ(type_of(plan(llama31_8b(), kLlama8B, "Q4_0"), "blk.3.ffn_down.weight"), GgmlType::Q4_0);
  EXPECT_EQ(type_of(p, "output.weight"), GgmlType::Q6_K);
}

TEST(Recipes, EightExpertsBumpAttentionToQ8_0) {
  const ModelShape mixtral{"llama", 32, 32, 8, 8, false};
  const auto p = plan(llama31_8b(), mixtral, "Q4_K_M");
  EXPECT_EQ(type_of(p, "blk.7.attn_v.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type_of(p, "blk.7.attn_k.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type_of(p, "blk.7.attn_output.weight"), GgmlType::Q5_K);
}

TEST(Recipes, RowsNotWholeBlocksFallBack) {
  // SmolLM2: hidden 576 is not a multiple of 256; its embedding is tied to the output.
  const std::vector<PlanInput> t = {{"token_embd.weight", {576, 49152}, GgmlType::F16},
                                    {"blk.0.attn_q.weight", {576, 576}, GgmlType::F16},
                                    {"blk.0.ffn_down.weight", {1536, 576}, GgmlType::F16},
                                    {"blk.0.attn_norm.weight", {576}, GgmlType::F32},
                                    {"odd.weight", {20, 4}, GgmlType::F16}};
  const ModelShape smol{"llama", 30, 9, 3, 0, true};
  const auto p = plan(t, smol, "Q4_K_M");
  EXPECT_EQ(type_of(p, "token_embd.weight"), GgmlType::Q8_0);   // tied head, row not a multiple of 256
  EXPECT_EQ(type_of(p, "blk.0.attn_q.weight"), GgmlType::Q5_0); // Q4_K -> Q5_0
  EXPECT_TRUE(planned(p, "blk.0.attn_q.weight").fell_back);
  EXPECT_FALSE(planned(p, "token_embd.weight").fell_back);
  EXPECT_EQ(type_of(p, "blk.0.ffn_down.weight"), GgmlType::Q6_K);  // layer 0: more bits; 1536 = 6 blocks
  EXPECT_EQ(type_of(p, "odd.weight"), GgmlType::F16);              // not even 32 divides 20
  EXPECT_EQ(type_of(plan(t, smol, "Q2_K"), "blk.0.attn_q.weight"), GgmlType::Q4_0);
  EXPECT_EQ(type_of(plan(t, smol, "Q5_K_M"), "blk.0.attn_q.weight"), GgmlType::Q5_1);
}

TEST(Recipes, OverridesComeInLlamaQuantizeOrder) {
  QuantOptions o;
  o.tensor_types.emplace_back(NamePattern("attn_(q|k)", "test"), GgmlType::Q8_0);
  o.output_type = GgmlType::Q5_K;
  o.token_embedding_type = GgmlType::Q6_K;
  const auto p = plan(llama31_8b(), kLlama8B, "Q4_K_M", o);
  EXPECT_EQ(type_of(p, "blk.4.attn_q.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type_of(p, "blk.4.attn_k.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type_of(p, "blk.0.attn_v.weight"), GgmlType::Q6_K);  // rules still apply elsewhere
  EXPECT_EQ(type_of(p, "output.weight"), GgmlType::Q5_K);
  EXPECT_EQ(type_of(p, "token_embd.weight"), GgmlType::Q6_K);

  QuantOptions pure;
  pure.pure = true;
  const auto q = plan(llama31_8b(), kLlama8B, "Q4_K_M", pure);
  for (const auto& t : q) {
    if (t.shape.size() == 2) {
      EXPECT_EQ(t.type, GgmlType::Q4_K) << t.name;
    }
  }
}

// llama-quantize walks tensors by layer number, not in file order: "blk.10" comes after "blk.9".
TEST(Recipes, LayerCountersFollowLayerNumbersNotFileOrder) {
  std::vector<PlanInput> t;
  for (const int l : {0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9}) {
    t.push_back({fmt::format("blk.{}.ffn_down.weight", l), {1536, 576}, GgmlType::F16});
  }
  t.push_back({"output_norm.weight", {576}, GgmlType::F32});
  const ModelShape m{"llama", 12, 9, 3, 0, true};
  const auto p = plan(t, m, "Q4_K_M");
  EXPECT_EQ(p.front().name, "output_norm.weight");
  EXPECT_EQ(p[3].name, "blk.2.ffn_down.weight");
  // n = 12: more bits for layer 0 (< 12/8), 3, 6, 9 ((i - 1) % 3 == 2) and 10, 11 (>= 7*12/8 = 10).
  std::vector<int> more;
  for (int l = 0; l < 12; ++l) {
    if (type_of(p, fmt::format("blk.{}.ffn_down.weight", l)) == GgmlType::Q6_K) more.push_back(l);
  }
  EXPECT_EQ(more, (std::vector<int>{0, 3, 6, 9, 10, 11}));
  EXPECT_EQ(p[1].source_index, 0u);  // blk.0 was first in the input
}

TEST(Recipes, UserRecipeFile) {
  const auto j = nlohmann::json::parse(R"({"name": "mine", "base": "Q5_K", "rules": [
      {"tensor": "regex:blk\\.(0|1)\\.", "type": "Q8_0"},
      {"tensor": "ffn_down", "layers": "first:3", "type": "Q6_K"}]})");
  const Recipe r = parse_recipe(j, "mine.json");
  QuantOptions o;
  o.recipe = &r;
  const auto p = plan_quantization(llama31_8b(), kLlama8B, o);
  EXPECT_EQ(type_of(p, "blk.1.attn_q.weight"), GgmlType::Q8_0);
  EXPECT_EQ(type_of(p, "blk.1.ffn_down.weight"), GgmlType::Q8_0);  // first rule wins
  EXPECT_EQ(type_of(p, "blk.2.ffn_down.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type_of(p, "blk.3.ffn_down.weight"), GgmlType::Q5_K);
  EXPECT_EQ(type_of(p, "output.weight"), GgmlType::Q5_K);
  EXPECT_FALSE(r.file_type.has_value());
}

TEST(Recipes, BadRecipesAreExplained) {
  for (const char* text : {R"({"name": "x"})", R"({"name": "x", "base": "Q9_K"})",
                           R"({"name": "x", "base": "Q4_K", "rules": [{"tensor": "attn_z", "type": "Q4_K"}]})",
                           R"({"name": "x", "base": "Q4_K", "rules": [{"tensor": "regex:(", "type": "Q4_K"}]})",
                           R"({"name": "x", "base": "Q4_K", "rules": [{"tensor": "ffn_up", "layers": "odd", "type": "Q4_K"}]})",
                           R"({"name": "x", "base": "Q4_K", "rules": [{"tensor": "ffn_up", "when": ["moon"], "type": "Q4_K"}]})",
                           R"({"name": "x", "base": "IQ2_XXS"})", R"({"name": "x", "base": "Q8_K"})"}) {
    EXPECT_THROW(parse_recipe(nlohmann::json::parse(text), "r.json"), InputError) << text;
  }
}

// Tensor-name patterns come from downloaded recipes: each hostile shape ends in an InputError.
TEST(Recipes, NamePatternsSearchAndBoundTheirWork) {
  EXPECT_TRUE(NamePattern("blk\\.(0|1)\\.", "t").matches("blk.1.ffn_down.weight"));  // anywhere in the name
  EXPECT_FALSE(NamePattern("^ffn", "t").matches("blk.1.ffn_down.weight"));
  EXPECT_TRUE(NamePattern("weight$", "t").matches("blk.1.ffn_down.weight"));
  // std::regex's compiler overflowed a long on this count (fuzz/regressions/recipe).
  EXPECT_THROW(NamePattern("c{33333333333333333339}", "t"), InputError);
  EXPECT_THROW(NamePattern(std::string(kMaxNamePatternBytes + 1, 'a'), "t"), InputError);
  // Exponential backtracking: stopped by the step limit instead of running for hours.
  const NamePattern hostile("^(a|a|aa)*$", "t");
  EXPECT_THROW(hostile.matches(std::string(60, 'a') + "b"), InputError);
}

TEST(Recipes, EveryBuiltinFileTypeIsThere) {
  for (const char* name : {"Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_0", "Q4_1", "Q4_K_S", "Q4_K_M", "Q5_0", "Q5_1",
                           "Q5_K_S", "Q5_K_M", "Q6_K", "Q8_0", "F16", "BF16", "F32"}) {
    const Recipe* r = find_builtin_recipe(name);
    ASSERT_NE(r, nullptr) << name;
    EXPECT_TRUE(r->file_type.has_value()) << name;
  }
}

}  // namespace
}  // namespace lp
