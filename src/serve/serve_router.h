#pragma once
// What `serve` answers, whatever carries the bytes (http_exchange.h): routes, the API-key
// check, request bodies into jobs for the batch scheduler, answers streamed as server-sent
// events (OpenAI) or NDJSON (Ollama), /health and /metrics.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "serve/api_request.h"
#include "serve/batch_scheduler.h"
#include "serve/http_exchange.h"
#include "serve/server_metrics.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace lp::serve {

// What the endpoints say about the model.
struct ServedModel {
  std::string name;  // what clients call it (--alias, or the file's name)
  std::string family, quantization, parameter_size;
  uint64_t size_bytes = 0;
  int64_t ctx_size = 0;  // per slot
  int64_t created = 0;   // Unix seconds (the file's modification time)
};

class ServeRouter final : public HttpHandler {
 public:
  // api_key non-empty: every endpoint but /health needs "Authorization: Bearer <key>".
  ServeRouter(ServedModel model, std::string api_key, const Tokenizer& tokenizer, std::optional<ChatTemplate> chat_template,
              BatchScheduler& scheduler);
  HttpResponse handle(const HttpRequest& request) override;
  HttpResponse library_error(int status, const HttpRequest& request) override;

 private:
  HttpResponse route(const HttpRequest& request);
  HttpResponse generate(Api api, const HttpRequest& request);
  HttpResponse model_lists(const HttpRequest& request);
  std::vector<int32_t> prompt_tokens(const ApiRequest& request);

  ServedModel model_;
  std::string api_key_;
  const Tokenizer& tokenizer_;
  std::optional<ChatTemplate> chat_template_;
  BatchScheduler& scheduler_;
  ServerMetrics metrics_;
  std::mutex tokenizer_mutex_;  // the tokenizer's word cache is not shared safely between threads
};

}  // namespace lp::serve
