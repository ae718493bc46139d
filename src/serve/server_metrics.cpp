#include "serve/server_metrics.h"

#include <fmt/format.h>

namespace lp::serve {
namespace {

void header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void single(std::string& out, const std::string& name, const char* type, const char* help, double value) {
  header(out, name, type, help);
  out += fmt::format("{} {}\n", name, value);
}

}  // namespace

void Histogram::observe(double seconds) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++counts_[i];
      break;
    }
  }
  ++count_;
  sum_ += seconds;
}

std::string Histogram::render(const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::string out;
  int64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
  return out;
}

void ServerMetrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

std::string ServerMetrics::render(const BatchScheduler& scheduler) const {
  std::string out;
  header(out, "llamapajamas_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
      out += fmt::format("llamapajamas_requests_total{{endpoint=\"{}\",code=\"{}\"}} {}\n", key.first, key.second, count);
    }
  }
  const SchedulerCounters& c = scheduler.counters();
  single(out, "llamapajamas_prompt_tokens_total", "counter", "Prompt tokens of finished prompts (cached ones included).",
         static_cast<double>(c.prompt_tokens.load()));
  single(out, "llamapajamas_prompt_tokens_cached_total", "counter", "Prompt tokens found in a slot's cache, not evaluated again.",
         static_cast<double>(c.cached_prompt_tokens.load()));
  single(out, "llamapajamas_generated_tokens_total", "counter", "Tokens generated.", static_cast<double>(c.generated_tokens.load()));
  single(out, "llamapajamas_generations_completed_total", "counter", "Generations that ended normally.",
         static_cast<double>(c.completed.load()));
  single(out, "llamapajamas_generations_cancelled_total", "counter", "Generations stopped because the client went away.",
         static_cast<double>(c.cancelled.load()));
  single(out, "llamapajamas_generations_failed_total", "counter", "Generations that failed in the engine.",
         static_cast<double>(c.failed.load()));
  single(out, "llamapajamas_forward_passes_total", "counter", "Forward passes of the engine loop.",
         static_cast<double>(c.forward_passes.load()));
  single(out, "llamapajamas_batched_rows_total", "counter", "Token rows evaluated, all passes together.",
         static_cast<double>(c.batched_rows.load()));
  single(out, "llamapajamas_decode_rows_total", "counter",
         "Generated tokens fed back; divided by forward passes, the streams decoded per pass.",
         static_cast<double>(c.decode_rows.load()));
  single(out, "llamapajamas_queue_length", "gauge", "Requests waiting for a free slot.", static_cast<double>(scheduler.queued()));
  single(out, "llamapajamas_slots_busy", "gauge", "Slots generating now.", static_cast<double>(scheduler.busy_slots()));
  single(out, "llamapajamas_slots_total", "gauge", "Slots (sequences generated at once).", static_cast<double>(scheduler.slots()));
  header(out, "llamapajamas_request_duration_seconds", "histogram", "Generation requests, from arrival to the last byte.");
  out += request_seconds.render("llamapajamas_request_duration_seconds");
  header(out, "llamapajamas_time_to_first_token_seconds", "histogram", "From a request's arrival to its first token.");
  out += first_token_seconds.render("llamapajamas_time_to_first_token_seconds");
  return out;
}

}  // namespace lp::serve
