#include "convert/hf_vocab.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/error.h"
#include "formats/json_guard.h"
#include "tokenizer/tokenizer_load.h"
#include "tokenizer/tokenizer_summary.h"

namespace lp {
namespace {

// llama_token_type
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

// llama.cpp knows a byte-level tokenizer's splitting by a name. Recognize the structures the
// families' tokenizer.json files use.
std::string pre_tokenizer_name(const nlohmann::json& tok, const std::string& source) {
  const auto& pre = tok.contains("pre_tokenizer") ? tok["pre_tokenizer"] : nlohmann::json();
  auto is = [](const nlohmann::json& j, std::string_view type) { return j.is_object() && j.value("type", "") == type; };
  if (is(pre, "ByteLevel") && pre.value("use_regex", true)) return "gpt2";
  if (is(pre, "Sequence") && pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
    const auto& steps = pre["pretokenizers"];
    if (steps.size() == 2 && is(steps[0], "Digits") && steps[0].value("individual_digits", false) &&
        is(steps[1], "ByteLevel") && steps[1].value("use_regex", true)) {
      return "smollm";
    }
    if (steps.size() == 2 && is(steps[0], "Split") && is(steps[1], "ByteLevel") && !steps[1].value("use_regex", true) &&
        steps[0].contains("pattern") && steps[0]["pattern"].is_object() && steps[0]["pattern"].contains("Regex")) {
      const std::string regex = steps[0]["pattern"]["Regex"].get<std::string>();
      for (const char* name : {"llama-bpe", "qwen2"}) {
        if (gguf_pre_tokenizer_pattern(name) == regex) return name;
      }
    }
  }
  fail("{}: its pre-tokenizer is not one llama.cpp can name (known: GPT-2, SmolLM, Llama 3, Qwen2)", source);
}

std::string merge_text(const nlohmann::json& m, const std::string& source) {
  if (m.is_string()) return m.get<std::string>();
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    return m[0].get<std::string>() + " " + m[1].get<std::string>();
  }
  fail("{}: a merge is neither \"a b\" nor [\"a\", \"b\"]", source);
}

}  // namespace

std::vector<GgufKeyValue> hf_vocab_to_gguf(const std::filesystem::path& dir, uint64_t vocab_size) {
  const auto path = dir / "tokenizer.json";
  const std::string source = path.string();
  if (!std::filesystem::exists(path)) fail("{} has no tokenizer.json to convert", dir.string());
  const auto tok = read_json_file(source);
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) fail("{} has no model section", source);
  const auto& model = tok["model"];
  if (model.value("type", "") != "BPE" || model.value("byte_fallback", false)) {
    fail("{}: only byte-level BPE tokenizers (GPT-2, Llama 3, Qwen, SmolLM2) can be converted; SentencePiece-style "
         "ones (Gemma, Llama 2, Phi-3) are not supported yet",
         source);
  }
  const std::string pre = pre_tokenizer_name(tok, source);

  std::vector<std::string> tokens(vocab_size);
  std::vector<int32_t> types(vocab_size, kUnused);
  std::vector<bool> filled(vocab_size, false);
  auto place = [&](int64_t id, const std::string& text, int32_t type) {
    if (id < 0 || static_cast<uint64_t>(id) >= vocab_size) {
      fail("{}: token id {} is outside the model's vocabulary of {}", source, id, vocab_size);
    }
    tokens[id] = text;
    types[id] = type;
    filled[id] = true;
  };
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("{}: the BPE model has no vocabulary", source);
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer()) fail("{}: token '{}' has no integer id", source, text);
    place(id.get<int64_t>(), text, kNormal);
  }
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const auto& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a.contains("content")) continue;
      place(a["id"].get<int64_t>(), a["content"].get<std::string>(), a.value("special", false) ? kControl : kUserDefined);
    }
  }
  for (uint64_t id = 0; id < vocab_size; ++id) {
    if (!filled[id]) tokens[id] = fmt::format("[PAD{}]", id);  // as llama.cpp's converter pads
  }
  std::vector<GgufValue> merges;
  if (model.contains("merges") && model["merges"].is_array()) {
    for (const auto& m : model["merges"]) merges.emplace_back(merge_text(m, source));
  }

  std::vector<GgufKeyValue> kv = {
      {"tokenizer.ggml.model", GgufValue("gpt2")},
      {"tokenizer.ggml.pre", GgufValue(pre)},
      {"tokenizer.ggml.tokens", GgufValue::string_array(tokens)},
  };
  std::vector<GgufValue> type_values(types.begin(), types.end());
  kv.push_back({"tokenizer.ggml.token_type", GgufValue::array(GgufValueType::INT32, std::move(type_values))});
  kv.push_back({"tokenizer.ggml.merges", GgufValue::array(GgufValueType::STRING, std::move(merges))});

  // Special tokens by the texts tokenizer_config.json names, resolved to ids.
  if (const auto summary = tokenizer_summary_from_hf(dir)) {
    for (const auto& s : summary->special) {
      if (s.id >= 0 && (s.role == "bos" || s.role == "eos" || s.role == "unk" || s.role == "pad" || s.role == "sep")) {
        kv.push_back({"tokenizer.ggml." + s.role + "_token_id", GgufValue(static_cast<uint32_t>(s.id))});
      }
    }
    if (summary->add_bos) kv.push_back({"tokenizer.ggml.add_bos_token", GgufValue(*summary->add_bos)});
    if (summary->add_eos) kv.push_back({"tokenizer.ggml.add_eos_token", GgufValue(*summary->add_eos)});
    if (summary->chat_template) kv.push_back({"tokenizer.chat_template", GgufValue(*summary->chat_template)});
  }
  return kv;
}

}  // namespace lp
