#include "serve/serve_router.h"

#include <chrono>
#include <random>

#include "core/error.h"
#include "serve/api_response.h"
#include "version.h"

namespace lp::serve {
namespace {

using Reply = nlohmann::ordered_json;

std::string dump(const Reply& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

bool ollama_path(const std::string& path) { return path.rfind("/api/", 0) == 0; }

// Errors in each API's shape: OpenAI's {"error": {...}}, Ollama's {"error": "..."}.
HttpResponse error_response(int status, const std::string& message, bool ollama) {
  HttpResponse res;
  res.status = status;
  if (ollama) {
    res.body = dump({{"error", message}});
    return res;
  }
  const char* type = status == 401 ? "authentication_error"
                     : status == 503 ? "unavailable_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  res.body = dump({{"error", {{"message", message}, {"type", type}, {"code", status}}}});
  return res;
}

HttpResponse json_response(const Reply& body) {
  HttpResponse res;
  res.body = dump(body);
  return res;
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

// The metrics' endpoint label: a known path, or "other" (a client's made-up paths must not
// grow the metrics without bound).
std::string endpoint_label(const std::string& path) {
  static constexpr const char* kKnown[] = {"/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions",
                                           "/api/chat",            "/api/generate",     "/v1/models",      "/models",
                                           "/api/tags",            "/api/version",      "/health",         "/metrics"};
  for (const char* known : kKnown) {
    if (path == known) return path;
  }
  return "other";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const std::pair<const char*, Api> kGenerationEndpoints[] = {{"/v1/chat/completions", Api::openai_chat},
                                                            {"/chat/completions", Api::openai_chat},
                                                            {"/v1/completions", Api::openai_completions},
                                                            {"/completions", Api::openai_completions},
                                                            {"/api/chat", Api::ollama_chat},
                                                            {"/api/generate", Api::ollama_generate}};

}  // namespace

ServeRouter::ServeRouter(ServedModel model, std::string api_key, const Tokenizer& tokenizer,
                         std::optional<ChatTemplate> chat_template, BatchScheduler& scheduler)
    : model_(std::move(model)), api_key_(std::move(api_key)), tokenizer_(tokenizer),
      chat_template_(std::move(chat_template)), scheduler_(scheduler) {}

HttpResponse ServeRouter::library_error(int status, const HttpRequest& request) {
  const std::string message = status == 413 ? std::string("the request body is too large") : fmt::format("HTTP {}", status);
  metrics_.count_request(endpoint_label(request.path), status);
  return error_response(status, message, ollama_path(request.path));
}

HttpResponse ServeRouter::handle(const HttpRequest& request) {
  try {
    return route(request);
  } catch (const std::exception& e) {
    // Nothing a request holds should get here; if something does, the client still gets an
    // answer in its API's shape and the server goes on.
    metrics_.count_request(endpoint_label(request.path), 500);
    return error_response(500, e.what(), ollama_path(request.path));
  }
}

HttpResponse ServeRouter::route(const HttpRequest& request) {
  const bool ollama = ollama_path(request.path);
  // The API key, checked before any route; /health stays open for load balancers.
  if (!api_key_.empty() && request.path != "/health" && request.authorization != "Bearer " + api_key_) {
    metrics_.count_request(endpoint_label(request.path), 401);
    return error_response(401, "a valid API key is required: send 'Authorization: Bearer <key>'", ollama);
  }
  if (request.method == "POST") {
    for (const auto& [path, api] : kGenerationEndpoints) {
      if (request.path == path) return generate(api, request);
    }
  } else if (request.method == "GET") {
    if (request.path == "/health") {
      return json_response({{"status", "ok"},
                            {"slots_idle", scheduler_.slots() - scheduler_.busy_slots()},
                            {"slots_processing", scheduler_.busy_slots()},
                            {"queued", scheduler_.queued()}});
    }
    if (request.path == "/metrics") {
      HttpResponse res;
      res.content_type = "text/plain; version=0.0.4";
      res.body = metrics_.render(scheduler_);
      return res;
    }
    if (request.path == "/api/version") return json_response({{"version", kVersion}});
    if (request.path == "/v1/models" || request.path == "/models" || request.path == "/api/tags") return model_lists(request);
  }
  metrics_.count_request(endpoint_label(request.path), 404);
  return error_response(404, fmt::format("no endpoint {} {}", request.method, request.path), ollama);
}

HttpResponse ServeRouter::model_lists(const HttpRequest& request) {
  metrics_.count_request(endpoint_label(request.path), 200);
  if (request.path == "/api/tags") {
    const Reply details = {{"format", "gguf"},
                           {"family", model_.family},
                           {"families", Reply::array({model_.family})},
                           {"parameter_size", model_.parameter_size},
                           {"quantization_level", model_.quantization}};
    return json_response({{"models", Reply::array({{{"name", model_.name},
                                                    {"model", model_.name},
                                                    {"modified_at", rfc3339_now()},
                                                    {"size", model_.size_bytes},
                                                    {"details", details}}})}});
  }
  return json_response({{"object", "list"},
                        {"data", Reply::array({{{"id", model_.name},
                                                {"object", "model"},
                                                {"created", model_.created},
                                                {"owned_by", "llama-pajamas"},
                                                {"meta", {{"n_ctx", model_.ctx_size}, {"size", model_.size_bytes}}}}})}});
}

std::vector<int32_t> ServeRouter::prompt_tokens(const ApiRequest& r) {
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

HttpResponse ServeRouter::generate(Api api, const HttpRequest& http) {
  const auto arrived = std::chrono::steady_clock::now();
  const bool ollama = is_ollama(api);
  ApiRequest request;
  std::shared_ptr<Job> job;
  try {
    request = parse_api_request(api, http.body);
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
      HttpResponse busy =
          error_response(503, "the server is busy: every slot is generating and the queue is full; retry shortly", ollama);
      busy.headers.emplace_back("Retry-After", "1");
      metrics_.count_request(endpoint_label(http.path), 503);
      return busy;
    }
  } catch (const ApiError& e) {
    metrics_.count_request(endpoint_label(http.path), e.status());
    return error_response(e.status(), e.what(), ollama);
  }

  ResponseContext context;
  context.id = random_id(api == Api::openai_chat ? "chatcmpl-" : api == Api::openai_completions ? "cmpl-" : "");
  context.model = model_.name;
  context.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  context.created_at = rfc3339_now();

  if (!request.stream) {
    const JobOutcome outcome = job->wait();
    if (!outcome.error.empty()) {
      metrics_.count_request(endpoint_label(http.path), 500);
      return error_response(500, outcome.error, ollama);
    }
    metrics_.count_request(endpoint_label(http.path), 200);
    metrics_.request_seconds.observe(seconds_since(arrived));
    metrics_.first_token_seconds.observe(outcome.first_token_seconds);
    return json_response(complete_response(request, context, outcome, tokenizer_));
  }

  // Streaming: the HTTP side pulls the job's text as it comes. A write that fails means the
  // client has gone: the job is cancelled and its slot freed at the engine's next pass.
  HttpResponse res;
  res.content_type = ollama ? "application/x-ndjson" : "text/event-stream";
  res.headers.emplace_back("Cache-Control", "no-cache");
  auto first = std::make_shared<bool>(true);
  res.next_chunk = [this, job, request, context, first, arrived, path = endpoint_label(http.path)](std::string& out) {
    std::string text;
    const bool done = job->wait_for_text(text, std::chrono::milliseconds(200));
    if (!text.empty()) {
      out += frame(request.api, stream_chunk(request, context, text, *first));
      *first = false;
    }
    if (!done) return true;
    const JobOutcome outcome = job->wait();
    if (!outcome.error.empty()) {
      out += frame(request.api, is_ollama(request.api) ? Reply{{"error", outcome.error}} : Reply{{"error", {{"message", outcome.error}}}});
      metrics_.count_request(path, 500);
      return false;
    }
    for (const Reply& event : stream_end(request, context, outcome)) out += frame(request.api, event);
    out += stream_done(request.api);
    metrics_.count_request(path, 200);
    metrics_.request_seconds.observe(seconds_since(arrived));
    metrics_.first_token_seconds.observe(outcome.first_token_seconds);
    return false;
  };
  res.abandoned = [job] { job->cancel(); };
  return res;
}

}  // namespace lp::serve
