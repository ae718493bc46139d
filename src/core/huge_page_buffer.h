#pragma once
// Anonymous memory for large buffers that are streamed every token (the interleaved weight
// copies): its start is aligned to 2 MiB and the kernel is asked to back it with transparent
// huge pages, so that reading it crosses no 4 KiB page boundary, where the hardware
// prefetchers stop, and costs far fewer TLB misses. One core's decode measured 20% faster for
// it (bench/RESULTS.md, "Interleaved weights on huge pages"). Where the system declines
// (transparent_hugepage=never, or not Linux) the buffer is ordinary 4 KiB pages.
#include <cstddef>
#include <cstdint>

namespace lp {

class HugePageBuffer {
 public:
  // `bytes` of zeroed memory (pages appear as they are first touched). Throws std::bad_alloc
  // when the address space or memory is exhausted.
  explicit HugePageBuffer(size_t bytes);
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;
  ~HugePageBuffer();

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void unmap();  // releases the mapping (size_ rounded up to whole pages), if any

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace lp
