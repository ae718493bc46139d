// The HTTP module (libllama-pajamas-http.so, see http_exchange.h): cpp-httplib serving every
// request through an HttpHandler. cpp-httplib (Debian's libcpp-httplib-dev) is a small,
// well-kept HTTP/1.1 server with keep-alive, chunked streaming with a write-failure signal
// (how a client that left is noticed), read timeouts against slow clients and a body-size
// limit; llama-server uses the same library.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "serve/http_exchange.h"

namespace lp::serve {
namespace {

HttpRequest exchange_request(const httplib::Request& req) {
  return {req.method, req.path, req.body, req.get_header_value("Authorization")};
}

// `streams` counts the chunked responses still being written (see HttplibListener::stop).
void send(const HttpResponse& answer, httplib::Response& res, std::atomic<int>& streams) {
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers) res.set_header(name, value);
  if (!answer.next_chunk) {
    res.set_content(answer.body, answer.content_type);
    return;
  }
  auto next = answer.next_chunk;
  auto abandoned = answer.abandoned;
  streams.fetch_add(1);
  res.set_chunked_content_provider(
      answer.content_type,
      [next, abandoned](size_t, httplib::DataSink& sink) {
        std::string bytes;
        const bool more = next(bytes);
        if (!bytes.empty() && !sink.write(bytes.data(), bytes.size())) {
          if (abandoned) abandoned();
          return false;
        }
        if (!more) sink.done();
        return true;
      },
      [abandoned, &streams](bool success) {
        if (!success && abandoned) abandoned();
        streams.fetch_sub(1);
      });
}

class HttplibListener final : public HttpListener {
 public:
  HttplibListener(const HttpListenerOptions& options, HttpHandler& handler) : options_(options), handler_(handler) {
    server_.set_payload_max_length(options.max_body_bytes);
    server_.set_read_timeout(options.read_timeout_seconds, 0);
    server_.set_write_timeout(options.read_timeout_seconds, 0);
    server_.set_keep_alive_max_count(1000);
    const size_t threads = options.threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    auto route = [this](const httplib::Request& req, httplib::Response& res) {
      send(handler_.handle(exchange_request(req)), res, streams_);
    };
    server_.Get(".*", route);
    server_.Post(".*", route);
    // Statuses the library sets itself (413, 400 on a malformed request, 405...).
    server_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      send(handler_.library_error(res.status, exchange_request(req)), res, streams_);
    });
    server_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      res.status = 500;
      res.set_content(R"({"error": {"message": "internal error", "type": "server_error", "code": 500}})", "application/json");
    });
  }

  int bind() override {
    if (options_.port == 0) return server_.bind_to_any_port(options_.host);
    return server_.bind_to_port(options_.host, options_.port) ? options_.port : -1;
  }
  void listen() override { server_.listen_after_bind(); }
  // cpp-httplib stops writing chunked content once the server is stopping, cutting a stream
  // before its last event and chunk: the streams running (which the engine, stopped first, has
  // just ended with an error event) get up to two seconds to finish first.
  void stop() override {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (streams_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server_.stop();
  }

 private:
  HttpListenerOptions options_;
  HttpHandler& handler_;
  std::atomic<int> streams_{0};
  httplib::Server server_;
};

}  // namespace
}  // namespace lp::serve

extern "C" __attribute__((visibility("default"))) lp::serve::HttpListener* lp_make_http_listener(
    const lp::serve::HttpListenerOptions& options, lp::serve::HttpHandler& handler) {
  try {
    return new lp::serve::HttplibListener(options, handler);
  } catch (...) {
    return nullptr;
  }
}
