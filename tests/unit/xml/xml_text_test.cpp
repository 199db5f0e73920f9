#include "switchboard/xml_text.h"

#include <gtest/gtest.h>

namespace switchboard::xml {
namespace {

std::string escaped(std::string_view text, bool attribute) {
  std::string out;
  appendEscaped(text, out, attribute);
  return out;
}

std::string utf8(std::u16string_view text) {
  std::string out;
  appendUtf8(text, out);
  return out;
}

TEST(XmlText, EscapesMarkupCharacters) {
  EXPECT_EQ(escaped("a<b>&c\"d'", false), "a&lt;b&gt;&amp;c\"d'");
  EXPECT_EQ(escaped("a<b>&c\"d'", true), "a&lt;b&gt;&amp;c&quot;d'");
}

TEST(XmlText, KeepsLineBreaksAndTabsReadableByAParser) {
  EXPECT_EQ(escaped("a\r\nb\tc", false), "a&#13;\nb\tc");
  EXPECT_EQ(escaped("a\r\nb\tc", true), "a&#13;&#10;b&#9;c");
}

TEST(XmlText, PassesWellFormedUtf8Through) {
  std::string text = "Olá — 日本 \xF0\x9F\x98\x80";
  EXPECT_EQ(escaped(text, false), text);
}

TEST(XmlText, ReplacesWhatXmlCannotCarry) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(escaped(std::string("a\0b", 3), false), "a" + replacement + "b");
  EXPECT_EQ(escaped("\x01\x1F", false), replacement + replacement);
  EXPECT_EQ(escaped("\xC3", false), replacement);                   // truncated sequence
  EXPECT_EQ(escaped("\xC0\xAF", false), replacement + replacement); // overlong '/'
  EXPECT_EQ(escaped("\xED\xA0\x80", false), replacement + replacement + replacement); // surrogate
  EXPECT_EQ(escaped("\xEF\xBF\xBE", false), replacement + replacement + replacement); // U+FFFE
  EXPECT_EQ(escaped("\xF4\x90\x80\x80", false),
            replacement + replacement + replacement + replacement); // beyond U+10FFFF
}

TEST(XmlText, ConvertsUtf16IncludingSurrogatePairs) {
  EXPECT_EQ(utf8(u"Olá"), "Olá");
  EXPECT_EQ(utf8(u"\U0001F600"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(utf8(std::u16string(1, u'\xD800')), "\xEF\xBF\xBD");
}

} // namespace
} // namespace switchboard::xml
