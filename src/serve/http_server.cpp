#include "serve/http_server.h"

#include <httplib.h>

#include <chrono>
#include <random>

#include "core/error.h"
#include "serve/api_request.h"
#include "serve/api_response.h"
#include "version.h"

namespace lp::serve {
namespace {

using Reply = nlohmann::ordered_json;

std::string dump(const Reply& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// Errors in each API's shape: OpenAI's {"error": {...}}, Ollama's {"error": "..."}.
void send_error(httplib::Response& res, int status, const std::string& message, bool ollama) {
  res.status = status;
  Reply body;
  if (ollama) {
    body = {{"error", message}};
  } else {
    const char* type = status == 401 ? "authentication_error"
                       : status == 503 ? "unavailable_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    body = {{"error", {{"message", message}, {"type", type}, {"code", status}}}};
  }
  res.set_content(dump(body), "application/json");
}

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  return fmt::format("{}.{:06d}Z", buf, micros);
}

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}{:016x}", prefix, rng());
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

HttpServer::HttpServer(ServeOptions options, ServedModel model, const Tokenizer& tokenizer,
                       std::optional<ChatTemplate> chat_template, BatchScheduler& scheduler)
    : options_(std::move(options)), model_(std::move(model)), tokenizer_(tokenizer),
      chat_template_(std::move(chat_template)), scheduler_(scheduler), server_(std::make_unique<httplib::Server>()) {
  routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  const int port = options_.port == 0 ? server_->bind_to_any_port(options_.host)
                                      : (server_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port < 0) fail("cannot listen on {}:{} (in use, or not an address of this machine)", options_.host, options_.port);
  return port;
}

void HttpServer::listen() { server_->listen_after_bind(); }
void HttpServer::stop() { server_->stop(); }

std::vector<int32_t> HttpServer::prompt_tokens(const ApiRequest& r) {
  std::string text;
  bool add_special = true;
  if (r.prompt) {
    text = *r.prompt;
  } else {
    if (!chat_template_) throw ApiError(400, "this model has no chat template; send a plain prompt to /v1/completions");
    ChatRequest chat;
    chat.messages = r.messages;
    try {
      text = render_chat_template(*chat_template_, chat);
    } catch (const InputError& e) {
      throw ApiError(400, fmt::format("the chat template refused the messages: {}", e.what()));
    }
    add_special = false;  // the template writes BOS where the model wants it
  }
  std::lock_guard lock(tokenizer_mutex_);
  return tokenizer_.encode(text, add_special);
}

void HttpServer::routes() {
  httplib::Server& s = *server_;
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(options_.read_timeout_seconds, 0);
  s.set_write_timeout(options_.read_timeout_seconds, 0);
  s.set_keep_alive_max_count(1000);
  const size_t threads = options_.http_threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  // The API key, checked before any route; /health stays open for load balancers.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (options_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + options_.api_key) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, 401, "a valid API key is required: send 'Authorization: Bearer <key>'", req.path.rfind("/api/", 0) == 0);
    metrics_.count_request(req.path, 401);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses the library sets itself (404, 405, 413, 400 on a malformed request) get a JSON body.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message = res.status == 404   ? fmt::format("no endpoint {} {}", req.method, req.path)
                                : res.status == 413 ? std::string("the request body is too large")
                                                    : fmt::format("HTTP {}", res.status);
    send_error(res, res.status, message, req.path.rfind("/api/", 0) == 0);
  });
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
    }
    send_error(res, 500, message, req.path.rfind("/api/", 0) == 0);
  });

  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump({{"status", "ok"},
                          {"slots_idle", scheduler_.slots() - scheduler_.busy_slots()},
                          {"slots_processing", scheduler_.busy_slots()},
                          {"queued", scheduler_.queued()}}),
                    "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(scheduler_), "text/plain; version=0.0.4");
  });
  auto models = [this](const httplib::Request& req, httplib::Response& res) {
    res.set_content(dump({{"object", "list"},
                          {"data", Reply::array({{{"id", model_.name},
                                                 {"object", "model"},
                                                 {"created", model_.created},
                                                 {"owned_by", "llama-pajamas"},
                                                 {"meta", {{"n_ctx", model_.ctx_size}, {"size", model_.size_bytes}}}}})}}),
                    "application/json");
    metrics_.count_request(req.path, 200);
  };
  s.Get("/v1/models", models);
  s.Get("/models", models);
  s.Get("/api/tags", [this](const httplib::Request& req, httplib::Response& res) {
    const Reply details = {{"format", "gguf"},
                          {"family", model_.family},
                          {"families", Reply::array({model_.family})},
                          {"parameter_size", model_.parameter_size},
                          {"quantization_level", model_.quantization}};
    res.set_content(dump({{"models", Reply::array({{{"name", model_.name},
                                                   {"model", model_.name},
                                                   {"modified_at", rfc3339_now()},
                                                   {"size", model_.size_bytes},
                                                   {"digest", model_.digest},
                                                   {"details", details}}})}}),
                    "application/json");
    metrics_.count_request(req.path, 200);
  });
  s.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump({{"version", kVersion}}), "application/json");
  });

  const std::pair<const char*, Api> endpoints[] = {{"/v1/chat/completions", Api::openai_chat},
                                                   {"/chat/completions", Api::openai_chat},
                                                   {"/v1/completions", Api::openai_completions},
                                                   {"/completions", Api::openai_completions},
                                                   {"/api/chat", Api::ollama_chat},
                                                   {"/api/generate", Api::ollama_generate}};
  for (const auto& [path, api] : endpoints) {
    s.Post(path, [this, api = api](const httplib::Request& req, httplib::Response& res) { generate(api, req, res); });
  }
}

void HttpServer::generate(Api api, const httplib::Request& req, httplib::Response& res) {
  const auto arrived = std::chrono::steady_clock::now();
  const bool ollama = is_ollama(api);
  ApiRequest request;
  std::shared_ptr<Job> job;
  try {
    request = parse_api_request(api, req.body);
    std::vector<int32_t> prompt = prompt_tokens(request);
    if (prompt.empty()) throw ApiError(400, "the prompt is empty");
    if (static_cast<int64_t>(prompt.size()) >= model_.ctx_size) {
      throw ApiError(400, fmt::format("the prompt has {} tokens and the context holds {}", prompt.size(), model_.ctx_size));
    }
    if (request.generation.max_new_tokens > model_.ctx_size) {
      throw ApiError(400, fmt::format("{} tokens to generate exceed the context of {}", request.generation.max_new_tokens,
                                      model_.ctx_size));
    }
    if (!request.seed_given) request.generation.sampling.seed = std::random_device{}();
    job = std::make_shared<Job>(std::move(prompt), request.generation, request.cache_prompt);
    if (!scheduler_.submit(job)) {
      res.set_header("Retry-After", "1");
      throw ApiError(503, "the server is busy: every slot is generating and the queue is full; retry shortly");
    }
  } catch (const ApiError& e) {
    send_error(res, e.status(), e.what(), ollama);
    metrics_.count_request(req.path, e.status());
    return;
  }

  ResponseContext context;
  context.id = random_id(api == Api::openai_chat ? "chatcmpl-" : api == Api::openai_completions ? "cmpl-" : "");
  context.model = model_.name;
  context.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  context.created_at = rfc3339_now();

  if (!request.stream) {
    const JobOutcome outcome = job->wait();
    if (!outcome.error.empty()) {
      send_error(res, 500, outcome.error, ollama);
      metrics_.count_request(req.path, 500);
      return;
    }
    res.set_content(dump(complete_response(request, context, outcome, tokenizer_)), "application/json");
    metrics_.count_request(req.path, 200);
    metrics_.request_seconds.observe(seconds_since(arrived));
    metrics_.first_token_seconds.observe(outcome.first_token_seconds);
    return;
  }

  // Streaming: this thread forwards the job's text as it comes. A write that fails means the
  // client has gone: the job is cancelled and its slot freed at the engine's next pass.
  const char* content_type = ollama ? "application/x-ndjson" : "text/event-stream";
  res.set_header("Cache-Control", "no-cache");
  auto first = std::make_shared<bool>(true);
  res.set_chunked_content_provider(
      content_type,
      [this, job, request, context, first, arrived, path = req.path](size_t, httplib::DataSink& sink) {
        std::string text;
        const bool done = job->wait_for_text(text, std::chrono::milliseconds(200));
        auto write = [&](const std::string& bytes) {
          if (bytes.empty() || sink.write(bytes.data(), bytes.size())) return true;
          job->cancel();
          return false;
        };
        if (!text.empty()) {
          if (!write(frame(request.api, stream_chunk(request, context, text, *first)))) return false;
          *first = false;
        }
        if (!done) return true;
        const JobOutcome outcome = job->wait();
        if (!outcome.error.empty()) {
          const Reply error = is_ollama(request.api) ? Reply{{"error", outcome.error}} : Reply{{"error", {{"message", outcome.error}}}};
          write(frame(request.api, error));
        } else {
          for (const Reply& event : stream_end(request, context, outcome)) {
            if (!write(frame(request.api, event))) return false;
          }
          if (!write(stream_done(request.api))) return false;
          metrics_.request_seconds.observe(seconds_since(arrived));
          metrics_.first_token_seconds.observe(outcome.first_token_seconds);
        }
        metrics_.count_request(path, 200);
        sink.done();
        return true;
      },
      [job](bool success) {
        if (!success) job->cancel();
      });
}

}  // namespace lp::serve
