#include "formats/hub_cache.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <system_error>

#include "core/atomic_file.h"
#include "core/error.h"
#include "formats/hub_id.h"

namespace fs = std::filesystem;

namespace lp {

std::string hub_repo_folder_name(const std::string& repo) {
  std::string name = "models--";
  for (char c : repo) {
    if (c == '/') {
      name += "--";
    } else {
      name += c;
    }
  }
  return name;
}

std::string model_folder_name(const fs::path& dir) {
  fs::path normal = fs::absolute(dir).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();  // "dir/" names dir
  const fs::path snapshots = normal.parent_path();
  const std::string repo_folder = snapshots.parent_path().filename().string();
  if (snapshots.filename() == "snapshots" && repo_folder.rfind("models--", 0) == 0) {
    const size_t last = repo_folder.rfind("--");
    if (last >= 6 && last + 2 < repo_folder.size()) return repo_folder.substr(last + 2);
  }
  return normal.filename().string();
}

std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

HubCache::HubCache(fs::path root, std::string repo)
    : root_(std::move(root)), folder_(hub_repo_folder_name(repo)), repo_dir_(root_ / folder_) {}

fs::path HubCache::blob(const std::string& etag) const { return repo_dir_ / "blobs" / etag; }
fs::path HubCache::incomplete_blob(const std::string& etag) const { return repo_dir_ / "blobs" / (etag + ".incomplete"); }
fs::path HubCache::lock_file(const std::string& etag) const { return root_ / ".locks" / folder_ / (etag + ".lock"); }
fs::path HubCache::snapshot_dir(const std::string& commit) const { return repo_dir_ / "snapshots" / commit; }
fs::path HubCache::snapshot_file(const std::string& commit, const std::string& file) const {
  return snapshot_dir(commit) / fs::path(file);
}
fs::path HubCache::ref_file(const std::string& revision) const { return repo_dir_ / "refs" / fs::path(revision); }

std::optional<std::string> HubCache::commit_for(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  std::ifstream in(ref_file(revision));
  std::string commit;
  if (!in || !std::getline(in, commit)) return std::nullopt;
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void HubCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  const fs::path path = ref_file(revision);
  if (commit_for(revision) == commit) return;  // a read-only cache that is current stays untouched
  fs::create_directories(path.parent_path());
  write_file_atomically(path, commit);  // no newline: huggingface_hub reads the file whole
}

void HubCache::link_snapshot(const std::string& commit, const std::string& file, const std::string& etag) const {
  const fs::path link = snapshot_file(commit, file);
  fs::create_directories(link.parent_path());
  // Relative, as huggingface_hub makes it, so a moved cache keeps working.
  const fs::path target = blob(etag).lexically_relative(link.parent_path());
  std::random_device rd;
  const fs::path temporary = link.parent_path() / fmt::format(".{}.link-{:08x}", link.filename().string(), rd());
  if (::symlink(target.c_str(), temporary.c_str()) != 0) {
    fail("cannot create the link {} in the hub cache: {}", temporary.string(),
         std::error_code(errno, std::generic_category()).message());
  }
  std::error_code ec;
  fs::rename(temporary, link, ec);
  if (ec) {
    fs::remove(temporary, ec);
    fail("cannot create the link {} in the hub cache", link.string());
  }
}

bool HubCache::has_snapshot_file(const std::string& commit, const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(snapshot_file(commit, file), ec);  // follows the link to the blob
}

std::vector<std::string> HubCache::snapshot_files(const std::string& commit) const {
  std::vector<std::string> files;
  const fs::path dir = snapshot_dir(commit);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name.front() == '.') continue;  // our own link temporaries
    std::error_code type_ec;
    if (fs::is_regular_file(it->path(), type_ec)) files.push_back(it->path().lexically_relative(dir).generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace lp
