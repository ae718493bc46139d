// The thread pool and parallel_for: every index runs exactly once, results written by workers
// are visible to the caller when run() returns, exceptions come back, sleeping workers wake.
// scripts/test-tsan.sh runs these under ThreadSanitizer, which checks the hand-offs the
// assertions below cannot see (a worker's plain writes ordered before the caller's reads).
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel.h"
#include "core/thread_pool.h"

namespace lp {
namespace {

TEST(ThreadPool, EveryIndexRunsOnceAndIsSeenByTheCaller) {
  ThreadPool pool(4);
  std::vector<int> hits;
  for (int64_t n : {0, 1, 3, 4, 5, 17, 1000}) {
    for (int repeat = 0; repeat < 200; ++repeat) {
      hits.assign(static_cast<size_t>(n), 0);  // plain writes by the caller, read by workers' ++
      pool.parallel_for(n, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)], 1) << "n " << n << " index " << i;
    }
  }
}

TEST(ThreadPool, EachThreadGetsItsIndex) {
  ThreadPool pool(3);
  std::vector<unsigned> seen(3, 99);
  pool.run([&](unsigned i, unsigned n) { seen[i] = n; });
  EXPECT_EQ(seen, (std::vector<unsigned>{3, 3, 3}));
  ThreadPool alone(1);
  unsigned calls = 0;
  alone.run([&](unsigned i, unsigned n) { calls += (i == 0 && n == 1); });
  EXPECT_EQ(calls, 1u);
}

TEST(ThreadPool, AWorkersExceptionReachesTheCallerAndThePoolGoesOn) {
  ThreadPool pool(4);
  EXPECT_THROW(pool.run([](unsigned i, unsigned) {
    if (i == 2) throw std::runtime_error("worker");
  }),
               std::runtime_error);
  EXPECT_THROW(pool.run([](unsigned i, unsigned) {
    if (i == 0) throw std::runtime_error("caller");
  }),
               std::runtime_error);
  int sum = 0;
  std::vector<int> part(4, 0);
  pool.run([&](unsigned i, unsigned) { part[i] = static_cast<int>(i) + 1; });
  for (int p : part) sum += p;
  EXPECT_EQ(sum, 10);
}

TEST(ThreadPool, WorkersThatWentToSleepWakeForTheNextJob) {
  ThreadPool pool(3);
  for (int round = 0; round < 3; ++round) {
    // Long enough that every worker has passed its polls and sleeps on the condition variable.
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    std::vector<int> ran(3, 0);
    pool.run([&](unsigned i, unsigned) { ran[i] = 1; });
    EXPECT_EQ(ran, (std::vector<int>{1, 1, 1})) << "round " << round;
  }
}

TEST(ThreadPool, DestroyedWhileWorkersSleep) {
  for (int i = 0; i < 20; ++i) {
    ThreadPool pool(4);
    if (i % 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(ParallelFor, CoversTheRangeAndRethrows) {
  std::vector<int> hits(1001, 0);
  parallel_for(1001, 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
  });
  for (int h : hits) ASSERT_EQ(h, 1);
  EXPECT_THROW(parallel_for(100, 3,
                            [](int64_t begin, int64_t) {
                              if (begin > 0) throw std::runtime_error("chunk");
                            }),
               std::runtime_error);
}

}  // namespace
}  // namespace lp
