#pragma once
// What the hub says a repository holds at a revision (its API's JSON), and which of those files
// a model argument needs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/hub_id.h"

namespace lp {

struct HubRepoFile {
  std::string path;                   // repository path, already checked by is_safe_repo_file
  std::optional<uint64_t> size;
  std::optional<std::string> sha256;  // LFS files: the hash of the contents
};

struct HubListing {
  std::string commit;
  std::vector<HubRepoFile> files;
};

// Parses GET /api/models/{repo}/revision/{rev}?blobs=true. Files whose names are not safe as
// paths are left out (they are never downloaded); InputError naming `source` when the text is
// not such a response (no commit, too many files, wrong types).
HubListing parse_hub_listing(std::string_view json, const std::string& source);

struct HubSelection {
  std::vector<std::string> files;  // what to fetch, repository paths
  std::string model_file;          // the .gguf (first part of a split) the argument names; empty: the folder
};

// The files a model argument needs out of `available` (a listing, or a cached snapshot):
// `id.file` (and the other parts of its split), else the files matching `include`, else for a
// safetensors repo its weights, config, tokenizer and template files (no .bin/.pt/.h5/onnx
// weights), else the repo's only GGUF model. InputError, one sentence listing the choices,
// when the argument is ambiguous or names nothing there.
HubSelection select_hub_files(const std::vector<std::string>& available, const HubId& id,
                              const std::vector<std::string>& include);

}  // namespace lp
