// Decoding UTF-8 that nobody checked: well-formed characters, and every way bytes fail to be.

#include "core/utf8_text.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace psleak {
namespace {

constexpr std::size_t kAllValid = std::string_view::npos;

TEST(DecodeUtf8, CharactersOfEveryLength) {
  EXPECT_EQ(decodeUtf8("a", 0).codePoint, U'a');
  EXPECT_EQ(decodeUtf8("a", 0).length, 1u);
  EXPECT_EQ(decodeUtf8("\xC3\xA9", 0).codePoint, U'\u00E9');
  EXPECT_EQ(decodeUtf8("\xC3\xA9", 0).length, 2u);
  EXPECT_EQ(decodeUtf8("\xE6\x97\xA5", 0).codePoint, U'\u65E5');
  EXPECT_EQ(decodeUtf8("\xF0\x9F\x90\x8D", 0).codePoint, U'\U0001F40D');
  EXPECT_EQ(decodeUtf8("\xF0\x9F\x90\x8D", 0).length, 4u);
  EXPECT_EQ(decodeUtf8("x\xC3\xA9", 1).codePoint, U'\u00E9');
}

TEST(DecodeUtf8, IllFormedBytesHaveLengthZero) {
  for (const char* bad : {"\xFF", "\x80", "\xC3", "\xC3(", "\xE6\x97", "\xC0\xAF" /* overlong */,
                          "\xE0\x80\xAF", "\xED\xA0\x80" /* surrogate U+D800 */, "\xED\xBF\xBF",
                          "\xF4\x90\x80\x80" /* past U+10FFFF */, "\xF8\x88\x80\x80\x80"}) {
    EXPECT_EQ(decodeUtf8(bad, 0).length, 0u) << testing::PrintToString(std::string(bad));
  }
}

TEST(FirstInvalidUtf8, OffsetOfTheFirstBadByte) {
  EXPECT_EQ(firstInvalidUtf8(""), kAllValid);
  EXPECT_EQ(firstInvalidUtf8("plain ascii\n"), kAllValid);
  EXPECT_EQ(firstInvalidUtf8("caf\xC3\xA9 \xF0\x9F\x90\x8D"), kAllValid);
  EXPECT_EQ(firstInvalidUtf8("ab\xFF"
                             "cd"),
            2u);
  EXPECT_EQ(firstInvalidUtf8("caf\xC3\xA9\xC3"), 5u);  // cut in the middle of a character
  EXPECT_EQ(firstInvalidUtf8("\xED\xB3\xBF"), 0u);     // U+DCFF: a lone surrogate
  // A NUL byte is well-formed UTF-8; callers that want text refuse it themselves.
  EXPECT_EQ(firstInvalidUtf8(std::string_view("a\0b", 3)), kAllValid);
}

}  // namespace
}  // namespace psleak
