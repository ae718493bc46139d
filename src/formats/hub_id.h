#pragma once
// A Hugging Face hub model id as a user types it: `org/repo`, optionally `@revision` (a branch,
// tag or commit) and `:file` (one file of the repo, e.g. a .gguf). Also the checks every name
// that comes from the hub must pass before it becomes a path on disk.
#include <optional>
#include <string>
#include <string_view>

namespace lp {

struct HubId {
  std::string repo;                 // "org/name"
  std::string revision = "main";    // branch, tag or commit hash
  std::string file;                 // empty: the whole model
};

// nullopt when `text` does not have the shape of a hub id (so it is taken as a local path);
// a value only when every part is a name the hub allows and that is safe as a path, and the
// repository's name does not end like a file (.gguf, .safetensors, .json, ...).
std::optional<HubId> parse_hub_id(std::string_view text);

// A repository file name the hub reported: relative, '/'-separated, no "." or ".." parts, no
// empty parts, printable characters only, at most 512 bytes. Such names become paths under the
// cache, so anything else is refused.
bool is_safe_repo_file(std::string_view path);

// A revision (branch or tag; may hold '/', as refs/pr/1 does) that is safe as a path under refs/.
bool is_safe_revision(std::string_view revision);

// An ETag (the name of a blob in the cache): letters, digits, '-', '_', '.', at most 128 bytes.
bool is_safe_etag(std::string_view etag);

// A commit hash as the hub writes it: 40 lowercase hex digits.
bool is_commit_hash(std::string_view text);

}  // namespace lp
