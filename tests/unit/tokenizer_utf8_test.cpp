// UTF-8 handling: invalid bytes become U+FFFD exactly where Python's "replace" puts them, and
// the byte-level alphabet round-trips every byte.
#include <gtest/gtest.h>

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace lp {
namespace {

const std::string R(kReplacementChar);

TEST(TokenizerUtf8, ValidTextIsUntouched) {
  const std::string text = "plain é 日本 🤖 \x7f";
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_EQ(sanitize_utf8(text), text);
  EXPECT_EQ(utf8_length("é日🤖"), 3u);
}

TEST(TokenizerUtf8, InvalidBytesBecomeOneReplacementPerMaximalSubpart) {
  // Expected values are Python's bytes.decode("utf-8", "replace").
  EXPECT_EQ(sanitize_utf8("a\x80" "b"), "a" + R + "b");
  EXPECT_EQ(sanitize_utf8("\xe2\x82"), R);                       // truncated 3-byte sequence: one
  EXPECT_EQ(sanitize_utf8("\xe2\x28\xa1"), R + "(" + R);         // bad second byte
  EXPECT_EQ(sanitize_utf8("\xc0\xaf"), R + R);                   // overlong lead: never valid
  EXPECT_EQ(sanitize_utf8("\xed\xa0\x80"), R + R + R);           // surrogate
  EXPECT_EQ(sanitize_utf8("\xf0\x9f\x98"), R);                   // truncated emoji
  EXPECT_EQ(sanitize_utf8("\xf4\x90\x80\x80"), R + R + R + R);   // above U+10FFFF
  EXPECT_EQ(sanitize_utf8("\xf0\x9f\x98" "x"), R + "x");
  EXPECT_FALSE(is_valid_utf8("\xff"));
}

TEST(TokenizerUtf8, ByteLevelAlphabetRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = byte_level_code_point(static_cast<uint8_t>(b));
    ASSERT_EQ(byte_level_byte(cp), b);
    EXPECT_TRUE(is_byte_level_spelling(byte_level_char(static_cast<uint8_t>(b))));
  }
  EXPECT_EQ(byte_level_char(' '), "\xC4\xA0");  // Ġ
  EXPECT_EQ(byte_level_char('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(byte_level_char('A'), "A");
  EXPECT_FALSE(is_byte_level_spelling("<|im_start|> "));
  EXPECT_FALSE(byte_level_byte(0x3042).has_value());
}

}  // namespace
}  // namespace lp
