#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/float_convert.h"
#include "formats/json_guard.h"
#include "model/hf_checkpoint.h"
#include "model/model_summary.h"
#include "support/safetensors_builder.h"
#include "temp_dir.h"

namespace lp {
namespace {

using testing::TempDir;

ModelHParams load(const std::string& fixture) {
  const std::string path = std::string(LP_FIXTURES_DIR) + "/hf_configs/" + fixture;
  return hparams_from_hf_config(read_json_file(path), path);
}

// Values checked by hand against each model's published config.json.
TEST(HfConfig, SmolLM2) {
  const auto h = load("smollm2-135m-instruct.json");
  EXPECT_EQ(h.architecture, "llama");
  EXPECT_EQ(h.vocab_size, 49152u);
  EXPECT_EQ(h.block_count, 30u);
  EXPECT_EQ(h.embedding_length, 576u);
  EXPECT_EQ(h.head_count, 9u);
  EXPECT_EQ(h.head_count_kv, 3u);
  EXPECT_EQ(h.key_length, 64u);
  EXPECT_EQ(h.feed_forward_length, 1536u);
  EXPECT_EQ(h.context_length, 8192u);
  EXPECT_DOUBLE_EQ(h.rope_freq_base, 100000.0);
  EXPECT_DOUBLE_EQ(h.norm_eps, 1e-5);
  EXPECT_TRUE(h.tied_embeddings);
  EXPECT_EQ(h.rope_scaling.type, "none");
  EXPECT_EQ(h.eos_token_ids, std::vector<int64_t>{2});
}

TEST(HfConfig, Llama32WithLlama3RopeScaling) {
  const auto h = load("llama-3.2-1b.json");
  EXPECT_EQ(h.architecture, "llama");
  EXPECT_EQ(h.key_length, 64u);
  EXPECT_EQ(h.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(h.rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(h.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(h.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(h.rope_scaling.original_context_length, 8192u);
  EXPECT_EQ(h.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
}

TEST(HfConfig, Qwen25IgnoresUnusedSlidingWindow) {
  const auto h = load("qwen2.5-1.5b-instruct.json");
  EXPECT_EQ(h.architecture, "qwen2");
  EXPECT_TRUE(h.info->qkv_bias);
  EXPECT_EQ(h.head_count_kv, 2u);
  EXPECT_EQ(h.key_length, 128u);
  EXPECT_EQ(h.sliding_window, 0u);
  EXPECT_DOUBLE_EQ(h.rope_freq_base, 1e6);
}

TEST(HfConfig, Qwen3HasExplicitHeadDim) {
  const auto h = load("qwen3-0.6b.json");
  EXPECT_EQ(h.architecture, "qwen3");
  EXPECT_TRUE(h.info->qk_norm);
  EXPECT_EQ(h.key_length, 128u);  // not 1024 / 16
  EXPECT_EQ(h.sliding_window, 0u);
}

TEST(HfConfig, Qwen3Moe) {
  const auto h = load("qwen3-30b-a3b.json");
  EXPECT_EQ(h.architecture, "qwen3moe");
  EXPECT_EQ(h.expert_count, 128u);
  EXPECT_EQ(h.expert_used_count, 8u);
  EXPECT_EQ(h.expert_feed_forward_length, 768u);
  EXPECT_FALSE(h.tied_embeddings);
}

TEST(HfConfig, Gemma3Text) {
  const auto h = load("gemma-3-270m.json");
  EXPECT_EQ(h.architecture, "gemma3");
  EXPECT_EQ(h.key_length, 256u);
  EXPECT_EQ(h.head_count_kv, 1u);
  EXPECT_EQ(h.sliding_window, 512u);
  EXPECT_EQ(h.sliding_window_pattern, 6u);
  EXPECT_DOUBLE_EQ(*h.rope_freq_base_local, 10000.0);
  EXPECT_TRUE(h.tied_embeddings);  // the Gemma 3 default: the file does not say
  EXPECT_FALSE(h.final_logit_softcapping.has_value());
}

TEST(HfConfig, Gemma3MultimodalUsesTextConfigAndDefaults) {
  const auto h = load("gemma-3-4b-it.json");
  EXPECT_EQ(h.architecture, "gemma3");
  EXPECT_EQ(h.embedding_length, 2560u);
  EXPECT_EQ(h.block_count, 34u);
  EXPECT_EQ(h.head_count, 8u);     // Gemma3TextConfig default
  EXPECT_EQ(h.head_count_kv, 4u);  // default
  EXPECT_EQ(h.vocab_size, 262208u);
  EXPECT_EQ(h.sliding_window, 1024u);
  EXPECT_EQ(h.rope_scaling.type, "linear");
  EXPECT_DOUBLE_EQ(h.rope_scaling.factor, 8.0);
  EXPECT_EQ(h.eos_token_ids, (std::vector<int64_t>{1, 106}));
}

TEST(HfConfig, Phi3) {
  const auto h = load("phi-3-mini-4k-instruct.json");
  EXPECT_EQ(h.architecture, "phi3");
  EXPECT_TRUE(h.info->fused_qkv);
  EXPECT_EQ(h.head_count_kv, 32u);
  EXPECT_EQ(h.sliding_window, 2047u);
  EXPECT_EQ(h.vocab_size, 32064u);
}

TEST(HfConfig, Phi3LongRope) {
  const auto h = load("phi-3-mini-128k-longrope.json");
  EXPECT_EQ(h.rope_scaling.type, "longrope");
  EXPECT_EQ(h.rope_scaling.original_context_length, 4096u);
  ASSERT_EQ(h.rope_scaling.long_factor.size(), 48u);  // one per rotary dimension pair (head dim 96)
  EXPECT_DOUBLE_EQ(h.rope_scaling.long_factor[2], 1.14);
  EXPECT_EQ(h.rope_scaling.short_factor.size(), 48u);
}

TEST(HfConfig, UnsupportedModelTypeIsNamedWithTheSupportedOnes) {
  try {
    load("mistral-unsupported.json");
    FAIL();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'mistral' is not supported"), std::string::npos) << m;
    EXPECT_NE(m.find("qwen3_moe"), std::string::npos) << m;
  }
}

TEST(HfConfig, BadValuesAreErrors) {
  const std::vector<std::string> configs = {
      R"({"model_type": "llama", "num_attention_heads": 8, "num_key_value_heads": 3})",
      R"({"model_type": "llama", "hidden_size": -5})",
      R"({"model_type": "llama", "num_hidden_layers": "many"})",
      R"({"model_type": "llama", "rope_scaling": [1]})",
      R"({"hidden_size": 5})",
      R"([])",
  };
  for (const auto& c : configs) EXPECT_THROW(hparams_from_hf_config(nlohmann::json::parse(c), "c.json"), InputError) << c;
}

void write_text(const std::filesystem::path& p, const std::string& s) { testing::write_bytes(p, {s.begin(), s.end()}); }

TEST(HfCheckpoint, LoadsConfigTokenizerGenerationAndWeights) {
  TempDir dir;
  write_text(dir / "config.json",
             R"({"model_type": "llama", "vocab_size": 8, "hidden_size": 4, "intermediate_size": 8, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "tie_word_embeddings": true, "eos_token_id": 2})");
  write_text(dir / "generation_config.json", R"({"eos_token_id": [2, 7], "temperature": 0.6, "top_p": 0.9, "do_sample": true})");
  write_text(dir / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "<s>": 3},
      "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel"},
      "added_tokens": [{"id": 7, "content": "<|end|>", "special": true}, {"id": 2, "content": "</s>", "special": true}]})");
  write_text(dir / "tokenizer_config.json", R"({"bos_token": "<s>", "eos_token": {"content": "<|end|>"},
      "add_bos_token": true, "chat_template": "{{ messages }}"})");
  std::vector<uint8_t> embd(8 * 4 * 2);
  testing::write_bytes(dir / "model.safetensors",
                       testing::build_safetensors({{"model.embed_tokens.weight", "BF16", {8, 4}, embd}}));

  const auto c = HfCheckpoint::open(dir.path());
  EXPECT_EQ(c.hparams().architecture, "llama");
  EXPECT_EQ(c.hparams().eos_token_ids, (std::vector<int64_t>{2, 7})) << "generation_config's stop tokens win";
  ASSERT_TRUE(c.generation().has_value());
  EXPECT_DOUBLE_EQ(*c.generation()->temperature, 0.6);
  ASSERT_TRUE(c.tokenizer().has_value());
  const auto& t = *c.tokenizer();
  EXPECT_EQ(t.model, "BPE");
  EXPECT_EQ(t.pre_tokenizer, "ByteLevel");
  EXPECT_EQ(t.vocab_size, 8u);
  EXPECT_EQ(t.merges, 1u);
  EXPECT_EQ(t.control_tokens, 2u);
  EXPECT_EQ(t.add_bos, true);
  EXPECT_EQ(t.chat_template, "{{ messages }}");
  ASSERT_EQ(t.special.size(), 2u);
  EXPECT_EQ(t.special[0].role, "bos");
  EXPECT_EQ(t.special[0].id, 3);
  EXPECT_EQ(t.special[1].role, "eos");
  EXPECT_EQ(t.special[1].id, 7);

  const auto s = summarize_model(dir.path());
  EXPECT_EQ(s.format, "huggingface");
  EXPECT_EQ(s.parameter_count, 32u);
  EXPECT_EQ(s.tensor_bytes, 64u);
  EXPECT_DOUBLE_EQ(s.bits_per_weight(), 16.0);
}

TEST(HfCheckpoint, MissingPiecesAreExplained) {
  TempDir dir;
  EXPECT_THROW(HfCheckpoint::open(dir / "nope"), InputError);
  EXPECT_THROW(HfCheckpoint::open(dir.path()), InputError);  // no config.json
  write_text(dir / "config.json", R"({"model_type": "qwen2", "vocab_size": 8, "hidden_size": 4, "intermediate_size": 8,
      "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2})");
  try {
    HfCheckpoint::open(dir.path());  // no weights
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no .safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lp
