#include "core/huge_page_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <utility>

namespace lp {
namespace {

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;

uintptr_t round_up(uintptr_t v, uintptr_t to) { return (v + to - 1) / to * to; }

// `bytes` rounded up to whole pages: what a buffer maps.
uintptr_t mapped_bytes(size_t bytes) { return round_up(bytes, static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE))); }

}  // namespace

HugePageBuffer::HugePageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  const uintptr_t mapped = mapped_bytes(bytes);
  // Map a huge page more than needed, then unmap the unaligned head and the unused tail, so
  // that what stays starts on a 2 MiB boundary and holds no page the buffer does not use
  // (resident memory stays the buffer's size; only whole 2 MiB extents become huge pages).
  void* p = ::mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = round_up(start, kHugePage);
  if (aligned > start) ::munmap(p, aligned - start);
  const uintptr_t end = start + mapped + kHugePage;
  if (end > aligned + mapped) ::munmap(reinterpret_cast<void*>(aligned + mapped), end - (aligned + mapped));
  data_ = reinterpret_cast<uint8_t*>(aligned);
#if defined(MADV_HUGEPAGE)
  // Advice only: a kernel without transparent huge pages declines it and nothing else changes.
  (void)::madvise(data_, mapped, MADV_HUGEPAGE);
#endif
}

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    unmap();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

HugePageBuffer::~HugePageBuffer() { unmap(); }

void HugePageBuffer::unmap() {
  if (data_ != nullptr) ::munmap(data_, mapped_bytes(size_));
}

}  // namespace lp
