// HugePageBuffer: 2 MiB aligned, zeroed, writable over exactly its size, movable, and (where
// the system has transparent huge pages at all) eligible for them.
#include "core/huge_page_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace lp {
namespace {

constexpr uintptr_t kTwoMiB = uintptr_t{2} << 20;

TEST(HugePageBuffer, StartsOnATwoMiBBoundaryZeroedAndWritable) {
  for (const size_t bytes : {size_t{1}, size_t{4095}, size_t{4096}, (size_t{3} << 20) + 17}) {
    HugePageBuffer buffer(bytes);
    ASSERT_NE(buffer.data(), nullptr);
    EXPECT_EQ(buffer.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % kTwoMiB, 0u) << bytes;
    for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(buffer.data()[i], 0) << i;
    for (size_t i = 0; i < bytes; ++i) buffer.data()[i] = static_cast<uint8_t>(i * 7 + 1);
    for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(buffer.data()[i], static_cast<uint8_t>(i * 7 + 1)) << i;
  }
}

TEST(HugePageBuffer, EmptyHoldsNothing) {
  HugePageBuffer buffer(0);
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), 0u);
}

TEST(HugePageBuffer, MovesOwnership) {
  HugePageBuffer a(5000);
  a.data()[4999] = 42;
  uint8_t* const p = a.data();
  HugePageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.data()[4999], 42);
  HugePageBuffer c(100);
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.size(), 5000u);
}

// The mapping's THPeligible line in /proc/self/smaps: "1" when the kernel would back it
// with huge pages; empty when this kernel does not report it.
std::string thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0) return line.substr(line.find_last_of(" \t") + 1);
  }
  return "";
}

TEST(HugePageBuffer, IsEligibleForTransparentHugePagesWhereTheSystemHasThem) {
  std::ifstream setting("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(setting, modes) || modes.find("[never]") != std::string::npos)
    GTEST_SKIP() << "transparent huge pages are off on this system";
  HugePageBuffer buffer(size_t{4} << 20);
  buffer.data()[0] = 1;
  const std::string eligible = thp_eligible(buffer.data());
  if (eligible.empty()) GTEST_SKIP() << "this kernel does not report THPeligible";
  EXPECT_EQ(eligible, "1");
}

}  // namespace
}  // namespace lp
