// Damaged and hostile GGUF files must give one InputError naming the problem: never a
// crash, a huge allocation, or a read past the end.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "support/sample_gguf.h"
#include "temp_dir.h"

namespace lp {
namespace {

using testing::TempDir;

// Builds GGUF bytes field by field, so each test states exactly what it corrupts.
class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    s_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Bytes& str(std::string_view v) {
    put<uint64_t>(v.size());
    s_.append(v);
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return put<uint32_t>(0x46554747).put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  }
  Bytes& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(dims.size()));
    for (auto d : dims) put<uint64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  Bytes& pad_to(size_t alignment) {
    s_.resize((s_.size() + alignment - 1) / alignment * alignment, '\0');
    return *this;
  }
  Bytes& zeros(size_t n) {
    s_.append(n, '\0');
    return *this;
  }
  std::span<const uint8_t> span() const { return {reinterpret_cast<const uint8_t*>(s_.data()), s_.size()}; }

 private:
  std::string s_;
};

// Parses and returns the error message, or "" when the bytes parsed.
std::string parse_error(std::span<const uint8_t> bytes) {
  try {
    parse_gguf(bytes, "damaged.gguf");
    return "";
  } catch (const InputError& e) {
    return e.what();
  }
}

void expect_error(const Bytes& b, const std::string& fragment) {
  const std::string message = parse_error(b.span());
  ASSERT_FALSE(message.empty()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(message.find(fragment), std::string::npos) << message;
  EXPECT_NE(message.find("damaged.gguf"), std::string::npos) << "the message must name the file: " << message;
}

TEST(GgufDamaged, WrongMagic) { expect_error(Bytes().put<uint32_t>(0x46554748).zeros(20), "not a GGUF file"); }
TEST(GgufDamaged, EmptyFile) { expect_error(Bytes(), "truncated"); }
TEST(GgufDamaged, VersionOne) { expect_error(Bytes().header(0, 0, 1), "version 1"); }
TEST(GgufDamaged, FutureVersion) { expect_error(Bytes().header(0, 0, 4), "version 4"); }
TEST(GgufDamaged, BigEndian) { expect_error(Bytes().header(0, 0, 0x03000000), "big-endian"); }
TEST(GgufDamaged, AbsurdTensorCount) { expect_error(Bytes().header(uint64_t{1} << 60, 0), "claims"); }
TEST(GgufDamaged, AbsurdMetadataCount) { expect_error(Bytes().header(0, ~uint64_t{0}), "claims"); }
TEST(GgufDamaged, AbsurdKeyLength) { expect_error(Bytes().header(0, 1).put<uint64_t>(uint64_t{1} << 50).zeros(16), "longer than"); }

TEST(GgufDamaged, AbsurdStringLength) {
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(8).put<uint64_t>(~uint64_t{0}).zeros(8), "longer than");
}
TEST(GgufDamaged, AbsurdArrayLength) {
  expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t{1} << 40).zeros(64),
               "claims");
}
TEST(GgufDamaged, TooManyMetadataValues) {
  // 9 M one-byte values fit in the file, but would cost ~360 MB once parsed.
  Bytes b;
  b.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(0).put<uint64_t>(9u << 20).zeros(9u << 20);
  expect_error(b, "metadata array values");
}
TEST(GgufDamaged, UnknownValueType) { expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(13).zeros(8), "unknown value type"); }
TEST(GgufDamaged, BooleanOutOfRange) { expect_error(Bytes().header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2), "boolean"); }
TEST(GgufDamaged, EmptyKey) { expect_error(Bytes().header(0, 1).str("").put<uint32_t>(0).put<uint8_t>(1), "empty key"); }
TEST(GgufDamaged, DuplicateKey) {
  expect_error(Bytes().header(0, 2).str("k").put<uint32_t>(0).put<uint8_t>(1).str("k").put<uint32_t>(0).put<uint8_t>(2),
               "twice");
}
TEST(GgufDamaged, ArraysNestedTooDeep) {
  Bytes b;
  b.header(0, 1).str("k").put<uint32_t>(9);
  for (int i = 0; i < 20; ++i) b.put<uint32_t>(9).put<uint64_t>(1);
  b.put<uint32_t>(0).put<uint64_t>(0);
  expect_error(b, "deep");
}
TEST(GgufDamaged, AlignmentOfWrongType) {
  expect_error(Bytes().header(0, 1).str("general.alignment").put<uint32_t>(10).put<uint64_t>(64), "alignment");
}
TEST(GgufDamaged, AlignmentNotPowerOfTwo) {
  expect_error(Bytes().header(0, 1).str("general.alignment").put<uint32_t>(4).put<uint32_t>(48), "alignment");
}
TEST(GgufDamaged, AlignmentZero) {
  expect_error(Bytes().header(0, 1).str("general.alignment").put<uint32_t>(4).put<uint32_t>(0), "alignment");
}
TEST(GgufDamaged, TooManyDimensions) { expect_error(Bytes().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0), "dimensions"); }
TEST(GgufDamaged, ZeroDimensions) { expect_error(Bytes().header(1, 0).tensor("t", {}, 0, 0).zeros(32), "dimensions"); }
TEST(GgufDamaged, ShapeOverflow) {
  expect_error(Bytes().header(1, 0).tensor("t", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0), "impossible shape");
}
TEST(GgufDamaged, RemovedTensorType) { expect_error(Bytes().header(1, 0).tensor("t", {32}, 4, 0), "unsupported tensor type id 4"); }
TEST(GgufDamaged, UnknownTensorType) { expect_error(Bytes().header(1, 0).tensor("t", {32}, 1000, 0), "unsupported tensor type id 1000"); }
TEST(GgufDamaged, RowNotWholeBlocks) { expect_error(Bytes().header(1, 0).tensor("t", {33}, 2, 0), "block size"); }
TEST(GgufDamaged, MisalignedOffset) {
  expect_error(Bytes().header(1, 0).tensor("t", {4}, 0, 4).pad_to(32).zeros(64), "not a multiple of the alignment");
}
TEST(GgufDamaged, TensorPastEndOfFile) {
  expect_error(Bytes().header(1, 0).tensor("t", {1024}, 0, 0).pad_to(32).zeros(100), "past the end");
}
TEST(GgufDamaged, TensorOffsetFarPastEnd) {
  expect_error(Bytes().header(1, 0).tensor("t", {4}, 0, ~uint64_t{0} - 31).pad_to(32).zeros(64), "past the end");
}
TEST(GgufDamaged, OverlappingTensors) {
  expect_error(Bytes().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {16}, 0, 32).pad_to(32).zeros(128), "overlap");
}
TEST(GgufDamaged, DuplicateTensorName) {
  expect_error(Bytes().header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad_to(32).zeros(64), "two tensors");
}
TEST(GgufDamaged, DataSectionMissing) { expect_error(Bytes().header(1, 0).tensor("a", {8}, 0, 0), "truncated"); }

TEST(GgufDamaged, ValidHandBuiltFileParses) {
  const Bytes b = Bytes().header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 32).pad_to(32).zeros(64);
  EXPECT_EQ(parse_error(b.span()), "");
}

// Every prefix of a real file that cuts into its header or tensor data must fail cleanly.
TEST(GgufDamaged, EveryTruncationFailsCleanly) {
  TempDir dir;
  const auto bytes = testing::write_sample_gguf(dir / "s.gguf");
  const GgufContents full = parse_gguf(bytes, "s.gguf");
  uint64_t needed = full.data_offset;
  for (const auto& t : full.tensors) needed = std::max(needed, full.data_offset + t.offset + t.n_bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string message = parse_error(std::span(bytes).first(n));
    if (n < needed) {
      EXPECT_NE(message, "") << "prefix of " << n << " bytes parsed";
    } else {
      EXPECT_EQ(message, "") << "prefix of " << n << " bytes (only padding cut) failed: " << message;
    }
  }
}

// Random corruption: the parser must either accept the bytes or say why not.
TEST(GgufDamaged, RandomCorruptionFailsCleanly) {
  TempDir dir;
  const auto original = testing::write_sample_gguf(dir / "s.gguf");
  // Corrupt mostly the header: that is where counts and offsets live.
  const GgufContents full = parse_gguf(original, "s.gguf");
  const auto noise = testing::pseudo_random_bytes(3000 * 20, 99);
  size_t k = 0;
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto bytes = original;
    const int flips = 1 + noise[k++] % 4;
    for (int f = 0; f < flips; ++f) {
      const uint32_t r = noise[k] | noise[k + 1] << 8 | noise[k + 2] << 16;
      k += 3;
      bytes[r % full.data_offset] = noise[k++];
    }
    try {
      parse_gguf(bytes, "s.gguf");
    } catch (const InputError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 100);  // the corruption really reaches the checks
}

TEST(GgufModelOpen, MissingFileNamesThePath) {
  try {
    GgufModel::open("/nonexistent/model.gguf");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}

TEST(GgufModelOpen, DirectoryIsNotAFile) {
  TempDir dir;
  EXPECT_THROW(GgufModel::open(dir.path()), InputError);
}

}  // namespace
}  // namespace lp
