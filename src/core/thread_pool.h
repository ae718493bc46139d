#pragma once
// A persistent pool of worker threads for the inference engine. Decode calls it dozens of
// times per token, so threads are started once and wait between jobs (spinning briefly,
// then sleeping) instead of being created per call as parallel_for does.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lp {

class ThreadPool {
 public:
  // `threads` counts the calling thread: ThreadPool(1) runs everything on the caller.
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Runs job(thread_index, thread_count) once on every thread (index 0 is the caller) and
  // returns when all are done. The first exception thrown is rethrown here.
  void run(const std::function<void(unsigned thread_index, unsigned thread_count)>& job);

  // Splits [0, n) into size() contiguous chunks and runs work(begin, end) on each.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& work);

 private:
  void worker_loop(unsigned index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(unsigned, unsigned)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<unsigned> pending_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace lp
