#pragma once
// The seam between `serve`'s logic and the HTTP library. The library (cpp-httplib, with the
// TLS and compression libraries it links) lives in a module of its own,
// libllama-pajamas-http.so, loaded only by `serve` (http_module.h): linked into the tool, its
// libraries would add ~4 MiB to the resident memory of every command, which the memory model
// counts as the process base. Only these types cross the seam: plain structs and virtual
// interfaces, so the module needs no symbol of the tool's.
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lp::serve {

struct HttpRequest {
  std::string method, path, body;
  std::string authorization;  // the Authorization header, or empty
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A streamed answer (body unused): called again and again, appends the next bytes to `out`
  // and returns true while more may come, false once the answer is complete.
  std::function<bool(std::string& out)> next_chunk;
  // Called when the client went away before a streamed answer was complete.
  std::function<void()> abandoned;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Every request (any method, any path).
  virtual HttpResponse handle(const HttpRequest& request) = 0;
  // A status the library decided itself (413 body too large, 400 unreadable request, ...).
  virtual HttpResponse library_error(int status, const HttpRequest& request) = 0;
};

struct HttpListenerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  size_t max_body_bytes = 4 << 20;
  int read_timeout_seconds = 10;  // a client that sends nothing for this long is dropped
  size_t threads = 16;            // connections served at once
};

class HttpListener {
 public:
  virtual ~HttpListener() = default;
  // Binds the socket; the port (the chosen one when options.port is 0), or -1.
  virtual int bind() = 0;
  // Serves until stop().
  virtual void listen() = 0;
  virtual void stop() = 0;
};

// The module's one exported function: a listener sending every request to `handler`.
using MakeHttpListenerFn = HttpListener* (*)(const HttpListenerOptions& options, HttpHandler& handler);
inline constexpr const char* kMakeHttpListenerSymbol = "lp_make_http_listener";
inline constexpr const char* kHttpModuleFile = "libllama-pajamas-http.so";

}  // namespace lp::serve
