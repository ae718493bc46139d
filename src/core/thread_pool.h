#pragma once
// A persistent pool of worker threads for the inference engine. Decode calls it a few hundred
// times per token, so threads are started once and wait between jobs (spinning briefly,
// then sleeping) instead of being created per call as parallel_for does, and a call passes
// its job by reference (no std::function, nothing allocated per call).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
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
  template <class Job>
  void run(Job&& job) {
    using F = std::remove_reference_t<Job>;
    run_erased(const_cast<void*>(static_cast<const void*>(std::addressof(job))),
               [](void* f, unsigned i, unsigned n) { (*static_cast<F*>(f))(i, n); });
  }

  // Splits [0, n) into size() contiguous chunks and runs work(begin, end) on each.
  template <class Work>
  void parallel_for(int64_t n, Work&& work) {
    run([&](unsigned i, unsigned t) {
      const int64_t begin = n * i / t, end = n * (i + 1) / t;
      if (begin < end) work(begin, end);
    });
  }

 private:
  using Trampoline = void (*)(void* job, unsigned thread_index, unsigned thread_count);
  void run_erased(void* job, Trampoline call);
  void worker_loop(unsigned index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  void* job_ = nullptr;
  Trampoline call_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<unsigned> pending_{0};
  std::atomic<unsigned> sleepers_{0};  // workers blocked on wake_: only then is notifying needed
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace lp
