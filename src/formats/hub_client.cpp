#include "formats/hub_client.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/text.h"
#include "formats/hub_curl.h"
#include "version.h"

namespace lp {

namespace {

constexpr int kMaxHubRedirects = 10;
// An error page or a redirect's body: anything longer is not what we asked for.
constexpr size_t kMaxErrorBody = 64 * 1024;

// "scheme://host:port" of a URL, lowercased: redirects within it keep the token.
std::string url_origin(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  const size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  return ascii_lower(url.substr(0, host_end));
}

struct TransferState {
  HubResponse* response = nullptr;
  size_t max_body = 0;
  bool body_too_long = false;
  // Downloads only: the file, and what to do with its bytes.
  CURL* curl = nullptr;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;      // of the file so far
  uint64_t max_length = 0;  // a file longer than this is not the one we asked for
  bool restarted = false;
  int write_errno = 0;
  const std::function<void()>* on_restart = nullptr;
  const std::function<void(std::string_view)>* on_data = nullptr;
};

size_t hub_header_callback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    state->response->headers.clear();  // a new response (after a redirect or a 100 Continue)
  } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    const size_t start = value.find_first_not_of(" \t");
    value = start == std::string::npos ? std::string() : value.substr(start);
    state->response->headers[ascii_lower(line.substr(0, colon))] = value;
  }
  return size * count;
}

size_t hub_body_callback(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const size_t n = size * count;
  long status = 0;
  if (state->fd >= 0) curl_api().easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &status);
  if (state->fd < 0 || status < 200 || status >= 300) {
    if (state->response->body.size() + n > state->max_body) {
      state->body_too_long = true;
      return 0;
    }
    state->response->body.append(data, n);
    return n;
  }
  if (status == 200 && state->offset > 0 && !state->restarted) {
    // The server sent the whole file, not the range: start the partial file over.
    state->restarted = true;
    if (::ftruncate(state->fd, 0) != 0 || ::lseek(state->fd, 0, SEEK_SET) != 0) {
      state->write_errno = errno;
      return 0;
    }
    state->length = 0;
    (*state->on_restart)();
  }
  // One byte past the expected length is enough to know the file is wrong; more is not written.
  if (state->length + n > state->max_length + 1) {
    state->body_too_long = true;
    return 0;
  }
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(state->fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      state->write_errno = errno;
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  state->length += n;
  (*state->on_data)(std::string_view(data, n));
  return n;
}

// Failures while the body was flowing: the bytes so far are good and the rest can be asked for.
bool is_resumable(CURLcode code) {
  return code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR || code == CURLE_OPERATION_TIMEDOUT ||
         code == CURLE_GOT_NOTHING || code == CURLE_SEND_ERROR || code == CURLE_HTTP2 || code == CURLE_HTTP2_STREAM;
}

}  // namespace

const std::string* HubResponse::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? nullptr : &it->second;
}

std::string url_encode_path(const std::string& text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string resolve_url(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  const std::string origin = url_origin(base);
  if (!location.empty() && location.front() == '/') return origin + location;
  const size_t last_slash = base.rfind('/');
  return base.substr(0, last_slash + 1) + location;
}

HubClient::HubClient(const HubSettings& settings) : settings_(settings) {
  curl_ = curl_api().easy_init();
  if (curl_ == nullptr) fail("cannot start an HTTP client (libcurl failed to initialise)");
}

HubClient::~HubClient() {
  if (header_list_ != nullptr) curl_api().slist_free_all(static_cast<curl_slist*>(header_list_));
  curl_api().easy_cleanup(static_cast<CURL*>(curl_));
}

bool HubClient::is_hub_url(const std::string& url) const { return url_origin(url) == url_origin(settings_.endpoint); }

void* HubClient::prepare(const std::string& url, bool with_token) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_api().easy_reset(curl);
  if (header_list_ != nullptr) {
    curl_api().slist_free_all(static_cast<curl_slist*>(header_list_));
    header_list_ = nullptr;
  }
  curl_slist* headers = nullptr;
  // The size in the headers must be the file's, not a compressed transfer's.
  headers = curl_api().slist_append(headers, "Accept-Encoding: identity");
  if (with_token && settings_.token) headers = curl_api().slist_append(headers, ("Authorization: Bearer " + *settings_.token).c_str());
  header_list_ = headers;
  curl_api().easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_api().easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_api().easy_setopt(curl, CURLOPT_USERAGENT, (std::string("llama-pajamas/") + kVersion).c_str());
  curl_api().easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_api().easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, settings_.timeout_s);
  // A transfer that stalls (under 1 byte/s) for the timeout is given up, and resumed if it can be.
  curl_api().easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_api().easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(settings_.timeout_s, 10L));
  // Only HTTP(S), redirects included: a hostile redirect to file:// or another scheme is refused.
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85 named the protocols; older releases take a bit mask
  curl_api().easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_api().easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_api().easy_setopt(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_api().easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_api().easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_api().easy_setopt(curl, CURLOPT_HEADERFUNCTION, hub_header_callback);
  curl_api().easy_setopt(curl, CURLOPT_WRITEFUNCTION, hub_body_callback);
  return curl;
}

HubResponse HubClient::fetch(const std::string& method, const std::string& url, size_t max_body) {
  std::string current = url;
  for (int hop = 0; hop <= kMaxHubRedirects; ++hop) {
    HubResponse response;
    TransferState state;
    state.response = &response;
    state.max_body = max_body;
    auto* curl = static_cast<CURL*>(prepare(current, is_hub_url(current)));
    curl_api().easy_setopt(curl, CURLOPT_HEADERDATA, &state);
    curl_api().easy_setopt(curl, CURLOPT_WRITEDATA, &state);
    if (method == "HEAD") curl_api().easy_setopt(curl, CURLOPT_NOBODY, 1L);
    // The whole answer may take as long as a stall is allowed to, a few times over.
    curl_api().easy_setopt(curl, CURLOPT_TIMEOUT, settings_.timeout_s * 6);
    const CURLcode code = curl_api().easy_perform(curl);
    if (state.body_too_long) fail("the hub's answer to {} is longer than {} bytes, more than a model's description", current, max_body);
    if (code != CURLE_OK) throw HubNetworkError(fmt::format("{} ({})", curl_api().easy_strerror(code), current), false);
    curl_api().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    response.url = current;
    const std::string* location = response.header("location");
    if (response.status < 300 || response.status >= 400 || location == nullptr) return response;
    const std::string next = resolve_url(current, *location);
    // Off the hub (a CDN), the redirect itself carries the file's metadata: stop there.
    if (!is_hub_url(next)) return response;
    current = next;
  }
  fail("the hub redirected {} more than {} times", url, kMaxHubRedirects);
}

HubResponse HubClient::download(const std::string& url, uint64_t offset, uint64_t max_length, int fd,
                                const std::function<void()>& on_restart,
                                const std::function<void(std::string_view)>& on_data) {
  HubResponse response;
  TransferState state;
  state.response = &response;
  state.max_body = kMaxErrorBody;
  state.fd = fd;
  state.offset = offset;
  state.length = offset;
  state.max_length = max_length;
  state.on_restart = &on_restart;
  state.on_data = &on_data;
  // curl drops the Authorization header when a redirect leaves the host it was set for.
  auto* curl = static_cast<CURL*>(prepare(url, is_hub_url(url)));
  state.curl = curl;
  curl_api().easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_api().easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_api().easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_api().easy_setopt(curl, CURLOPT_MAXREDIRS, static_cast<long>(kMaxHubRedirects));
  const std::string range = fmt::format("{}-", offset);
  if (offset > 0) curl_api().easy_setopt(curl, CURLOPT_RANGE, range.c_str());
  const CURLcode code = curl_api().easy_perform(curl);
  curl_api().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* effective = nullptr;
  curl_api().easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  response.url = effective != nullptr ? effective : url;
  if (state.write_errno != 0) {
    fail("cannot write the download of {}: {}", url, std::error_code(state.write_errno, std::generic_category()).message());
  }
  // A body cut off for its length is the caller's to judge (an error page, or a file too long).
  if (code != CURLE_OK && !state.body_too_long) {
    throw HubNetworkError(fmt::format("{} ({})", curl_api().easy_strerror(code), url), is_resumable(code));
  }
  return response;
}

}  // namespace lp
