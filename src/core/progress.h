#pragma once
// A progress line for long work: items done, throughput and time left, redrawn in place on
// a terminal (stderr), silent when stderr is not a terminal so logs and CI stay clean.
#include <chrono>
#include <cstdint>
#include <string>

namespace lp {

class Progress {
 public:
  // `unit` names the items in the line ("3/7 tensors", "2/5 files").
  Progress(std::string label, uint64_t total_items, uint64_t total_bytes, std::string unit = "tensors");
  ~Progress();
  void advance(uint64_t items, uint64_t bytes);
  void finish();

 private:
  void draw(bool final);

  std::string label_;
  std::string unit_;
  uint64_t total_items_, total_bytes_;
  uint64_t items_ = 0, bytes_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace lp
