#pragma once
// Splits [0, n) into contiguous chunks, one per thread, and runs `work(begin, end)` on each.
// The calling thread takes the first chunk. Exceptions from any chunk are rethrown.
#include <cstdint>
#include <functional>

namespace lp {

unsigned default_thread_count();  // hardware threads, at least 1
void parallel_for(int64_t n, unsigned threads, const std::function<void(int64_t begin, int64_t end)>& work);

}  // namespace lp
