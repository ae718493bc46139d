// SHA-256 against the FIPS 180-4 / NIST example vectors, fed whole and in odd pieces.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/sha256.h"
#include "temp_dir.h"

namespace lp {
namespace {

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PiecesGiveTheSameHashAsOneUpdate) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 37 + 11);
  const std::string whole = sha256_hex(text);
  for (size_t piece : {1u, 3u, 63u, 64u, 65u, 200u}) {
    Sha256 h;
    for (size_t i = 0; i < text.size(); i += piece) h.update(std::string_view(text).substr(i, piece));
    EXPECT_EQ(h.finish_hex(), whole) << piece;
  }
}

// Pseudo-random bytes (a 64-bit LCG's top byte) hashed by Python's hashlib: every byte value,
// many whole blocks and a tail, on whichever compression function this CPU runs (the x86 SHA
// extensions, or the portable one, which the arm64 build under qemu also checks).
TEST(Sha256, PseudoRandomBytesEqualHashlib) {
  std::string bytes;
  uint64_t x = 1;
  for (int i = 0; i < 100003; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    bytes += static_cast<char>(x >> 56);
  }
  EXPECT_EQ(sha256_hex(bytes), "d263dfa5a7ef1732d23e26a1eb41f0d0a1e0dc5ae82072c96962301274c926eb");
}

TEST(Sha256, FilesAndUnreadableFiles) {
  testing::TempDir dir;
  const auto path = dir.path() / "abc.txt";
  std::ofstream(path) << "abc";
  EXPECT_EQ(sha256_file(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(sha256_file(dir.path() / "missing"), InputError);
}

}  // namespace
}  // namespace lp
