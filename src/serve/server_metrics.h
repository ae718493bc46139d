#pragma once
// What /metrics reports, in Prometheus's text format: requests by endpoint and status,
// tokens, queue length, busy slots, the batching the engine loop achieved, and latency
// histograms (whole request, time to first token).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "serve/batch_scheduler.h"

namespace lp::serve {

class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  void observe(double seconds);
  // The histogram's lines for metric `name`.
  std::string render(const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::array<int64_t, kBounds.size()> counts_{};  // observations <= each bound (not cumulative)
  int64_t count_ = 0;
  double sum_ = 0.0;
};

class ServerMetrics {
 public:
  void count_request(const std::string& endpoint, int status);
  Histogram request_seconds, first_token_seconds;
  // The whole exposition, with the scheduler's counters and gauges read now.
  std::string render(const BatchScheduler& scheduler) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;
};

}  // namespace lp::serve
