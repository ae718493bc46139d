#include "core/progress.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdio>

namespace lp {

Progress::Progress(std::string label, uint64_t total_items, uint64_t total_bytes, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(uint64_t items, uint64_t bytes) {
  items_ += items;
  bytes_ += bytes;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  if (!enabled_) return;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(bytes_) / seconds : 0.0;
  const double left = rate > 0 ? static_cast<double>(total_bytes_ - std::min(bytes_, total_bytes_)) / rate : 0.0;
  constexpr int kWidth = 24;
  const int filled = total_bytes_ > 0 ? static_cast<int>(kWidth * static_cast<double>(bytes_) / total_bytes_) : kWidth;
  fmt::print(stderr, "\r{} [{:<{}}] {}/{} {}  {:.1f} MB/s  ETA {}:{:02d} ", label_, std::string(filled, '#'),
             kWidth, items_, total_items_, unit_, rate / 1e6, static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  if (final) fmt::print(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace lp
