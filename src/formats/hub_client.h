#pragma once
// HTTP to the hub with libcurl: one request at a time, no redirects followed behind our back
// where headers matter (HEAD /resolve carries the file's metadata on the redirect itself), the
// token only ever sent to the hub's own host, and transfer failures turned into HubNetworkError.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "formats/hub_settings.h"

namespace lp {

// The hub could not be talked to (no network, refused, reset, stalled). `resumable` marks
// failures in the middle of a body, worth retrying from where the file stopped.
class HubNetworkError : public InputError {
 public:
  HubNetworkError(const std::string& message, bool resumable) : InputError(message), resumable_(resumable) {}
  bool resumable() const { return resumable_; }

 private:
  bool resumable_;
};

struct HubResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // of the last response; names lowercased
  std::string body;                            // HEAD: empty; download: only an error's body
  std::string url;                             // the URL that answered (after redirects)

  const std::string* header(const std::string& lowercase_name) const;
};

class HubClient {
 public:
  explicit HubClient(const HubSettings& settings);
  ~HubClient();
  HubClient(const HubClient&) = delete;
  HubClient& operator=(const HubClient&) = delete;

  // HEAD or GET of `url`, following redirects only within the hub's host (a redirect elsewhere
  // is returned as it is). A body longer than `max_body` bytes is an InputError.
  HubResponse fetch(const std::string& method, const std::string& url, size_t max_body);

  // GET `url` (following every redirect), asking for the bytes from `offset` on when it is not 0
  // and appending what arrives to `fd`. If the server ignores the range (200), `on_restart` is
  // called and the file is truncated to start over. `on_data` sees each piece once it is written.
  // A body that would make the file longer than `max_length` is cut off there (the caller finds
  // it too long).
  HubResponse download(const std::string& url, uint64_t offset, uint64_t max_length, int fd,
                       const std::function<void()>& on_restart,
                       const std::function<void(std::string_view)>& on_data);

  bool has_token() const { return settings_.token.has_value(); }
  // The hub's base URL (no trailing '/').
  const std::string& endpoint() const { return settings_.endpoint; }

 private:
  bool is_hub_url(const std::string& url) const;
  void* prepare(const std::string& url, bool with_token);

  HubSettings settings_;
  void* curl_ = nullptr;
  void* header_list_ = nullptr;
};

// `text` percent-encoded for a URL path; '/' kept when `keep_slash`.
std::string url_encode_path(const std::string& text, bool keep_slash);
// `location` (absolute, or relative to `base`) as an absolute URL.
std::string resolve_url(const std::string& base, const std::string& location);

}  // namespace lp
