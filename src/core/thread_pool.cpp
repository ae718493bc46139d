#include "core/thread_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lp {

namespace {

// Waiting for the next job (a worker) or for the others to finish (the caller) polls in
// three stages. Decode issues jobs a few microseconds apart, so first a very short busy poll
// with the pause instruction (reacts within ~0.1 us, no system call); then polls that yield
// the core between looks (a yield costs ~0.5 us, and other processes on a shared machine get
// the core); a worker that waits longer than that sleeps until woken. The busy poll is kept
// to a few microseconds: polling with pause for long was tried and was much worse on a loaded
// machine, where a spinner holds a core that the thread it waits for needs.
constexpr int kPauseIterations = 100;    // a few microseconds
constexpr int kYieldIterations = 20000;  // then sleep

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");  // the ARM spin-wait hint
#endif
}

// Polls until done() or the budget runs out; true when done.
template <class Done>
bool poll(Done&& done, int yield_iterations) {
  for (int i = 0; i < kPauseIterations; ++i) {
    if (done()) return true;
    cpu_relax();
  }
  for (int i = 0; i < yield_iterations; ++i) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

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
    const auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    if (!poll(fresh, kYieldIterations)) {
      std::unique_lock lock(mutex_);
      // The sleeper count is raised before the last look at the generation, and run() bumps
      // the generation before it reads the count (both sequentially consistent): either this
      // look sees the new job or run() sees a sleeper and notifies under the mutex.
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_) return;
    try {
      call_(job_, index, size());
    } catch (...) {
      const std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run_erased(void* job, Trampoline call) {
  if (workers_.empty()) {
    call(job, 0, 1);
    return;
  }
  job_ = job;
  call_ = call;
  error_ = nullptr;
  pending_.store(static_cast<unsigned>(workers_.size()), std::memory_order_release);
  generation_.fetch_add(1);  // sequentially consistent: ordered before the sleepers_ read
  if (sleepers_.load() != 0) {
    { const std::lock_guard lock(mutex_); }  // a worker between its last look and its wait finishes waiting first
    wake_.notify_all();
  }
  std::exception_ptr own;
  try {
    call(job, 0, size());
  } catch (...) {
    own = std::current_exception();
  }
  poll([&] { return pending_.load(std::memory_order_acquire) == 0; }, 0);
  while (pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  job_ = nullptr;
  if (own) std::rethrow_exception(own);
  if (error_) std::rethrow_exception(error_);
}

}  // namespace lp
