// A tokenizer from a Hugging Face tokenizer.json: the BPE model and the pipeline components
// the supported families use. Anything else is refused by name rather than approximated.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/json_guard.h"
#include "tokenizer/tokenizer_load.h"

namespace lp {
namespace {

using nlohmann::json;

// How far past the vocabulary's size an id may lie. Real files number their tokens densely;
// ids far beyond would have us allocate a table entry for every id in between.
constexpr size_t kMaxIdGap = size_t{1} << 20;

struct Reader {
  std::string source;

  [[noreturn]] void unsupported(std::string_view what, std::string_view name) const {
    fail("{} uses {} \"{}\", which is not supported", source, what, name);
  }
  // j[key], or null when j is not an object or lacks it: a const json's operator[] on a
  // missing key reads past the map, so nothing from the file is indexed unchecked.
  static const json& member(const json& j, const char* key) {
    static const json null_value;
    if (!j.is_object()) return null_value;
    const auto it = j.find(key);
    return it == j.end() ? null_value : *it;
  }
  std::string type_of(const json& j, std::string_view what) const {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) fail("{} has a {} without a type", source, what);
    return j["type"].get<std::string>();
  }
  std::string string_field(const json& j, const char* key, std::string fallback = {}) const {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_string()) fail("{} has \"{}\" that is not a string", source, key);
    return it->get<std::string>();
  }
  bool bool_field(const json& j, const char* key, bool fallback) const {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail("{} has \"{}\" that is not true or false", source, key);
    return it->get<bool>();
  }
  size_t size_field(const json& j, const char* key) const {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) fail("{} has \"{}\" that is not a count", source, key);
    return it->get<size_t>();
  }
  // A {"String": ...} or {"Regex": ...} pattern as a regex source.
  std::string pattern_of(const json& j) const {
    if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) return j["Regex"].get<std::string>();
    if (j.is_object() && j.contains("String") && j["String"].is_string()) {
      std::string quoted;
      for (const char c : j["String"].get<std::string>()) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) quoted += '\\';
        quoted += c;
      }
      return quoted;
    }
    fail("{} has a pattern that is neither a String nor a Regex", source);
  }
  std::string literal_of(const json& j, std::string_view what) const {
    if (j.is_object() && j.contains("String") && j["String"].is_string()) return j["String"].get<std::string>();
    unsupported(what, "Regex pattern");
  }

  void normalizer(const json& j, std::vector<NormalizerStep>& out) const {
    if (j.is_null()) return;
    const std::string type = type_of(j, "normalizer");
    if (type == "Sequence") {
      for (const json& step : j.value("normalizers", json::array())) normalizer(step, out);
    } else if (type == "Replace") {
      out.push_back({NormalizerStep::Kind::Replace, literal_of(member(j, "pattern"), "a Replace normalizer with a"),
                     string_field(j, "content")});
    } else if (type == "Prepend") {
      out.push_back({NormalizerStep::Kind::Prepend, {}, string_field(j, "prepend")});
    } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
      const UnicodeForm form = type == "NFC" ? UnicodeForm::NFC : type == "NFD" ? UnicodeForm::NFD
                               : type == "NFKC" ? UnicodeForm::NFKC : UnicodeForm::NFKD;
      out.push_back({.kind = NormalizerStep::Kind::Unicode, .form = form});
    } else {
      unsupported("normalizer", type);
    }
  }

  PrependScheme prepend_scheme(const json& j) const {
    const std::string scheme = string_field(j, "prepend_scheme");
    if (scheme.empty()) return bool_field(j, "add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
    if (scheme == "always") return PrependScheme::Always;
    if (scheme == "first") return PrependScheme::First;
    if (scheme == "never") return PrependScheme::Never;
    unsupported("Metaspace prepend_scheme", scheme);
  }

  SplitBehavior behavior(const json& j, const char* fallback) const {
    const std::string name = string_field(j, "behavior", fallback);
    if (name == "Isolated") return SplitBehavior::Isolated;
    if (name == "Removed") return SplitBehavior::Removed;
    if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (name == "Contiguous") return SplitBehavior::Contiguous;
    unsupported("split behavior", name);
  }

  void pre_tokenizer(const json& j, std::vector<PreTokenizerStep>& out) const {
    if (j.is_null()) return;
    const std::string type = type_of(j, "pre_tokenizer");
    if (type == "Sequence") {
      for (const json& step : j.value("pretokenizers", json::array())) pre_tokenizer(step, out);
    } else if (type == "Split") {
      out.push_back(split_step(pattern_of(member(j, "pattern")), behavior(j, "Isolated"), bool_field(j, "invert", false), source));
    } else if (type == "Digits") {
      out.push_back(digits_step(bool_field(j, "individual_digits", false), source));
    } else if (type == "Punctuation") {
      out.push_back(punctuation_step(behavior(j, "Isolated"), source));
    } else if (type == "ByteLevel") {
      out.push_back(byte_level_step(bool_field(j, "add_prefix_space", true), bool_field(j, "use_regex", true), source));
    } else if (type == "Metaspace") {
      PreTokenizerStep s{.kind = PreTokenizerStep::Kind::Metaspace};
      s.replacement = string_field(j, "replacement", "\xE2\x96\x81");
      s.prepend = prepend_scheme(j);
      s.split = bool_field(j, "split", true);
      out.push_back(std::move(s));
    } else {
      unsupported("pre-tokenizer", type);
    }
  }

  void decoder(const json& j, std::vector<DecoderStep>& out) const {
    const std::string type = type_of(j, "decoder");
    if (type == "Sequence") {
      for (const json& step : j.value("decoders", json::array())) decoder(step, out);
    } else if (type == "ByteLevel") {
      out.push_back({.kind = DecoderStep::Kind::ByteLevel});
    } else if (type == "Replace") {
      out.push_back({.kind = DecoderStep::Kind::Replace, .pattern = literal_of(member(j, "pattern"), "a Replace decoder with a"),
                     .content = string_field(j, "content")});
    } else if (type == "ByteFallback") {
      out.push_back({.kind = DecoderStep::Kind::ByteFallback});
    } else if (type == "Fuse") {
      out.push_back({.kind = DecoderStep::Kind::Fuse});
    } else if (type == "Strip") {
      out.push_back({.kind = DecoderStep::Kind::Strip, .content = string_field(j, "content", " "),
                     .start = size_field(j, "start"), .stop = size_field(j, "stop")});
    } else if (type == "Metaspace") {
      out.push_back({.kind = DecoderStep::Kind::Metaspace, .pattern = string_field(j, "replacement", "\xE2\x96\x81"),
                     .prepend = prepend_scheme(j)});
    } else {
      unsupported("decoder", type);
    }
  }

  // TemplateProcessing's single-sequence template: special tokens before and after the text.
  void post_processor(const json& j, TokenizerPipeline& p) const {
    if (j.is_null()) return;
    const std::string type = type_of(j, "post_processor");
    if (type == "Sequence") {
      for (const json& step : j.value("processors", json::array())) post_processor(step, p);
    } else if (type == "ByteLevel") {
      // Only adjusts offsets; the ids are untouched.
    } else if (type == "TemplateProcessing") {
      bool after = false;
      for (const json& item : j.value("single", json::array())) {
        if (item.contains("Sequence")) {
          after = true;
        } else if (item.contains("SpecialToken")) {
          const std::string name = string_field(item["SpecialToken"], "id");
          const json& specials = j.value("special_tokens", json::object());
          if (!specials.contains(name)) fail("{} has a post-processor template naming unknown token \"{}\"", source, name);
          for (const json& id : specials[name].value("ids", json::array())) {
            if (!id.is_number_unsigned()) fail("{} has a post-processor token id that is not a count", source);
            (after ? p.suffix_ids : p.prefix_ids).push_back(id.get<int32_t>());
          }
        }
      }
    } else {
      unsupported("post-processor", type);
    }
  }

  BpeModel model(const json& j) const {
    const std::string type = type_of(j, "model");
    if (type != "BPE") unsupported("tokenizer model", type);
    if (!string_field(j, "continuing_subword_prefix").empty() || !string_field(j, "end_of_word_suffix").empty())
      unsupported("BPE option", "continuing_subword_prefix/end_of_word_suffix");
    if (j.contains("dropout") && !j["dropout"].is_null()) unsupported("BPE option", "dropout");
    const json& vocab = j.value("vocab", json::object());
    if (!vocab.is_object()) fail("{} has a BPE vocab that is not an object", source);
    std::vector<std::string> tokens(vocab.size());
    for (const auto& [text, id] : vocab.items()) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() >= (1ull << 31)) fail("{} has a vocab id for \"{}\" that is not a token id", source, text);
      const auto i = id.get<size_t>();
      if (i >= tokens.size() + kMaxIdGap) fail("{} has a vocab id {} far past its {} tokens", source, i, vocab.size());
      if (i >= tokens.size()) tokens.resize(i + 1);
      tokens[i] = text;
    }
    BpeModel m(std::move(tokens));
    int32_t rank = 0;
    for (const json& merge : j.value("merges", json::array())) {
      std::string left, right;
      if (merge.is_string()) {
        const std::string s = merge.get<std::string>();
        const size_t space = s.find(' ');
        if (space == std::string::npos) fail("{} has merge {} without a space between its two tokens", source, rank);
        left = s.substr(0, space), right = s.substr(space + 1);
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
        left = merge[0].get<std::string>(), right = merge[1].get<std::string>();
      } else {
        fail("{} has merge {} that is neither \"a b\" nor [a, b]", source, rank);
      }
      const int32_t l = m.find(left), r = m.find(right), merged = m.find(left + right);
      if (l < 0 || r < 0 || merged < 0) fail("{} has merge {} of tokens missing from its vocabulary", source, rank);
      m.add_merge(l, r, rank++, merged);
    }
    const std::string unk = string_field(j, "unk_token");
    if (!unk.empty()) {
      const int32_t id = m.find(unk);
      if (id < 0) fail("{} names unknown token \"{}\", which is not in its vocabulary", source, unk);
      m.set_unknown(id, bool_field(j, "fuse_unk", false));
    }
    m.set_byte_fallback(bool_field(j, "byte_fallback", false));
    m.set_ignore_merges(bool_field(j, "ignore_merges", false));
    return m;
  }
};

Tokenizer read_tokenizer(const json& j, const std::string& source) {
  const Reader r{source};
  if (!j.is_object() || !j.contains("model")) fail("{} is not a tokenizer.json: it has no \"model\"", r.source);
  BpeModel model = r.model(j["model"]);
  std::vector<AddedToken> added;
  for (const json& t : j.value("added_tokens", json::array())) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_unsigned() ||
        t["id"].get<uint64_t>() >= model.vocab().size() + kMaxIdGap)
      fail("{} has an added token without a valid id", r.source);
    if (r.bool_field(t, "single_word", false)) r.unsupported("added-token option", "single_word");
    added.push_back({.content = r.string_field(t, "content"), .id = t["id"].get<int32_t>(),
                     .special = r.bool_field(t, "special", false), .normalized = r.bool_field(t, "normalized", true),
                     .lstrip = r.bool_field(t, "lstrip", false), .rstrip = r.bool_field(t, "rstrip", false)});
  }
  TokenizerPipeline p;
  r.normalizer(j.value("normalizer", json()), p.normalizer);
  r.pre_tokenizer(j.value("pre_tokenizer", json()), p.pre_tokenizer);
  if (j.contains("decoder") && !j["decoder"].is_null()) {
    p.decoder.emplace();
    r.decoder(j["decoder"], *p.decoder);
  }
  r.post_processor(j.value("post_processor", json()), p);
  return Tokenizer(r.source, std::move(model), std::move(added), std::move(p));
}

}  // namespace

Tokenizer load_tokenizer_from_json(const std::filesystem::path& path) {
  return tokenizer_from_json(read_json_file(path.string()), path.string());
}

Tokenizer load_tokenizer_from_json_text(std::string_view text, const std::string& source) {
  return tokenizer_from_json(parse_untrusted_json(text, source), source);
}

Tokenizer tokenizer_from_json(const nlohmann::json& j, const std::string& source) {
  try {
    return read_tokenizer(j, source);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong JSON type somewhere the reader does not check one by one.
    fail("{} is not a tokenizer.json we can read: {}", source, e.what());
  }
}

Tokenizer load_tokenizer(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    const auto file = path / "tokenizer.json";
    if (!std::filesystem::exists(file, ec)) fail("{} has no tokenizer.json", path.string());
    return load_tokenizer_from_json(file);
  }
  if (!std::filesystem::exists(path, ec)) fail("{} does not exist", path.string());
  if (path.extension() == ".json") return load_tokenizer_from_json(path);
  const GgufModel model = GgufModel::open(path);
  return load_tokenizer_from_gguf(model, path.string());
}

}  // namespace lp
