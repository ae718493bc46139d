#pragma once
// The Hugging Face cache layout, shared bit for bit with huggingface_hub:
//   <cache>/models--org--name/blobs/<etag>                 file contents, named by ETag
//   <cache>/models--org--name/blobs/<etag>.incomplete      a download in progress (resumable)
//   <cache>/models--org--name/snapshots/<commit>/<file>    relative symlink ../../blobs/<etag>
//   <cache>/models--org--name/refs/<revision>              the commit a branch or tag named
//   <cache>/.locks/models--org--name/<etag>.lock           flock'd while a blob is written
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lp {

class HubCache {
 public:
  HubCache(std::filesystem::path root, std::string repo);

  const std::filesystem::path& repo_dir() const { return repo_dir_; }
  std::filesystem::path blob(const std::string& etag) const;
  std::filesystem::path incomplete_blob(const std::string& etag) const;
  std::filesystem::path lock_file(const std::string& etag) const;
  std::filesystem::path snapshot_dir(const std::string& commit) const;
  std::filesystem::path snapshot_file(const std::string& commit, const std::string& file) const;
  std::filesystem::path ref_file(const std::string& revision) const;

  // The commit `revision` stands for: itself when it is a commit hash, else what refs/ holds
  // (nullopt when the ref is missing or does not hold a commit hash).
  std::optional<std::string> commit_for(const std::string& revision) const;
  // Records that `revision` names `commit` (atomically; nothing for a commit hash).
  void write_ref(const std::string& revision, const std::string& commit) const;
  // Points snapshots/<commit>/<file> at blobs/<etag> with a relative symlink, replacing any
  // link already there in one rename.
  void link_snapshot(const std::string& commit, const std::string& file, const std::string& etag) const;
  // True when snapshots/<commit>/<file> exists and its target is there (a link to a blob that
  // was deleted does not count).
  bool has_snapshot_file(const std::string& commit, const std::string& file) const;
  // Every file of the snapshot, as repository paths ('/'-separated), sorted.
  std::vector<std::string> snapshot_files(const std::string& commit) const;

 private:
  std::filesystem::path root_;
  std::string folder_;  // models--org--name
  std::filesystem::path repo_dir_;
};

// "models--org--name" for "org/name", as huggingface_hub names a model repo's folder.
std::string hub_repo_folder_name(const std::string& repo);
// The name a model folder goes by in file names and records: a hub snapshot
// (.../models--org--name/snapshots/<commit>) by its repository's name, any other folder by its own.
std::string model_folder_name(const std::filesystem::path& dir);
// An ETag header as a blob name: W/ and quotes removed (huggingface_hub's _normalize_etag).
std::string normalize_etag(std::string etag);

}  // namespace lp
