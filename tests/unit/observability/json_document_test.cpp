#include "switchboard/json_document.h"

#include "switchboard/json_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using Type = JsonValue::Type;

JsonDocument parsed(std::string_view text) {
  auto result = JsonDocument::parse(text);
  if (!result.ok()) {
    ADD_FAILURE() << "refused " << text << ": " << result.error().toString();
    return JsonDocument::emptyObject();
  }
  return std::move(result).value();
}

/// The error for `text`, which must be refused.
JsonError refused(std::string_view text) {
  auto result = JsonDocument::parse(text);
  if (result.ok()) {
    ADD_FAILURE() << "accepted " << text;
    return {};
  }
  return result.error();
}

std::string message(std::string_view text) {
  return refused(text).toString();
}

TEST(JsonDocumentTest, ReadsAWorkItemBodyWithMembersInOrder) {
  std::string text = R"({"medium":"web","subject":"Call me back about my invoice",)"
                     R"("customer":{"name":"Carol","addresses":[{"kind":"phone",)"
                     R"("value":"+351210000000"}]},"attributes":{"topic":"billing"}})";
  auto document = parsed(text);
  const JsonValue& root = document.root();
  ASSERT_TRUE(root.isObject());
  std::vector<std::string_view> names;
  for (auto member : root.members()) {
    names.push_back(member.name);
  }
  EXPECT_EQ(names, (std::vector<std::string_view>{"medium", "subject", "customer", "attributes"}));
  EXPECT_EQ(root.find("medium")->string(), "web");
  EXPECT_EQ(root.indexOf("customer"), 2u);
  EXPECT_EQ(root.find("nothing"), nullptr);
  const JsonValue& addresses = *root.find("customer")->find("addresses");
  ASSERT_TRUE(addresses.isArray());
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses.elements()[0].find("value")->string(), "+351210000000");
  EXPECT_EQ(root.members()[3].value.find("topic")->string(), "billing");
}

TEST(JsonDocumentTest, ReadsEveryKindOfValueAnywhereAtTheTop) {
  EXPECT_TRUE(parsed("null").root().isNull());
  EXPECT_TRUE(parsed(" true ").root().boolean());
  EXPECT_TRUE(parsed("false").root().isBool());
  EXPECT_FALSE(parsed("false").root().boolean());
  EXPECT_EQ(parsed("\"x\"").root().string(), "x");
  EXPECT_EQ(parsed("\t\r\n 42 \n").root().integer(), 42);
  EXPECT_EQ(parsed("[]").root().size(), 0u);
  EXPECT_EQ(parsed("{}").root().size(), 0u);
  auto array = parsed(R"([1, "two", [3], {"four": 4}, true, null, -5.5])");
  ASSERT_EQ(array.root().size(), 7u);
  auto elements = array.root().elements();
  EXPECT_EQ(elements[0].type(), Type::Integer);
  EXPECT_EQ(elements[1].string(), "two");
  EXPECT_EQ(elements[2].elements()[0].integer(), 3);
  EXPECT_EQ(elements[3].find("four")->integer(), 4);
  EXPECT_TRUE(elements[5].isNull());
  EXPECT_EQ(elements[6].number(), -5.5);
}

TEST(JsonDocumentTest, AccessorsOfAnotherTypeAnswerEmpty) {
  auto document = parsed(R"({"s":"text","n":7})");
  const JsonValue& root = document.root();
  EXPECT_EQ(root.find("s")->integer(), 0);
  EXPECT_EQ(root.find("n")->string(), "");
  EXPECT_EQ(root.find("n")->size(), 0u);
  EXPECT_EQ(root.find("n")->find("x"), nullptr);
  EXPECT_TRUE(root.find("s")->elements().empty());
  EXPECT_TRUE(root.elements().empty());
}

TEST(JsonDocumentTest, IntegersAreExactInInt64AndTellIntegralFromFraction) {
  auto document = parsed("[9223372036854775807, -9223372036854775808, -0, 3, 3.0, 1e2, 1.5,"
                         " 9223372036854775808, -9223372036854775809, 123456789012345678901234]");
  auto n = document.root().elements();
  EXPECT_EQ(n[0].type(), Type::Integer);
  EXPECT_EQ(n[0].integer(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(n[1].integer(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(n[2].type(), Type::Integer);
  EXPECT_EQ(n[2].integer(), 0);
  EXPECT_TRUE(n[3].integral());
  for (int i : {4, 5, 6}) {
    EXPECT_EQ(n[i].type(), Type::Number) << i;
    EXPECT_FALSE(n[i].integral()) << i;
  }
  EXPECT_EQ(n[4].number(), 3.0);
  EXPECT_EQ(n[5].number(), 100.0);
  // Beyond int64: a double, still known to be written as an integer.
  for (int i : {7, 8, 9}) {
    EXPECT_EQ(n[i].type(), Type::Number) << i;
    EXPECT_TRUE(n[i].integral()) << i;
  }
  EXPECT_EQ(n[7].number(), 9223372036854775808.0);
  EXPECT_DOUBLE_EQ(n[9].number(), 1.2345678901234568e23);
}

TEST(JsonDocumentTest, NumbersAtTheEdgesOfADouble) {
  auto document = parsed("[1.7976931348623157e308, 5e-324, 1e-400, -1e-400, 0e999999999999,"
                         " 0.000000000000000000001e-400, 2.5E+3, 1E-2]");
  auto n = document.root().elements();
  EXPECT_EQ(n[0].number(), std::numeric_limits<double>::max());
  EXPECT_EQ(n[1].number(), std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(n[2].number(), 0.0);
  EXPECT_EQ(n[3].number(), 0.0);
  EXPECT_TRUE(std::signbit(n[3].number()));
  EXPECT_EQ(n[4].number(), 0.0);
  EXPECT_EQ(n[5].number(), 0.0);
  EXPECT_EQ(n[6].number(), 2500.0);
  EXPECT_EQ(n[7].number(), 0.01);
  EXPECT_THAT(message("[1e309]"), HasSubstr("column 2: a number beyond the range of a double"));
  EXPECT_THAT(message("-123456789e99999999999999"), HasSubstr("beyond the range"));
  EXPECT_THAT(message("[1.7976931348623159e308]"), HasSubstr("beyond the range"));
}

TEST(JsonDocumentTest, UnescapesEveryEscapeAndSurrogatePairs) {
  auto document = parsed(R"(["\"\\\/\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00", "a\u0000b",)"
                         R"( "\uDBFF\uDFFF", "plain é"])");
  auto s = document.root().elements();
  EXPECT_EQ(s[0].string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(s[1].string(), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(s[2].string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(s[3].string(), std::string_view("a\0b", 3));
  EXPECT_EQ(s[4].string(), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(s[5].string(), "plain \xC3\xA9");
}

TEST(JsonDocumentTest, StringsWithoutEscapesPointIntoTheText) {
  std::string text = R"({"plain":"as written","escaped":"tab\there"})";
  auto document = parsed(text);
  auto plain = document.root().find("plain")->string();
  auto escaped = document.root().find("escaped")->string();
  EXPECT_EQ(plain.data(), text.data() + text.find("as written"));
  EXPECT_EQ(escaped, "tab\there");
  EXPECT_TRUE(escaped.data() < text.data() || escaped.data() >= text.data() + text.size());
}

TEST(JsonDocumentTest, AMovedDocumentKeepsItsValues) {
  std::string text = R"({"a":[1,2,{"b":"c\n"}]})";
  auto first = parsed(text);
  const JsonValue* b = first.root().find("a")->elements()[2].find("b");
  JsonDocument second = std::move(first);
  EXPECT_EQ(second.root().find("a")->elements()[2].find("b"), b);
  EXPECT_EQ(b->string(), "c\n");
}

TEST(JsonDocumentTest, AnEmptyObjectDocument) {
  auto document = JsonDocument::emptyObject();
  EXPECT_TRUE(document.root().isObject());
  EXPECT_EQ(document.root().size(), 0u);
  EXPECT_EQ(document.root().find("x"), nullptr);
}

// -------------------------------------------------------------------------- strictness

TEST(JsonDocumentTest, RefusesTrailingCommas) {
  EXPECT_EQ(message(R"({"a":1,})"),
            "line 1, column 8: expected a member name in double quotes, found '}'");
  EXPECT_EQ(message("[1,2,]"), "line 1, column 6: expected a value, found ']'");
  EXPECT_THAT(message("[,]"), HasSubstr("expected a value, found ','"));
  EXPECT_THAT(message(R"({,"a":1})"), HasSubstr("expected a member name"));
}

TEST(JsonDocumentTest, RefusesCommentsSingleQuotesAndBareWords) {
  EXPECT_THAT(message("{\"a\":1 // note\n}"),
              HasSubstr("column 8: expected ',' or '}' after a member, found '/'"));
  EXPECT_THAT(message("/* c */ {}"), HasSubstr("column 1: expected a value, found '/'"));
  EXPECT_THAT(message("{'a':1}"),
              HasSubstr("expected a member name in double quotes, found \"'\""));
  EXPECT_THAT(message("['a']"), HasSubstr("expected a value, found \"'\""));
  EXPECT_THAT(message("{a:1}"), HasSubstr("found 'a'"));
  EXPECT_THAT(message("[tru]"), HasSubstr("column 2: expected a value"));
  EXPECT_THAT(message("nul"), HasSubstr("expected a value"));
  EXPECT_THAT(message("True"), HasSubstr("found 'T'"));
}

TEST(JsonDocumentTest, RefusesLeadingZerosAndMalformedNumbers) {
  EXPECT_EQ(message("[01]"), "line 1, column 2: a number with a leading zero");
  EXPECT_THAT(message("-01"), HasSubstr("leading zero"));
  EXPECT_THAT(message("00"), HasSubstr("leading zero"));
  EXPECT_THAT(message("1."), HasSubstr("expected a digit after the decimal point, found the end"));
  EXPECT_THAT(message(".5"), HasSubstr("expected a value, found '.'"));
  EXPECT_THAT(message("1e"), HasSubstr("expected a digit in the exponent"));
  EXPECT_THAT(message("1e+"), HasSubstr("expected a digit in the exponent"));
  EXPECT_THAT(message("+1"), HasSubstr("expected a value, found '+'"));
  EXPECT_THAT(message("-"), HasSubstr("expected a digit after '-'"));
  EXPECT_THAT(message("0x10"), HasSubstr("found 'x'"));
  EXPECT_THAT(message("1.5.2"), HasSubstr("after the value, found '.'"));
}

TEST(JsonDocumentTest, RefusesNanAndInfinity) {
  EXPECT_THAT(message("NaN"), HasSubstr("expected a value, found 'N'"));
  EXPECT_THAT(message("[Infinity]"), HasSubstr("expected a value, found 'I'"));
  EXPECT_THAT(message("-Infinity"), HasSubstr("expected a digit after '-', found 'I'"));
  EXPECT_THAT(message("{\"a\":nan}"), HasSubstr("expected a value"));
}

TEST(JsonDocumentTest, RefusesControlCharactersInStrings) {
  EXPECT_EQ(message("[\"a\tb\"]"),
            "line 1, column 4: unescaped control character U+0009 in a string");
  EXPECT_THAT(message("\"line\nbreak\""), HasSubstr("U+000A"));
  EXPECT_THAT(message(std::string_view("\"nul\0\"", 6)), HasSubstr("U+0000"));
  EXPECT_THAT(message("\"esc\\u0041\x1f\""), HasSubstr("U+001F"));
  // DEL is not a control character to JSON.
  EXPECT_EQ(parsed("\"\x7f\"").root().string(), "\x7f");
}

TEST(JsonDocumentTest, RefusesInvalidUtf8) {
  for (std::string bad : {
           "\xC0\xAF",         // overlong '/'
           "\xC1\xBF",         // overlong
           "\xE0\x80\xAF",     // overlong '/' in three bytes
           "\xF0\x80\x80\xAF", // overlong '/' in four bytes
           "\xED\xA0\x80",     // the surrogate U+D800 encoded in UTF-8
           "\xED\xBF\xBF",     // U+DFFF
           "\xF4\x90\x80\x80", // U+110000
           "\xF5\x80\x80\x80", // beyond any code point
           "\xFF",             //
           "\x80",             // a lone continuation byte
           "\xE2\x82",         // cut short
           "\xC3\x28",         // a lead byte before ASCII
       }) {
    std::string text = "\"ok " + bad + "\"";
    EXPECT_THAT(message(text), HasSubstr("column 5: invalid UTF-8 in a string")) << text;
    std::string escaped = "\"\\n " + bad + "\"";
    EXPECT_THAT(message(escaped), HasSubstr("invalid UTF-8 in a string")) << escaped;
  }
  // The largest code points of each length are fine.
  auto document =
      parsed("[\"\xDF\xBF\", \"\xEF\xBF\xBF\", \"\xF4\x8F\xBF\xBF\", \"\xED\x9F\xBF\"]");
  EXPECT_EQ(document.root().elements()[2].string(), "\xF4\x8F\xBF\xBF");
  EXPECT_THAT(message("[\xC3\xA9]"), HasSubstr("expected a value, found '\xC3\xA9'"));
  EXPECT_THAT(message("[\xFF]"), HasSubstr("expected a value, found byte 0xFF"));
}

TEST(JsonDocumentTest, RefusesLoneAndMismatchedSurrogateEscapes) {
  EXPECT_EQ(message(R"(["\ud800"])"), "line 1, column 3: the high surrogate \\uD800 must be "
                                      "followed by a low surrogate \\uDC00-\\uDFFF");
  EXPECT_THAT(message(R"("\ud800\u0041")"), HasSubstr("high surrogate \\uD800"));
  EXPECT_THAT(message(R"("\ud800\ud800")"), HasSubstr("high surrogate"));
  EXPECT_THAT(message(R"("\ud800x\udc00")"), HasSubstr("high surrogate"));
  EXPECT_THAT(message(R"("\udc00")"), HasSubstr("the low surrogate \\uDC00 without a high"));
  EXPECT_THAT(message(R"("\ude00\ud83d")"), HasSubstr("low surrogate"));
  EXPECT_THAT(message(R"("\ud83d)"), HasSubstr("high surrogate"));
}

TEST(JsonDocumentTest, RefusesBadEscapesAndUnendedStrings) {
  EXPECT_THAT(message(R"("\x41")"), HasSubstr("invalid escape in a string: a backslash "
                                              "followed by 'x'"));
  EXPECT_THAT(message(R"("\U0041")"), HasSubstr("followed by 'U'"));
  EXPECT_THAT(message(R"("\u004")"), HasSubstr("four hex digits"));
  EXPECT_THAT(message(R"("\u00G1")"), HasSubstr("four hex digits"));
  EXPECT_THAT(message("\"\\'\""), HasSubstr("followed by \"'\""));
  EXPECT_EQ(message(R"({"a":"never)"), "line 1, column 6: a string that never ends");
  EXPECT_THAT(message(R"("esc\n never)"), HasSubstr("column 1: a string that never ends"));
  EXPECT_THAT(message(R"("\)"), HasSubstr("never ends"));
}

TEST(JsonDocumentTest, RefusesAnythingAfterTheValue) {
  EXPECT_EQ(message("{} x"), "line 1, column 4: expected the end of the text after the value, "
                             "found 'x'");
  EXPECT_THAT(message("{}{}"), HasSubstr("after the value, found '{'"));
  EXPECT_THAT(message("1 2"), HasSubstr("after the value"));
  EXPECT_THAT(message(std::string_view("{}\0", 3)), HasSubstr("found byte 0x00"));
  EXPECT_THAT(message("\xEF\xBB\xBF{}"), HasSubstr("column 1: expected a value"));
  EXPECT_THAT(message("{}\f"), HasSubstr("byte 0x0C"));
}

TEST(JsonDocumentTest, RefusesAnEmptyOrUnfinishedText) {
  EXPECT_EQ(message(""), "line 1, column 1: expected a value, found the end of the text");
  EXPECT_THAT(message("  \n "), HasSubstr("line 2, column 2: expected a value"));
  EXPECT_THAT(message("{"), HasSubstr("expected a member name in double quotes, found the end"));
  EXPECT_THAT(message("["), HasSubstr("expected a value, found the end of the text"));
  EXPECT_THAT(message(R"({"a")"), HasSubstr("expected ':' after the member name, found the end"));
  EXPECT_THAT(message(R"({"a":)"), HasSubstr("expected a value"));
  EXPECT_THAT(message(R"({"a":1)"), HasSubstr("expected ',' or '}' after a member, found the end"));
  EXPECT_THAT(message("[1"), HasSubstr("expected ',' or ']' after an element, found the end"));
  EXPECT_THAT(message("[1}"), HasSubstr("expected ',' or ']' after an element, found '}'"));
  EXPECT_THAT(message(R"({"a":1])"), HasSubstr("found ']'"));
}

TEST(JsonDocumentTest, RefusesADuplicateMemberNameNamingIt) {
  EXPECT_EQ(message(R"({"medium":"web", "medium":"chat"})"),
            "line 1, column 18: the member name \"medium\" appears twice in one object");
  // Names compare unescaped.
  EXPECT_THAT(message(R"({"a":1,"\u0061":2})"), HasSubstr("column 8: the member name \"a\""));
  EXPECT_THAT(message(R"({"x":{"a":1,"b":2,"a":3}})"), HasSubstr("column 19"));
  // The same name in different objects is fine.
  auto document = parsed(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})");
  EXPECT_EQ(document.root().find("a")->find("a")->integer(), 1);
  // An unprintable name is shown escaped and cut short.
  EXPECT_THAT(
      message("{\"\\n" + std::string(100, 'n') + "\":1,\"\\n" + std::string(100, 'n') + "\":2}"),
      HasSubstr("the member name \"\\nnnnn"));
}

TEST(JsonDocumentTest, FindsTheFirstDuplicateInALargeObject) {
  std::string text = "{\n";
  for (int i = 0; i < 5000; ++i) {
    text += "\"m" + std::to_string(i) + "\":" + std::to_string(i) + ",\n";
  }
  auto unique = text;
  unique += "\"last\":0}";
  EXPECT_EQ(parsed(unique).root().size(), 5001u);
  text += "\"m4000\":1,\n\"m17\":2}";
  EXPECT_EQ(message(text), "line 5002, column 1: the member name \"m4000\" appears twice in one "
                           "object");
  // Around the size where the check changes method: the first member whose name came before.
  for (int members : {16, 17, 40}) {
    std::vector<std::string> names;
    for (int i = 0; i < members; ++i) {
      names.push_back("x" + std::to_string(i));
    }
    names[0] = names[static_cast<std::size_t>(members - 1)] = "a";
    names[1] = names[static_cast<std::size_t>(members / 2)] = "b";
    std::string object = "{";
    for (const auto& name : names) {
      object += "\"" + name + "\":0,";
    }
    object.back() = '}';
    EXPECT_THAT(message(object), HasSubstr("the member name \"b\"")) << object;
  }
  EXPECT_THAT(message(R"({"":1,"":2})"), HasSubstr("the member name \"\" appears twice"));
}

TEST(JsonDocumentTest, NestingIsLimitedWithoutRecursion) {
  auto nested = [](std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) {
      text += i % 2 == 0 ? "[" : "{\"k\":";
    }
    text += "0";
    for (std::size_t i = depth; i-- > 0;) {
      text += i % 2 == 0 ? "]" : "}";
    }
    return text;
  };
  std::string text = nested(kJsonMaxDepth); // the document's names point into it
  auto deepest = parsed(text);
  const JsonValue* value = &deepest.root();
  for (std::size_t i = 0; i < kJsonMaxDepth; ++i) {
    value = value->isArray() ? &value->elements()[0] : value->find("k");
    ASSERT_NE(value, nullptr);
  }
  EXPECT_EQ(value->integer(), 0);
  EXPECT_THAT(message(nested(kJsonMaxDepth + 1)),
              HasSubstr("arrays and objects nested deeper than 64 levels"));
  EXPECT_THAT(message(std::string(1'000'000, '[')), HasSubstr("column 65: arrays and objects"));
  // A caller may allow more; the parser still does not recurse.
  std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  auto result = JsonDocument::parse(deep, 1'000'000);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->root().isArray());
}

TEST(JsonDocumentTest, PositionsCountLinesAndCharacters) {
  EXPECT_EQ(refused("{\n  \"a\": 1,\n  \"b\": x\n}").toString(),
            "line 3, column 8: expected a value, found 'x'");
  auto error = refused("{\"\xC3\xA9\xE2\x82\xAC\": tru}");
  EXPECT_EQ(error.line, 1u);
  EXPECT_EQ(error.column, 8u);
  EXPECT_EQ(error.offset, 10u);
  EXPECT_THAT(message("[1,\r\n2,\r\n\t]"), HasSubstr("line 3, column 2"));
}

// ------------------------------------------------------------------------ equality, writing

TEST(JsonDocumentTest, ValuesCompareByValue) {
  EXPECT_EQ(parsed("[1, 2.5, {\"a\": null}]").root(), parsed("[1.0,25e-1,{\"a\":null}]").root());
  EXPECT_EQ(parsed("-0.0").root(), parsed("0").root());
  EXPECT_EQ(parsed("\"\\u0041\"").root(), parsed("\"A\"").root());
  EXPECT_NE(parsed("[1]").root(), parsed("[1, 2]").root());
  EXPECT_NE(parsed(R"({"a":1,"b":2})").root(), parsed(R"({"b":2,"a":1})").root());
  EXPECT_NE(parsed("1").root(), parsed("true").root());
  EXPECT_NE(parsed("9007199254740993").root(), parsed("9007199254740992.0").root());
  EXPECT_NE(parsed("9223372036854775807").root(), parsed("9223372036854775808").root());
  EXPECT_NE(parsed("\"1\"").root(), parsed("1").root());
  EXPECT_NE(parsed("{}").root(), parsed("[]").root());
}

TEST(JsonDocumentTest, WritesBackWhatItRead) {
  std::string text = R"({"a":[1,-2.5,true,false,null,"x\n\u0001\u00e9"],"b":{},"c":[],)"
                     R"("d":1e300,"e":-9223372036854775808})";
  auto document = parsed(text);
  std::string written;
  JsonWriter writer(written);
  writeJson(writer, document.root());
  EXPECT_EQ(written, R"({"a":[1,-2.5,true,false,null,"x\n\u0001é"],"b":{},"c":[],)"
                     R"("d":1e+300,"e":-9223372036854775808})");
  EXPECT_EQ(parsed(written).root(), document.root());
}

} // namespace
} // namespace switchboard
