#pragma once
// Turns a model argument into a local path: a path that exists stays as it is; a hub id
// (org/repo[@revision][:file]) becomes its snapshot in the Hugging Face cache, downloading the
// files that are missing (resumed, checked, written atomically), or, offline, what the cache has.
#include <filesystem>
#include <string>
#include <vector>

#include "formats/hub_id.h"
#include "formats/hub_settings.h"

namespace lp {

struct HubOptions {
  std::vector<std::string> include;  // --include globs: which files of the repo
};

// The local path for a command's model argument: `arg` itself when it exists on disk or does
// not look like a hub id; otherwise the snapshot folder (transformers checkpoint) or the .gguf
// file (first part of a split) in the cache, fetched with the environment's settings
// (HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN, HF_HUB_OFFLINE). InputError, one sentence, when
// the hub or the cache cannot provide it.
std::filesystem::path resolve_model_argument(const std::string& arg, const HubOptions& options);

// The same for a parsed id and explicit settings.
std::filesystem::path fetch_hub_model(const HubId& id, const HubOptions& options, const HubSettings& settings);

}  // namespace lp
