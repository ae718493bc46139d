#include "core/thread_pool.h"

#include <chrono>

namespace lp {

namespace {
// Spin this many iterations for the next job before sleeping: decode issues jobs a few
// microseconds apart, and waking a sleeping thread costs more than that.
constexpr int kSpinIterations = 20000;
}  // namespace

ThreadPool::ThreadPool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(unsigned index) {
  uint64_t seen = 0;
  while (true) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      std::this_thread::yield();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      gen = generation_.load();
    }
    seen = gen;
    if (stopping_) return;
    try {
      (*job_)(index, size());
    } catch (...) {
      const std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(unsigned, unsigned)>& job) {
  if (workers_.empty()) {
    job(0, 1);
    return;
  }
  job_ = &job;
  error_ = nullptr;
  pending_.store(static_cast<unsigned>(workers_.size()), std::memory_order_release);
  {
    const std::lock_guard lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  wake_.notify_all();
  std::exception_ptr own;
  try {
    job(0, size());
  } catch (...) {
    own = std::current_exception();
  }
  while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  job_ = nullptr;
  if (own) std::rethrow_exception(own);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& work) {
  run([&](unsigned i, unsigned t) {
    const int64_t begin = n * i / t, end = n * (i + 1) / t;
    if (begin < end) work(begin, end);
  });
}

}  // namespace lp
