#pragma once
// One file of a hub repository into the cache's blobs/: downloaded into <etag>.incomplete under
// the lock huggingface_hub also takes, resumed with a Range request after an interruption,
// checked (size, and the sha256 the hub lists for LFS files) and only then renamed into place.
#include <cstdint>
#include <optional>
#include <string>

#include "core/progress.h"
#include "formats/hub_cache.h"
#include "formats/hub_client.h"

namespace lp {

struct HubBlobRequest {
  std::string repo, file;              // for messages
  std::string url;                     // where the bytes are (after the hub's redirect)
  std::string etag;                    // the blob's name
  std::optional<uint64_t> size;        // expected length
  std::optional<std::string> sha256;   // expected hash (LFS files)
};

// Makes cache.blob(request.etag) exist with the right contents. InputError, one sentence, when
// it cannot: a corrupt download is deleted first, an interrupted one kept for the next run.
void fetch_hub_blob(HubClient& client, const HubCache& cache, const HubBlobRequest& request, Progress& progress);

}  // namespace lp
