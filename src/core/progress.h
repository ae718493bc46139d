#pragma once
// A progress line for long work: items done, throughput and time left, redrawn in place on
// a terminal (stderr), silent when stderr is not a terminal so logs and CI stay clean.
#include <chrono>
#include <cstdint>
#include <string>

namespace lp {

class Progress {
 public:
  Progress(std::string label, uint64_t total_items, uint64_t total_bytes);
  ~Progress();
  void advance(uint64_t items, uint64_t bytes);
  void finish();

 private:
  void draw(bool final);

  std::string label_;
  uint64_t total_items_, total_bytes_;
  uint64_t items_ = 0, bytes_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace lp
