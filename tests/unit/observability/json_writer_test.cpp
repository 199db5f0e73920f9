#include "switchboard/json_writer.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <limits>

namespace switchboard {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsAndArraysWithCommasInPlace) {
  std::string out;
  JsonWriter json(out);
  json.beginObject()
      .member("id", "wi-1")
      .member("waiting", std::size_t{3})
      .member("oldestWaitMs", std::int64_t{-1})
      .member("serviceLevel", 0.5)
      .member("open", true);
  json.key("items").beginArray();
  json.beginObject().member("n", 1).endObject();
  json.beginObject().endObject();
  json.beginArray().endArray();
  json.value("x").null();
  json.endArray();
  json.key("empty").beginObject().endObject();
  json.endObject();
  EXPECT_EQ(out, R"({"id":"wi-1","waiting":3,"oldestWaitMs":-1,"serviceLevel":0.5,"open":true,)"
                 R"("items":[{"n":1},{},[],"x",null],"empty":{}})");
}

TEST(JsonWriterTest, EscapesStringsSoThatAParserReadsThemBack) {
  std::string text = "quote \" backslash \\ newline \n tab \t bell \x07 ção €";
  std::string out;
  JsonWriter(out).beginObject().member(text, text).endObject();
  auto parsed = Poco::JSON::Parser().parse(out).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(parsed->getValue<std::string>(text), text);
}

TEST(JsonWriterTest, InvalidUtf8BecomesAReplacementCharacter) {
  std::string out;
  JsonWriter(out).value(std::string_view("a\xff"
                                         "b"));
  EXPECT_EQ(out, "\"a\\ufffdb\"");
}

TEST(JsonWriterTest, NumbersRoundTripAndNonFiniteOnesAreNull) {
  std::string out;
  JsonWriter json(out);
  json.beginArray()
      .value(1.0)
      .value(0.1)
      .value(std::numeric_limits<double>::infinity())
      .value(std::numeric_limits<std::uint64_t>::max())
      .value(std::numeric_limits<std::int64_t>::min())
      .endArray();
  EXPECT_EQ(out, "[1,0.1,null,18446744073709551615,-9223372036854775808]");
}

TEST(JsonWriterTest, OptionalMembersAreLeftOutWhenEmpty) {
  std::string out;
  JsonWriter(out)
      .beginObject()
      .optionalMember("name", std::optional<std::string>{})
      .optionalMember("site", std::optional<std::string>{"lisbon"})
      .endObject();
  EXPECT_EQ(out, R"({"site":"lisbon"})");
}

} // namespace
} // namespace switchboard
