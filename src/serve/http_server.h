#pragma once
// The HTTP side of `serve`: routes, API-key check, request bodies into jobs for the batch
// scheduler, answers streamed as server-sent events (OpenAI) or NDJSON (Ollama). Built on
// cpp-httplib (Debian's libcpp-httplib-dev): a small, well-kept HTTP/1.1 server with
// keep-alive, chunked streaming with a write-failure signal (how a client that left is
// noticed), read timeouts against slow clients and a body-size limit, in one header's API;
// llama-server uses the same library.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "serve/api_request.h"
#include "serve/batch_scheduler.h"
#include "serve/server_metrics.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}

namespace lp::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::string api_key;  // non-empty: every endpoint but /health needs "Authorization: Bearer <key>"
  size_t max_body_bytes = 4 << 20;
  int read_timeout_seconds = 10;  // a client that sends nothing for this long is dropped
  size_t http_threads = 16;
};

// What the endpoints say about the model.
struct ServedModel {
  std::string name;  // what clients call it (--alias, or the file's name)
  std::string family, quantization, parameter_size, digest;
  uint64_t size_bytes = 0;
  int64_t ctx_size = 0;  // per slot
  int64_t created = 0;   // Unix seconds (the file's modification time)
};

class HttpServer {
 public:
  HttpServer(ServeOptions options, ServedModel model, const Tokenizer& tokenizer, std::optional<ChatTemplate> chat_template,
             BatchScheduler& scheduler);
  ~HttpServer();
  // Binds the socket; returns the port (the chosen one when options.port is 0). InputError
  // when the address cannot be bound.
  int bind();
  // Serves until stop().
  void listen();
  void stop();

 private:
  void routes();
  void generate(Api api, const httplib::Request& req, httplib::Response& res);
  std::vector<int32_t> prompt_tokens(const ApiRequest& request);

  ServeOptions options_;
  ServedModel model_;
  const Tokenizer& tokenizer_;
  std::optional<ChatTemplate> chat_template_;
  BatchScheduler& scheduler_;
  ServerMetrics metrics_;
  std::mutex tokenizer_mutex_;  // the tokenizer's word cache is not shared safely between threads
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace lp::serve
