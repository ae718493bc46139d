#include "formats/hub_listing.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>

#include <algorithm>
#include <map>

#include "core/error.h"
#include "formats/gguf_split_name.h"
#include "formats/json_guard.h"

namespace lp {

namespace {

// A listing this long is no model repository; the bound keeps a hostile answer from costing
// memory and time.
constexpr size_t kMaxHubFiles = 100000;

bool hub_name_ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_gguf(std::string_view name) { return hub_name_ends_with(name, ".gguf"); }

// A part of a split GGUF whose numbers make sense.
std::optional<GgufSplitName> gguf_split_name(const std::string& name) {
  auto s = parse_gguf_split_name(name);
  if (!s || s->part < 1 || s->count < 1 || s->part > s->count) return std::nullopt;
  return s;
}

// A model's name in a listing of choices: a split model by its first part.
std::string gguf_model_name(const std::string& name) {
  if (auto s = gguf_split_name(name)) return gguf_split_part_name(*s, 1);
  return name;
}

// The files of the GGUF model `name` belongs to (every part of a split), checked present.
std::vector<std::string> gguf_model_files(const std::string& name, const std::vector<std::string>& available,
                                          const HubId& id) {
  auto s = gguf_split_name(name);
  if (!s) return {name};
  std::vector<std::string> parts;
  for (uint32_t part = 1; part <= s->count; ++part) {
    std::string part_file = gguf_split_part_name(*s, part);
    if (std::find(available.begin(), available.end(), part_file) == available.end()) {
      fail("{} at revision {} has {} but not {}, the split's part {} of {}", id.repo, id.revision, name, part_file, part,
           s->count);
    }
    parts.push_back(std::move(part_file));
  }
  return parts;
}

std::string list_choices(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  constexpr size_t kShown = 20;
  std::string text;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > kShown) text += fmt::format(" and {} more", names.size() - kShown);
  return text;
}

// The GGUF models among `names` (split parts collapsed), projector files (mmproj) left out:
// they accompany a model rather than being one.
std::vector<std::string> gguf_models(const std::vector<std::string>& names) {
  std::vector<std::string> models;
  for (const auto& name : names) {
    if (!is_gguf(name)) continue;
    const std::string base = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    if (base.rfind("mmproj", 0) == 0) continue;
    models.push_back(gguf_model_name(name));
  }
  std::sort(models.begin(), models.end());
  models.erase(std::unique(models.begin(), models.end()), models.end());
  return models;
}

// The files a transformers checkpoint needs at the top of the repo: weights as safetensors,
// configuration, tokenizer and chat template. Other weight formats (.bin, .pt, .h5, .msgpack,
// onnx/) and sub-folders (original/, onnx/) are the same model again and are skipped.
bool is_checkpoint_file(const std::string& name) {
  if (name.find('/') != std::string::npos) return false;
  return hub_name_ends_with(name, ".safetensors") || hub_name_ends_with(name, ".json") || hub_name_ends_with(name, ".jinja") ||
         name == "tokenizer.model" || name == "merges.txt" || name == "vocab.txt";
}

}  // namespace

HubListing parse_hub_listing(std::string_view json, const std::string& source) {
  const nlohmann::json j = parse_untrusted_json(json, source);
  if (!j.is_object()) fail("{} is not a repository description (not a JSON object)", source);
  HubListing listing;
  const auto sha = j.find("sha");
  if (sha == j.end() || !sha->is_string() || !is_commit_hash(sha->get<std::string>())) {
    fail("{} names no commit (its \"sha\" is missing or not a commit hash)", source);
  }
  listing.commit = sha->get<std::string>();
  const auto siblings = j.find("siblings");
  if (siblings == j.end() || !siblings->is_array()) fail("{} lists no files (no \"siblings\" array)", source);
  if (siblings->size() > kMaxHubFiles) fail("{} lists {} files, more than the {} a model repository may have", source, siblings->size(), kMaxHubFiles);
  for (const auto& entry : *siblings) {
    if (!entry.is_object()) fail("{} has a file entry that is not an object", source);
    const auto name = entry.find("rfilename");
    if (name == entry.end() || !name->is_string()) fail("{} has a file entry without a name", source);
    HubRepoFile file;
    file.path = name->get<std::string>();
    if (!is_safe_repo_file(file.path)) continue;
    if (auto size = entry.find("size"); size != entry.end() && size->is_number_unsigned()) file.size = size->get<uint64_t>();
    if (auto lfs = entry.find("lfs"); lfs != entry.end() && lfs->is_object()) {
      if (auto hash = lfs->find("sha256"); hash != lfs->end() && hash->is_string()) {
        std::string text = hash->get<std::string>();
        const bool hex = text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
                           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
        if (!hex) fail("{} gives {} an sha256 that is not 64 hex digits", source, file.path);
        file.sha256 = std::move(text);
      }
      if (auto size = lfs->find("size"); size != lfs->end() && size->is_number_unsigned()) file.size = size->get<uint64_t>();
    }
    listing.files.push_back(std::move(file));
  }
  return listing;
}

HubSelection select_hub_files(const std::vector<std::string>& available, const HubId& id,
                              const std::vector<std::string>& include) {
  HubSelection selection;
  if (!id.file.empty()) {
    if (std::find(available.begin(), available.end(), id.file) == available.end()) {
      const auto models = gguf_models(available);
      fail("{} at revision {} has no file {}{}", id.repo, id.revision, id.file,
           models.empty() ? std::string() : fmt::format(" (its GGUF files: {})", list_choices(models)));
    }
    selection.files = is_gguf(id.file) ? gguf_model_files(id.file, available, id) : std::vector<std::string>{id.file};
    if (is_gguf(id.file)) selection.model_file = selection.files.front();
    return selection;
  }
  if (!include.empty()) {
    for (const auto& name : available) {
      for (const auto& pattern : include) {
        // Like huggingface_hub's allow_patterns (Python fnmatch): '*' also matches '/'.
        if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
          selection.files.push_back(name);
          break;
        }
      }
    }
    if (selection.files.empty()) {
      const auto models = gguf_models(available);
      fail("no file of {} at revision {} matches --include {}{}", id.repo, id.revision, fmt::join(include, " "),
           models.empty() ? std::string() : fmt::format(" (its GGUF files: {})", list_choices(models)));
    }
    const auto models = gguf_models(selection.files);
    if (models.size() > 1) {
      fail("--include {} matches {} GGUF models of {}: {}; narrow it to one", fmt::join(include, " "), models.size(),
           id.repo, list_choices(models));
    }
    if (models.size() == 1) {
      // The other parts of a split come too, whatever the pattern matched.
      for (auto& part : gguf_model_files(models.front(), available, id)) {
        if (std::find(selection.files.begin(), selection.files.end(), part) == selection.files.end()) selection.files.push_back(part);
      }
      selection.model_file = models.front();
    }
    return selection;
  }
  const bool has_safetensors = std::any_of(available.begin(), available.end(), [](const std::string& name) {
    return name.find('/') == std::string::npos && hub_name_ends_with(name, ".safetensors");
  });
  if (has_safetensors) {
    for (const auto& name : available)
      if (is_checkpoint_file(name)) selection.files.push_back(name);
    return selection;
  }
  const auto models = gguf_models(available);
  if (models.size() == 1) {
    selection.files = gguf_model_files(models.front(), available, id);
    selection.model_file = models.front();
    return selection;
  }
  if (models.empty()) {
    fail("{} at revision {} has neither .safetensors weights nor a .gguf file", id.repo, id.revision);
  }
  fail("{} holds {} GGUF models; name one as {}:FILE or pick with --include GLOB: {}", id.repo, models.size(), id.repo,
       list_choices(models));
}

}  // namespace lp
