#include "tokenizer/tokenizer_summary.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf_reader.h"
#include "formats/json_guard.h"

namespace lp {
namespace {

constexpr std::array<std::string_view, 8> kSpecialRoles = {"bos", "eos", "eot", "eom", "unk", "sep", "pad", "mask"};
constexpr int32_t kGgufTokenTypeControl = 3;  // llama_token_type: 1 normal, 2 unknown, 3 control, 4 user-defined, ...

// tokenizer_config.json writes a special token as a string or as {"content": "..."}.
std::optional<std::string> token_text(const nlohmann::json& config, const std::string& key) {
  const auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) return (*it)["content"].get<std::string>();
  return std::nullopt;
}

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  const MappedFile file = MappedFile::open(path);
  return std::string(reinterpret_cast<const char*>(file.bytes().data()), file.size());
}

}  // namespace

TokenizerSummary tokenizer_summary_from_gguf(const GgufModel& model) {
  TokenizerSummary t;
  auto string_key = [&](const char* key) -> std::optional<std::string> {
    const GgufValue* v = model.find(key);
    if (v == nullptr || v->as_string() == nullptr) return std::nullopt;
    return *v->as_string();
  };
  t.model = string_key("tokenizer.ggml.model").value_or("");
  t.pre_tokenizer = string_key("tokenizer.ggml.pre").value_or("");
  t.chat_template = string_key("tokenizer.chat_template");
  const GgufArray* tokens = nullptr;
  if (const GgufValue* v = model.find("tokenizer.ggml.tokens")) tokens = v->as_array();
  if (tokens != nullptr) t.vocab_size = tokens->items.size();
  if (const GgufValue* v = model.find("tokenizer.ggml.merges"); v && v->as_array()) t.merges = v->as_array()->items.size();
  if (const GgufValue* v = model.find("tokenizer.ggml.token_type"); v && v->as_array()) {
    t.control_tokens = std::ranges::count_if(v->as_array()->items,
                                             [](const GgufValue& x) { return x.as_int() == kGgufTokenTypeControl; });
  }
  for (const auto role : kSpecialRoles) {
    // llama.cpp's key names: unknown_token_id, seperator_token_id (sic), padding_token_id.
    const std::string_view name = role == "unk" ? "unknown" : role == "sep" ? "seperator" : role == "pad" ? "padding" : role;
    const GgufValue* v = model.find("tokenizer.ggml." + std::string(name) + "_token_id");
    if (v == nullptr || !v->as_int()) continue;
    SpecialToken s{std::string(role), *v->as_int(), ""};
    if (tokens != nullptr && s.id >= 0 && static_cast<uint64_t>(s.id) < tokens->items.size()) {
      if (const auto* text = tokens->items[s.id].as_string()) s.text = *text;
    }
    t.special.push_back(std::move(s));
  }
  if (const GgufValue* v = model.find("tokenizer.ggml.add_bos_token")) t.add_bos = v->as_bool();
  if (const GgufValue* v = model.find("tokenizer.ggml.add_eos_token")) t.add_eos = v->as_bool();
  return t;
}

std::optional<TokenizerSummary> tokenizer_summary_from_hf(const std::filesystem::path& dir) {
  const auto tokenizer_path = dir / "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path)) return std::nullopt;
  const auto tok = read_json_file(tokenizer_path.string());
  const std::string source = tokenizer_path.string();
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) {
    fail("{} has no tokenizer model section", source);
  }
  const auto& model = tok["model"];
  TokenizerSummary t;
  // Members of the wrong kind read as missing (nlohmann's value() would throw a type error).
  auto text_of = [](const nlohmann::json& j, const char* key, const char* fallback) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
  };
  t.model = text_of(model, "type", "unknown");
  if (tok.contains("pre_tokenizer") && tok["pre_tokenizer"].is_object()) {
    t.pre_tokenizer = text_of(tok["pre_tokenizer"], "type", "");
  }

  std::unordered_map<std::string, int64_t> ids;  // token text -> id, to resolve tokenizer_config's texts
  int64_t max_id = -1;
  if (const auto vocab = model.find("vocab"); vocab != model.end()) {
    if (vocab->is_object()) {  // BPE, WordPiece: {"piece": id}
      for (const auto& [piece, id] : vocab->items()) {
        if (!id.is_number_integer()) fail("{}: vocabulary entry '{}' has no integer id", source, piece);
        ids.emplace(piece, id.get<int64_t>());
        max_id = std::max(max_id, id.get<int64_t>());
      }
    } else if (vocab->is_array()) {  // Unigram: [["piece", score], ...], the id is the position
      int64_t id = 0;
      for (const auto& entry : *vocab) {
        if (entry.is_array() && !entry.empty() && entry[0].is_string()) ids.emplace(entry[0].get<std::string>(), id);
        max_id = id++;
      }
    }
  }
  if (const auto merges = model.find("merges"); merges != model.end() && merges->is_array()) t.merges = merges->size();
  if (const auto added = tok.find("added_tokens"); added != tok.end() && added->is_array()) {
    for (const auto& a : *added) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer()) continue;
      const int64_t id = a["id"].get<int64_t>();
      max_id = std::max(max_id, id);
      if (a.contains("content") && a["content"].is_string()) ids[a["content"].get<std::string>()] = id;
      if (a.contains("special") && a["special"].is_boolean() && a["special"].get<bool>()) ++t.control_tokens;
    }
  }
  t.vocab_size = static_cast<uint64_t>(max_id + 1);

  const auto config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    const auto config = read_json_file(config_path.string());
    for (const auto role : kSpecialRoles) {
      const auto text = token_text(config, std::string(role) + "_token");
      if (!text) continue;
      const auto it = ids.find(*text);
      t.special.push_back({std::string(role), it == ids.end() ? -1 : it->second, *text});
    }
    if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) t.add_bos = config["add_bos_token"].get<bool>();
    if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean()) t.add_eos = config["add_eos_token"].get<bool>();
    if (const auto tmpl = config.find("chat_template"); tmpl != config.end()) {
      if (tmpl->is_string()) {
        t.chat_template = tmpl->get<std::string>();
      } else if (tmpl->is_array()) {  // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
        for (const auto& named : *tmpl) {
          if (named.is_object() && text_of(named, "name", "") == "default" && named.contains("template") &&
              named["template"].is_string()) {
            t.chat_template = named["template"].get<std::string>();
          }
        }
      }
    }
  }
  if (!t.chat_template) t.chat_template = read_text_file(dir / "chat_template.jinja");  // transformers >= 4.49
  return t;
}

nlohmann::json tokenizer_summary_to_json(const TokenizerSummary& t) {
  nlohmann::json special = nlohmann::json::array();
  for (const auto& s : t.special) special.push_back({{"role", s.role}, {"id", s.id}, {"text", s.text}});
  nlohmann::json j = {
      {"model", t.model},
      {"pre_tokenizer", t.pre_tokenizer},
      {"vocab_size", t.vocab_size},
      {"merges", t.merges},
      {"control_tokens", t.control_tokens},
      {"special_tokens", special},
      {"chat_template", t.chat_template.has_value()},
      {"chat_template_bytes", t.chat_template ? t.chat_template->size() : 0},
  };
  if (t.add_bos) j["add_bos"] = *t.add_bos;
  if (t.add_eos) j["add_eos"] = *t.add_eos;
  return j;
}

}  // namespace lp
