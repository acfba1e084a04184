// Text made safe for XML 1.0: escaping, characters XML forbids, bytes that are not UTF-8.

#include "report/xml_text.h"

#include <gtest/gtest.h>

#include <string>

namespace psleak {
namespace {

TEST(XmlText, EscapesMarkupCharacters) {
  EXPECT_EQ(xmlText("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
  EXPECT_EQ(xmlAttribute("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
  EXPECT_EQ(xmlText("]]>"), "]]&gt;");
}

TEST(XmlText, DropsControlCharactersXmlForbids) {
  EXPECT_EQ(xmlText(std::string("a\x01"
                                "b\x1f"
                                "c\x7f"
                                "d",
                                7)),
            "abc\x7f"
            "d");
  EXPECT_EQ(xmlText(std::string("a\0b", 3)), "ab");
  EXPECT_EQ(xmlText("\x1b[31mred\x1b[0m"), "[31mred[0m");
}

TEST(XmlText, KeepsTabsAndNewlinesInTextAndEncodesThemInAttributes) {
  EXPECT_EQ(xmlText("a\tb\nc\rd"), "a\tb\nc&#13;d");
  EXPECT_EQ(xmlAttribute("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
}

TEST(XmlText, KeepsValidUtf8) {
  EXPECT_EQ(xmlText("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x90\x8D"),
            "caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x90\x8D");
}

TEST(XmlText, ReplacesBytesThatAreNotUtf8) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(xmlText("a\xFF"
                    "b"),
            "a" + replacement + "b");
  EXPECT_EQ(xmlText("a\xC3"), "a" + replacement);                               // cut short
  EXPECT_EQ(xmlText("\xC0\xAF"), replacement + replacement);                    // overlong '/'
  EXPECT_EQ(xmlText("\xED\xA0\x80"), replacement + replacement + replacement);  // a surrogate
}

TEST(XmlText, DropsNonCharactersXmlForbids) {
  EXPECT_EQ(xmlText("a\xEF\xBF\xBE"
                    "b\xEF\xBF\xBF"
                    "c"),
            "abc");  // U+FFFE, U+FFFF
}

TEST(XmlText, TruncatesByCharacters) {
  EXPECT_EQ(truncateText("short", 10), "short");
  EXPECT_EQ(truncateText("exactly10!", 10), "exactly10!");
  EXPECT_EQ(truncateText("longer than ten", 10), "longer th\xE2\x80\xA6");
  // Never splits a character: 5 two-byte characters cut to 3.
  EXPECT_EQ(truncateText("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 3),
            "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(truncateText("abc", 0), "");
  EXPECT_EQ(truncateText("", 0), "");
}

}  // namespace
}  // namespace psleak
