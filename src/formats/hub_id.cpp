#include "formats/hub_id.h"

#include <cctype>

#include "core/text.h"

namespace lp {

namespace {

bool is_hub_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
}

// The hub's rule for an org or repo name: letters, digits, '-', '_', '.', not starting or ending
// with '-' or '.', no "--" or ".." (the cache uses "--" as its separator), at most 96 characters.
bool is_hub_name(std::string_view name) {
  if (name.empty() || name.size() > 96) return false;
  if (name.front() == '-' || name.front() == '.' || name.back() == '-' || name.back() == '.') return false;
  for (char c : name)
    if (!is_hub_name_char(c)) return false;
  return name.find("--") == std::string_view::npos && name.find("..") == std::string_view::npos;
}

// Each '/'-separated part is a plain name: not empty, not "." or "..".
bool has_only_plain_parts(std::string_view path) {
  size_t start = 0;
  while (true) {
    const size_t end = path.find('/', start);
    const std::string_view part = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

// "dir/model.gguf" is a missing local file far more often than a repository named so: a name
// ending in a model or data file's extension is not taken as a repository.
bool has_file_extension(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string ext = ascii_lower(std::string(name.substr(dot + 1)));
  for (const char* known : {"gguf", "safetensors", "json", "jsonl", "bin", "npy", "txt", "md", "jinja", "model"})
    if (ext == known) return true;
  return false;
}

}  // namespace

bool is_safe_repo_file(std::string_view path) {
  if (path.empty() || path.size() > 512) return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    // Printable ASCII and UTF-8 bytes; no control characters, backslashes or colons (which a
    // hub id uses as its separator).
    if (u < 0x20 || u == 0x7f || c == '\\' || c == ':') return false;
  }
  return has_only_plain_parts(path);
}

bool is_safe_revision(std::string_view revision) {
  if (revision.empty() || revision.size() > 255) return false;
  for (char c : revision)
    if (!is_hub_name_char(c) && c != '/') return false;
  return has_only_plain_parts(revision);
}

bool is_safe_etag(std::string_view etag) {
  if (etag.empty() || etag.size() > 128 || etag == "." || etag == "..") return false;
  for (char c : etag)
    if (!is_hub_name_char(c)) return false;
  return true;
}

bool is_commit_hash(std::string_view text) {
  if (text.size() != 40) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<HubId> parse_hub_id(std::string_view text) {
  HubId id;
  // The file comes last and may itself hold '@' or '/', so it is cut off first.
  if (const size_t colon = text.find(':'); colon != std::string_view::npos) {
    id.file = std::string(text.substr(colon + 1));
    text = text.substr(0, colon);
    if (!is_safe_repo_file(id.file)) return std::nullopt;
  }
  if (const size_t at = text.find('@'); at != std::string_view::npos) {
    id.revision = std::string(text.substr(at + 1));
    text = text.substr(0, at);
    if (!is_safe_revision(id.revision)) return std::nullopt;
  }
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  if (!is_hub_name(text.substr(0, slash)) || !is_hub_name(text.substr(slash + 1))) return std::nullopt;
  if (has_file_extension(text.substr(slash + 1))) return std::nullopt;
  id.repo = std::string(text);
  return id;
}

}  // namespace lp
