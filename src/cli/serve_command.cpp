// `serve`: the model behind an HTTP server that speaks OpenAI's and Ollama's APIs (see
// src/serve/). Flags follow llama-server's: -c is each slot's context, -np the slots.
#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_options.h"
#include "cli/model_argument.h"
#include "core/error.h"
#include "engine/generation.h"
#include "formats/hub_cache.h"
#include "serve/batch_scheduler.h"
#include "serve/http_module.h"
#include "serve/serve_router.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer_load.h"

namespace lp::cli {
namespace {

struct ServeFlags {
  std::string model, alias, api_key;
  serve::HttpListenerOptions http;
  int64_t parallel = 4;
  size_t queue = 64;
  bool json = false;
};

// Ollama's way of naming a size: "135M", "1.5B".
std::string parameter_size(uint64_t parameters) {
  const auto p = static_cast<double>(parameters);
  return p >= 1e9 ? fmt::format("{:.1f}B", p / 1e9) : fmt::format("{:.0f}M", p / 1e6);
}

int64_t modified_time(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
}

// SIGINT/SIGTERM end the server cleanly: a thread waits for them (blocked everywhere else)
// and runs `stop`.
class StopOnSignal {
 public:
  explicit StopOnSignal(std::function<void()> stop) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    watcher_ = std::thread([this, stop = std::move(stop)] {
      int received = 0;
      sigwait(&signals_, &received);
      if (!leaving_) fmt::print(stderr, "stopping (signal {})\n", received);
      stop();
    });
  }
  ~StopOnSignal() {
    leaving_ = true;
    pthread_kill(watcher_.native_handle(), SIGTERM);
    watcher_.join();
  }
  // Call before any thread starts, so every thread inherits the blocked signals.
  static void block() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
  }

 private:
  sigset_t signals_{};
  std::atomic<bool> leaving_{false};
  std::thread watcher_;
};

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP with OpenAI- and Ollama-compatible APIs");
  auto f = std::make_shared<ServeFlags>();
  add_model_option(cmd, "model,-m,--model", f->model, "GGUF file or Hugging Face directory")->required();
  cmd->add_option("--host", f->http.host, "Address to listen on (default: this machine only)")->capture_default_str();
  cmd->add_option("--port", f->http.port, "Port (0: any free port, printed at start)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--parallel,--np", f->parallel, "Requests generated at once (slots), batched into one forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--queue", f->queue, "Requests that may wait for a slot; beyond that the answer is 503")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--api-key", f->api_key, "Require 'Authorization: Bearer KEY' (or set LLAMA_PAJAMAS_API_KEY)")
      ->envname("LLAMA_PAJAMAS_API_KEY");
  cmd->add_option("--alias", f->alias, "The model's name in the APIs (default: the file's name)");
  cmd->add_option("--max-body", f->http.max_body_bytes, "Largest request body in bytes")->capture_default_str();
  cmd->add_option("--timeout", f->http.read_timeout_seconds, "Seconds a client may stay silent while sending")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--json", f->json, "Print one JSON line with the address when listening");
  auto engine = add_engine_flags(cmd, 4096);
  cmd->callback([=] {
    // Writes to a client that has gone must fail, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    const auto model = LoadedModel::open(f->model, static_cast<uint64_t>(engine->ctx_size > 0 ? engine->ctx_size : 4096));
    SessionOptions options = session_options(*engine, *model, 4096);
    options.sequences = f->parallel;
    if (f->parallel > options.batch_size) fail("--parallel {} is more than the batch size {}", f->parallel, options.batch_size);
    const Tokenizer tokenizer = load_tokenizer(f->model);
    std::optional<ChatTemplate> chat_template = chat_template_if_any(f->model);

    serve::ServedModel served;
    const std::filesystem::path path(f->model);
    // A file by its name without .gguf; a folder (a hub snapshot too) by its model's name.
    served.name = !f->alias.empty()                 ? f->alias
                  : std::filesystem::is_directory(path) ? model_folder_name(path)
                                                        : path.stem().string();
    served.family = model->hparams().architecture;
    served.quantization = model->quant_type_name();
    served.parameter_size = parameter_size(model->parameter_count());
    served.size_bytes = model->weight_bytes();
    served.ctx_size = options.ctx_size;
    served.created = modified_time(path);

    StopOnSignal::block();
    InferenceSession session(*model, options);
    serve::BatchScheduler scheduler(session, tokenizer, end_of_generation_ids(tokenizer, model->hparams().eos_token_ids), f->queue);
    f->http.threads = static_cast<size_t>(f->parallel) + f->queue + 8;
    serve::ServeRouter router(served, f->api_key, tokenizer, chat_template, scheduler);
    const std::unique_ptr<serve::HttpListener> listener = serve::make_http_listener(f->http, router);
    serve::HttpListener& server = *listener;
    const int port = server.bind();
    if (port < 0) fail("cannot listen on {}:{} (in use, or not an address of this machine)", f->http.host, f->http.port);
    const std::string url = fmt::format("http://{}:{}", f->http.host, port);
    fmt::print(stderr, "serving {} ({}, {} slots x {} tokens, KV cache {:.0f} MiB) on {}: OpenAI API at /v1, Ollama API at /api\n",
               served.name, served.quantization, f->parallel, options.ctx_size,
               static_cast<double>(session.kv_cache_bytes()) / (1 << 20), url);
    if (f->json) {
      fmt::print("{}\n", nlohmann::json{{"event", "listening"},
                                         {"url", url},
                                         {"port", port},
                                         {"model", served.name},
                                         {"slots", f->parallel},
                                         {"ctx_size", options.ctx_size},
                                         {"kv_cache_bytes", session.kv_cache_bytes()}}
                             .dump());
      std::fflush(stdout);
    }
    {
      // The engine loop stops first: every request still running or waiting ends (streams get
      // an error event), so no HTTP thread is left waiting for tokens when the listener stops.
      StopOnSignal stop_on_signal([&] {
        scheduler.stop();
        server.stop();
      });
      server.listen();
    }
    scheduler.stop();
  });
}

}  // namespace lp::cli
