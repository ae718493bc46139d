#include "formats/hub_download.h"

#include <fmt/format.h>

#include <numeric>
#include <system_error>

#include "core/error.h"
#include "core/progress.h"
#include "formats/hub_blob.h"
#include "formats/hub_cache.h"
#include "formats/hub_client.h"
#include "formats/hub_listing.h"

namespace fs = std::filesystem;

namespace lp {

namespace {

// A model's description is a few kilobytes; a repository with thousands of files, a few MB.
constexpr size_t kMaxListingBytes = 16 * 1024 * 1024;

std::string hub_id_text(const HubId& id) {
  return id.revision == "main" ? id.repo : fmt::format("{}@{}", id.repo, id.revision);
}

fs::path selected_path(const HubCache& cache, const std::string& commit, const HubSelection& selection) {
  return selection.model_file.empty() ? cache.snapshot_dir(commit) : cache.snapshot_file(commit, selection.model_file);
}

// The model from the cache alone. `why` says why the hub was not asked, for the sentence that
// names what is missing.
fs::path cached_hub_model(const HubId& id, const HubOptions& options, const HubSettings& settings, const std::string& why) {
  const HubCache cache(settings.cache, id.repo);
  const auto commit = cache.commit_for(id.revision);
  if (!commit || !fs::is_directory(cache.snapshot_dir(*commit))) {
    fail("{}, and {} (revision {}) is neither a local path nor in the cache {}; run once with the hub reachable to "
         "download it", why, id.repo, id.revision, settings.cache.string());
  }
  HubSelection selection;
  try {
    selection = select_hub_files(cache.snapshot_files(*commit), id, options.include);
  } catch (const InputError& e) {
    fail("{} and in the cache {}: {}", why, settings.cache.string(), e.what());
  }
  for (const auto& file : selection.files) {
    if (!cache.has_snapshot_file(*commit, file)) {
      fail("{} and the cache {} lacks {} of {} at revision {}; run once with the hub reachable to download it", why,
           settings.cache.string(), file, id.repo, id.revision);
    }
  }
  return selected_path(cache, *commit, selection);
}

[[noreturn]] void fail_listing(const HubId& id, const HubSettings& settings, const HubResponse& response) {
  const std::string* code = response.header("x-error-code");
  if (code != nullptr && *code == "RevisionNotFound") {
    fail("the hub's repository {} has no revision {}", id.repo, id.revision);
  }
  if (response.status == 404 || (code != nullptr && *code == "RepoNotFound")) {
    fail("{} is neither a local path nor a model repository on the hub ({}){}", hub_id_text(id), settings.endpoint,
         settings.token ? "" : "; if it is private, set HF_TOKEN");
  }
  if (response.status == 401 || response.status == 403) {
    if (settings.token) {
      fail("the hub refused access to {} with the token in HF_TOKEN (HTTP {}): ask for access on its page", id.repo,
           response.status);
    }
    fail("the hub refused access to {} (HTTP {}): it is gated or private; set HF_TOKEN to a token with access", id.repo,
         response.status);
  }
  fail("the hub answered HTTP {} when asked for {}", response.status, hub_id_text(id));
}

// HEAD /{repo}/resolve/{commit}/{file}: where the bytes are and which blob they make.
HubBlobRequest locate_file(HubClient& client, const HubId& id, const std::string& commit, const HubRepoFile& file) {
  const std::string url =
      fmt::format("{}/{}/resolve/{}/{}", client.endpoint(), id.repo, commit, url_encode_path(file.path, true));
  const HubResponse head = client.fetch("HEAD", url, 0);
  if (head.status >= 400) {
    if ((head.status == 401 || head.status == 403) && client.has_token()) {
      fail("the hub refused {} of {} with the token in HF_TOKEN (HTTP {}): accept the repository's terms on its page, "
           "or use a token with access", file.path, id.repo, head.status);
    }
    if (head.status == 401 || head.status == 403) {
      fail("the hub refused {} of {} (HTTP {}): the repository is gated or private; set HF_TOKEN to a token with access",
           file.path, id.repo, head.status);
    }
    fail("the hub answered HTTP {} when asked for {} of {}", head.status, file.path, id.repo);
  }
  HubBlobRequest request;
  request.repo = id.repo;
  request.file = file.path;
  const std::string* linked_etag = head.header("x-linked-etag");
  const std::string* etag = linked_etag != nullptr ? linked_etag : head.header("etag");
  if (etag == nullptr) fail("the hub gave no ETag for {} of {}, so it cannot be cached", file.path, id.repo);
  request.etag = normalize_etag(*etag);
  if (!is_safe_etag(request.etag)) fail("the hub gave {} of {} an ETag that is not a safe file name", file.path, id.repo);
  if (const std::string* repo_commit = head.header("x-repo-commit"); repo_commit != nullptr && *repo_commit != commit) {
    fail("the hub served {} of {} from commit {}, not the {} it listed", file.path, id.repo, *repo_commit, commit);
  }
  const bool redirected = head.status >= 300 && head.status < 400 && head.header("location") != nullptr;
  request.url = redirected ? resolve_url(head.url, *head.header("location")) : head.url;
  const std::string* size_text = head.header("x-linked-size");
  if (size_text == nullptr && !redirected) size_text = head.header("content-length");
  if (size_text != nullptr) {
    try {
      request.size = std::stoull(*size_text);
    } catch (const std::exception&) {
      fail("the hub gave {} of {} a size that is not a number", file.path, id.repo);
    }
  } else {
    request.size = file.size;
  }
  // LFS files are named by their sha256; the listing says which it should be.
  request.sha256 = file.sha256;
  if (!request.sha256 && linked_etag != nullptr && request.etag.size() == 64) request.sha256 = request.etag;
  return request;
}

// A download that cannot fit is refused before it starts, not after filling the disk. (Bytes
// already in .incomplete files count as needed again: a small overestimate.)
void check_free_space(const fs::path& repo_dir, uint64_t needed, const std::string& what) {
  fs::create_directories(repo_dir);
  std::error_code ec;
  const fs::space_info space = fs::space(repo_dir, ec);
  if (ec || space.available >= needed) return;
  fail("{} needs {:.2f} GB in {} but only {:.2f} GB are free; make room or point HF_HUB_CACHE elsewhere", what,
       static_cast<double>(needed) / 1e9, repo_dir.parent_path().string(), static_cast<double>(space.available) / 1e9);
}

fs::path download_hub_model(const HubId& id, const HubOptions& options, const HubSettings& settings) {
  HubClient client(settings);
  const std::string listing_url = fmt::format("{}/api/models/{}/revision/{}?blobs=true", settings.endpoint, id.repo,
                                              url_encode_path(id.revision, false));
  HubResponse response;
  try {
    response = client.fetch("GET", listing_url, kMaxListingBytes);
  } catch (const HubNetworkError& e) {
    // No network: what the cache has still serves, as huggingface_hub does.
    return cached_hub_model(id, options, settings, fmt::format("the hub at {} cannot be reached ({})", settings.endpoint, e.what()));
  }
  if (response.status != 200) fail_listing(id, settings, response);
  const HubListing listing = parse_hub_listing(response.body, fmt::format("the hub's description of {}", hub_id_text(id)));
  std::vector<std::string> names;
  for (const auto& file : listing.files) names.push_back(file.path);
  const HubSelection selection = select_hub_files(names, id, options.include);

  const HubCache cache(settings.cache, id.repo);
  std::vector<const HubRepoFile*> missing;
  for (const auto& name : selection.files) {
    if (cache.has_snapshot_file(listing.commit, name)) continue;
    for (const auto& file : listing.files)
      if (file.path == name) missing.push_back(&file);
  }
  if (!missing.empty()) {
    const uint64_t total = std::accumulate(missing.begin(), missing.end(), uint64_t{0},
                                           [](uint64_t sum, const HubRepoFile* f) { return sum + f->size.value_or(0); });
    check_free_space(cache.repo_dir(), total, hub_id_text(id));
    Progress progress(id.repo, missing.size(), total, "files");
    try {
      for (const HubRepoFile* file : missing) {
        const HubBlobRequest request = locate_file(client, id, listing.commit, *file);
        fetch_hub_blob(client, cache, request, progress);
        cache.link_snapshot(listing.commit, file->path, request.etag);
        progress.advance(1, 0);
      }
    } catch (const HubNetworkError& e) {
      fail("the hub at {} stopped answering while {} was downloaded ({}); run the command again to resume", settings.endpoint,
           hub_id_text(id), e.what());
    }
    progress.finish();
  }
  // The ref goes last: offline runs trust refs/ to point at a complete snapshot.
  cache.write_ref(id.revision, listing.commit);
  return selected_path(cache, listing.commit, selection);
}

}  // namespace

fs::path fetch_hub_model(const HubId& id, const HubOptions& options, const HubSettings& settings) {
  if (settings.offline) return cached_hub_model(id, options, settings, "HF_HUB_OFFLINE is set");
  return download_hub_model(id, options, settings);
}

fs::path resolve_model_argument(const std::string& arg, const HubOptions& options) {
  std::error_code ec;
  if (fs::exists(arg, ec)) return arg;
  const auto id = parse_hub_id(arg);
  // Not an id: the command says the file is missing, as it always has. (An id whose org is a
  // folder here is still an id: a hub org named like a local folder must not silently stop
  // downloading, and a mistyped local path gets "neither a local path nor ..." from the hub.)
  if (!id) return arg;
  return fetch_hub_model(*id, options, hub_settings_from_environment());
}

}  // namespace lp
