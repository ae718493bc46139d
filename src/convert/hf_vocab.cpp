#include "convert/hf_vocab.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "formats/json_guard.h"
#include "tokenizer/tokenizer_load.h"
#include "tokenizer/tokenizer_summary.h"

namespace lp {
namespace {

// llama_token_type
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;
constexpr uint64_t kMaxVocab = uint64_t{1} << 22;  // 4M tokens: 16x the largest real vocabulary
constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // "▁", SentencePiece's space
constexpr float kAddedTokenScore = -1000.0f;            // as llama.cpp's converter scores added and padding tokens

// tokenizer_config.json's special token roles and the keys llama.cpp reads their ids from.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kSpecialKeys = {{
    {"bos", "tokenizer.ggml.bos_token_id"},
    {"eos", "tokenizer.ggml.eos_token_id"},
    {"unk", "tokenizer.ggml.unknown_token_id"},
    {"sep", "tokenizer.ggml.seperator_token_id"},  // sic
    {"pad", "tokenizer.ggml.padding_token_id"},
}};

// A member of a JSON object, or the fallback when it is missing or of another kind (nlohmann's
// value() would throw a type error on the latter).
std::string text_of(const nlohmann::json& j, const char* key, std::string_view fallback) {
  if (!j.is_object()) return std::string(fallback);
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}
bool flag_of(const nlohmann::json& j, const char* key, bool fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

bool is(const nlohmann::json& j, std::string_view type) { return j.is_object() && text_of(j, "type", "") == type; }

// llama.cpp knows a byte-level tokenizer's splitting by a name. Recognize the structures the
// families' tokenizer.json files use.
std::string pre_tokenizer_name(const nlohmann::json& tok, const std::string& source) {
  const auto& pre = tok.contains("pre_tokenizer") ? tok["pre_tokenizer"] : nlohmann::json();
  if (is(pre, "ByteLevel") && flag_of(pre, "use_regex", true)) return "gpt2";
  if (is(pre, "Sequence") && pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
    const auto& steps = pre["pretokenizers"];
    if (steps.size() == 2 && is(steps[0], "Digits") && flag_of(steps[0], "individual_digits", false) &&
        is(steps[1], "ByteLevel") && flag_of(steps[1], "use_regex", true)) {
      return "smollm";
    }
    if (steps.size() == 2 && is(steps[0], "Split") && is(steps[1], "ByteLevel") && !flag_of(steps[1], "use_regex", true) &&
        steps[0].contains("pattern") && steps[0]["pattern"].is_object() && steps[0]["pattern"].contains("Regex") && steps[0]["pattern"]["Regex"].is_string()) {
      const std::string regex = steps[0]["pattern"]["Regex"].get<std::string>();
      for (const char* name : {"llama-bpe", "qwen2", "gpt-4o"}) {
        const auto stages = gguf_pre_tokenizer(name)->stages;
        if (stages.size() == 2 && stages[0].pattern == regex) return name;
      }
    }
  }
  fail("{}: its pre-tokenizer is not one llama.cpp can name (known: GPT-2, SmolLM, Llama 3, Qwen2, GPT-4o/o200k)", source);
}

std::pair<std::string, std::string> merge_pair(const nlohmann::json& m, const std::string& source) {
  if (m.is_string()) {
    const std::string text = m.get<std::string>();
    const auto space = text.find(' ', 1);  // as llama.cpp splits them
    if (space != std::string::npos) return {text.substr(0, space), text.substr(space + 1)};
  } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
    return {m[0].get<std::string>(), m[1].get<std::string>()};
  }
  fail("{}: a merge is neither \"a b\" nor [\"a\", \"b\"]", source);
}

// Whether `j` is {"String": text} (tokenizers' literal pattern).
bool string_pattern(const nlohmann::json& j, std::string_view text) {
  return j.is_object() && j.contains("String") && j["String"].is_string() && j["String"].get<std::string>() == text;
}

// SentencePiece-style tokenizers turn spaces into "▁", in the normalizer (Gemma, Phi-3,
// Llama 2 "legacy") or the Metaspace pre-tokenizer (newer Llama 2 files); some also put one
// in front of the text. llama.cpp's "llama" tokenizer always does the first and does the
// second when tokenizer.ggml.add_space_prefix says so. Returns that flag, or InputError for a
// pipeline llama.cpp cannot reproduce.
bool sentencepiece_space_prefix(const nlohmann::json& tok, const std::string& source) {
  bool replaces_spaces = false, prefix = false;
  const auto& norm = tok.contains("normalizer") ? tok["normalizer"] : nlohmann::json();
  std::vector<nlohmann::json> steps;
  if (is(norm, "Sequence") && norm.contains("normalizers") && norm["normalizers"].is_array()) {
    steps.assign(norm["normalizers"].begin(), norm["normalizers"].end());
  } else if (!norm.is_null()) {
    steps.push_back(norm);
  }
  for (const auto& step : steps) {
    if (is(step, "Replace") && step.contains("pattern") && string_pattern(step["pattern"], " ") &&
        text_of(step, "content", "") == kMetaspace) {
      replaces_spaces = true;
    } else if (is(step, "Prepend") && text_of(step, "prepend", "") == kMetaspace && !replaces_spaces) {
      prefix = true;
    } else {
      fail("{}: its normalizer step {} has no equivalent in llama.cpp's SentencePiece tokenizer", source,
           text_of(step, "type", std::string("?")));
    }
  }
  const auto& pre = tok.contains("pre_tokenizer") ? tok["pre_tokenizer"] : nlohmann::json();
  if (is(pre, "Metaspace")) {
    if (text_of(pre, "replacement", std::string(kMetaspace)) != kMetaspace) {
      fail("{}: its Metaspace pre-tokenizer replaces spaces by something other than \"\xE2\x96\x81\"", source);
    }
    const std::string scheme =
        pre.contains("prepend_scheme") ? text_of(pre, "prepend_scheme", "always")
                                       : (flag_of(pre, "add_prefix_space", true) ? "always" : "never");
    replaces_spaces = true;
    prefix = prefix || scheme != "never";
  } else if (is(pre, "Split") && replaces_spaces && pre.contains("pattern") && string_pattern(pre["pattern"], " ")) {
    // Gemma: splitting on " " after the normalizer replaced every space splits nothing.
  } else if (!pre.is_null()) {
    fail("{}: its pre-tokenizer {} has no equivalent in llama.cpp's SentencePiece tokenizer", source,
         text_of(pre, "type", std::string("?")));
  }
  if (!replaces_spaces) fail("{}: a byte-fallback BPE tokenizer that does not write spaces as \"\xE2\x96\x81\"", source);
  return prefix;
}

// Whether the post-processor puts a special token before (first) or after (last) the text,
// as transformers does when tokenizer_config.json does not say.
std::optional<bool> template_adds(const nlohmann::json& tok, bool first) {
  const auto& post = tok.contains("post_processor") ? tok["post_processor"] : nlohmann::json();
  if (post.is_null()) return false;
  if (!is(post, "TemplateProcessing") || !post.contains("single") || !post["single"].is_array()) return std::nullopt;
  const auto& single = post["single"];
  if (single.empty()) return false;
  const auto& piece = first ? single.front() : single.back();
  return piece.is_object() && piece.contains("SpecialToken");
}

bool is_byte_token(std::string_view t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return t.size() == 6 && t.starts_with("<0x") && t.ends_with(">") && hex(t[3]) && hex(t[4]);
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;  // built anew: GCC 12 warns (-Wrestrict, falsely) on std::string::replace here
  for (size_t at = 0;;) {
    const size_t next = text.find(from, at);
    out.append(text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) return out;
    out.append(to);
    at = next + from.size();
  }
}

struct Vocabulary {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::vector<bool> filled;
};

}  // namespace

std::vector<GgufKeyValue> hf_vocab_to_gguf(const std::filesystem::path& dir, uint64_t vocab_size) {
  const auto path = dir / "tokenizer.json";
  const std::string source = path.string();
  if (!std::filesystem::exists(path)) fail("{} has no tokenizer.json to convert", dir.string());
  if (vocab_size == 0 || vocab_size > kMaxVocab) fail("{}: a vocabulary of {} tokens cannot be converted", dir.string(), vocab_size);
  const auto tok = read_json_file(source);
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) fail("{} has no model section", source);
  const auto& model = tok["model"];
  if (text_of(model, "type", "") != "BPE") {
    fail("{}: only BPE tokenizers (byte-level, or SentencePiece-style with byte fallback) can be converted, not {}",
         source, text_of(model, "type", std::string("an unnamed model")));
  }
  const bool sentencepiece = model.contains("byte_fallback") && model["byte_fallback"].is_boolean() &&
                             model["byte_fallback"].get<bool>();
  // Checked before anything is built, so a tokenizer we cannot express costs nothing.
  const std::string pre = sentencepiece ? "default" : pre_tokenizer_name(tok, source);
  const bool space_prefix = sentencepiece && sentencepiece_space_prefix(tok, source);

  Vocabulary v{std::vector<std::string>(vocab_size), std::vector<int32_t>(vocab_size, kUnused),
               std::vector<float>(vocab_size, kAddedTokenScore), std::vector<bool>(vocab_size, false)};
  auto place = [&](int64_t id, std::string text, int32_t type, float score) {
    if (id < 0 || static_cast<uint64_t>(id) >= vocab_size) {
      fail("{}: token id {} is outside the model's vocabulary of {}", source, id, vocab_size);
    }
    v.tokens[id] = std::move(text);
    v.types[id] = type;
    v.scores[id] = score;
    v.filled[id] = true;
  };
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("{}: the BPE model has no vocabulary", source);

  std::vector<GgufValue> merges;
  std::unordered_map<std::string, float> merged_score;  // SentencePiece: a token's score is minus its first merge's rank
  if (model.contains("merges") && model["merges"].is_array()) {
    const auto& list = model["merges"];
    if (list.size() > kMaxVocab * 4) fail("{}: {} merges is more than a vocabulary needs", source, list.size());
    for (size_t rank = 0; rank < list.size(); ++rank) {
      auto [left, right] = merge_pair(list[rank], source);
      if (sentencepiece) {
        merged_score.try_emplace(left + right, -static_cast<float>(rank));
      } else {
        merges.emplace_back(left + " " + right);
      }
    }
  }
  const std::string unk = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "";
  // Tokens no merge makes (single characters, bytes) never win a merge in llama.cpp; scored below every merge.
  const float unmerged_score = -static_cast<float>(merged_score.size() + 1);
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer()) fail("{}: token '{}' has no integer id", source, text);
    if (!sentencepiece) {
      place(id.get<int64_t>(), text, kNormal, 0.0f);
    } else if (!unk.empty() && text == unk) {
      place(id.get<int64_t>(), text, kUnknown, 0.0f);
    } else if (is_byte_token(text)) {
      place(id.get<int64_t>(), text, kByte, 0.0f);
    } else {
      const auto merged = merged_score.find(text);
      place(id.get<int64_t>(), text, kNormal, merged == merged_score.end() ? unmerged_score : merged->second);
    }
  }
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const auto& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string()) {
        fail("{}: an added token has no integer id and text", source);
      }
      std::string text = a["content"].get<std::string>();
      const int64_t id = a["id"].get<int64_t>();
      if (flag_of(a, "special", false)) {
        const bool unknown = sentencepiece && text == unk;
        place(id, text, unknown ? kUnknown : kControl, unknown ? 0.0f : kAddedTokenScore);
      } else {
        // llama.cpp matches user-defined tokens in the raw text, where a SentencePiece
        // tokenizer's normalized "▁" is still a space.
        if (sentencepiece && flag_of(a, "normalized", true)) text = replace_all(text, kMetaspace, " ");
        place(id, text, kUserDefined, kAddedTokenScore);
      }
    }
  }
  std::unordered_map<std::string_view, uint64_t> seen;
  for (uint64_t id = 0; id < vocab_size; ++id) {
    if (!v.filled[id]) v.tokens[id] = fmt::format("[PAD{}]", id);  // as llama.cpp's converter pads
    if (v.tokens[id].empty()) fail("{}: token {} is empty", source, id);
    // llama.cpp maps each text to one id and refuses a file where two share one.
    if (const auto [it, fresh] = seen.emplace(v.tokens[id], id); !fresh) {
      fail("{}: tokens {} and {} are both '{}'", source, it->second, id, v.tokens[id]);
    }
  }

  std::vector<GgufKeyValue> kv = {
      {"tokenizer.ggml.model", GgufValue(sentencepiece ? "llama" : "gpt2")},
      {"tokenizer.ggml.pre", GgufValue(pre)},
      {"tokenizer.ggml.tokens", GgufValue::string_array(v.tokens)},
  };
  if (sentencepiece) {
    std::vector<GgufValue> scores(v.scores.begin(), v.scores.end());
    kv.push_back({"tokenizer.ggml.scores", GgufValue::array(GgufValueType::FLOAT32, std::move(scores))});
  }
  std::vector<GgufValue> type_values(v.types.begin(), v.types.end());
  kv.push_back({"tokenizer.ggml.token_type", GgufValue::array(GgufValueType::INT32, std::move(type_values))});
  if (sentencepiece) {
    kv.push_back({"tokenizer.ggml.add_space_prefix", GgufValue(space_prefix)});
  } else {
    kv.push_back({"tokenizer.ggml.merges", GgufValue::array(GgufValueType::STRING, std::move(merges))});
  }

  // Special tokens by the texts tokenizer_config.json names, resolved to ids.
  std::optional<bool> add_bos = template_adds(tok, true), add_eos = template_adds(tok, false);
  bool has_unk = false;
  if (const auto summary = tokenizer_summary_from_hf(dir)) {
    for (const auto& s : summary->special) {
      const auto key = std::ranges::find(kSpecialKeys, s.role, &std::pair<std::string_view, std::string_view>::first);
      if (s.id >= 0 && key != kSpecialKeys.end()) {
        kv.push_back({std::string(key->second), GgufValue(static_cast<uint32_t>(s.id))});
        has_unk = has_unk || s.role == "unk";
      }
    }
    if (summary->add_bos) add_bos = summary->add_bos;
    if (summary->add_eos) add_eos = summary->add_eos;
    if (summary->chat_template) kv.push_back({"tokenizer.chat_template", GgufValue(*summary->chat_template)});
  }
  if (!has_unk && !unk.empty()) {  // else llama.cpp assumes id 0
    for (uint64_t id = 0; id < vocab_size; ++id) {
      if (v.tokens[id] == unk) kv.push_back({"tokenizer.ggml.unknown_token_id", GgufValue(static_cast<uint32_t>(id))});
    }
  }
  if (add_bos) kv.push_back({"tokenizer.ggml.add_bos_token", GgufValue(*add_bos)});
  if (add_eos) kv.push_back({"tokenizer.ggml.add_eos_token", GgufValue(*add_eos)});
  return kv;
}

}  // namespace lp
