// Reading request bodies: parseObject and the field readers over JsonDocument. The HTTP tests
// (http_api_test.cpp) cover the same answers through the server; these pin the details.

#include "json_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace switchboard::api {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kPostBody =
    R"({"medium":"web","subject":"Call me back about my invoice","customer":{"name":"Carol",)"
    R"("addresses":[{"kind":"phone","value":"+351210000000"}]},"attributes":{"topic":"billing"}})";

/// The ApiError that `action` throws; fails the test when it throws none.
ApiError errorOf(const std::function<void()>& action) {
  try {
    action();
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), ApiErrorCode::BadRequest);
    return error;
  }
  ADD_FAILURE() << "no ApiError";
  return ApiError(ApiErrorCode::Internal, "none");
}

/// The detail of the error that reading `body` as a work item throws.
std::string workItemError(std::string_view body) {
  return errorOf([&] { workItemFromJson(parseObject(body, false).root()); }).detail();
}

WorkItem workItem(std::string_view body) {
  return workItemFromJson(parseObject(body, false).root());
}

TEST(JsonMappingTest, ReadsTheBenchmarkBodyIntoAWorkItem) {
  WorkItem item = workItem(kPostBody);
  EXPECT_EQ(item.medium, "web");
  EXPECT_EQ(item.subject, "Call me back about my invoice");
  ASSERT_TRUE(item.customer);
  EXPECT_EQ(item.customer->name, "Carol");
  ASSERT_EQ(item.customer->addresses.size(), 1u);
  EXPECT_EQ(item.customer->addresses[0].kind, "phone");
  EXPECT_EQ(item.customer->addresses[0].value, "+351210000000");
  EXPECT_EQ(item.attributes, (std::vector<Attribute>{{"topic", "billing"}}));
  EXPECT_FALSE(item.priority);
  EXPECT_FALSE(item.body);
}

TEST(JsonMappingTest, MalformedJsonIsA400NamingThePlace) {
  auto error = errorOf([] { parseObject("{\n\"medium\": \"web\",\n}", false); });
  EXPECT_EQ(error.title(), "Malformed JSON");
  EXPECT_EQ(error.detail(), "the body is not valid JSON: line 3, column 1: expected a member "
                            "name in double quotes, found '}'");
  EXPECT_THAT(errorOf([] { parseObject("[1,2]", false); }).detail(),
              HasSubstr("the body must be a JSON object"));
  EXPECT_THAT(errorOf([] { parseObject("\"text\"", true); }).detail(),
              HasSubstr("must be a JSON object"));
}

TEST(JsonMappingTest, ADuplicateMemberIsRefusedNamingIt) {
  auto error = errorOf([] { parseObject(R"({"medium":"web","medium":"chat"})", false); });
  EXPECT_EQ(error.title(), "Malformed JSON");
  EXPECT_THAT(error.detail(),
              HasSubstr("line 1, column 17: the member name \"medium\" appears twice"));
  EXPECT_THAT(workItemError(R"({"medium":"web","customer":{"name":"a","name":"b"}})"),
              HasSubstr("the member name \"name\" appears twice"));
}

TEST(JsonMappingTest, AnEmptyBodyIsAnEmptyObjectOnlyWhereAllowed) {
  auto empty = parseObject(" \r\n", true);
  EXPECT_TRUE(empty.root().isObject());
  EXPECT_EQ(empty.root().size(), 0u);
  JsonReader(empty.root()).done();
  EXPECT_THAT(errorOf([] { parseObject("", false); }).detail(),
              HasSubstr("needs a JSON object as its body"));
}

TEST(JsonMappingTest, IntegersMustBeWrittenAsIntegersInRange) {
  EXPECT_EQ(workItem(R"({"medium":"web","priority":3})").priority, 3);
  EXPECT_EQ(workItem(R"({"medium":"web","priority":-0})").priority, 0);
  for (auto number : {"3.0", "1.5", "1e2", "true", "\"3\""}) {
    EXPECT_EQ(workItemError(std::string(R"({"medium":"web","priority":)") + number + "}"),
              "field 'priority': expected an integer")
        << number;
  }
  EXPECT_EQ(workItemError(R"({"medium":"web","priority":101})"),
            "field 'priority': expected an integer from 0 to 100");
  EXPECT_EQ(workItemError(R"({"medium":"web","priority":9223372036854775808})"),
            "field 'priority': integer out of range");
  EXPECT_EQ(workItemError(R"({"medium":"web","priority":-99999999999999999999999})"),
            "field 'priority': integer out of range");
  // Poco::JSON wrapped this one to 0, which passed the range check.
  EXPECT_EQ(workItemError(R"({"medium":"web","priority":18446744073709551616})"),
            "field 'priority': integer out of range");
}

TEST(JsonMappingTest, NullReadsAsAbsent) {
  WorkItem item = workItem(R"({"medium":"web","subject":null,"customer":null,"priority":null})");
  EXPECT_FALSE(item.subject);
  EXPECT_FALSE(item.customer);
  EXPECT_FALSE(item.priority);
  // ... but a body named with null is still one asked for.
  EXPECT_THAT(workItemError(R"({"medium":"web","body":null})"), HasSubstr("'body': required"));
  EXPECT_THAT(workItemError(R"({"medium":null})"),
              HasSubstr("'medium': required, a non-empty string"));
}

TEST(JsonMappingTest, ErrorsNameTheFieldWithItsPath) {
  EXPECT_EQ(workItemError(R"({"medium":"web","customer":{"addresses":[{"kind":"phone",)"
                          R"("value":"1"},{"kind":"email"}]}})"),
            "field 'customer.addresses[1].value': required, a non-empty string");
  EXPECT_EQ(workItemError(R"({"medium":"web","customer":{"addresses":[{"kind":"phone",)"
                          R"("value":"1","extra":true}]}})"),
            "unknown field 'customer.addresses[0].extra'");
  EXPECT_EQ(workItemError(R"({"medium":"web","customer":{"addresses":[1]}})"),
            "field 'customer.addresses': expected an array of objects");
  EXPECT_EQ(workItemError(R"({"medium":"web","attributes":{"topic":1}})"),
            "field 'attributes.topic': expected a string");
  EXPECT_EQ(workItemError(R"({"medium":"web","body":{"text":"x","mime":"y"}})"),
            "unknown field 'body.mime'");
  EXPECT_EQ(workItemError(R"({"medium":"web","attachments":[{"type":"a/b","digest":"x"}]})"),
            "field 'attachments[0].digest': expected \"sha256:\" and 64 hex digits");
  EXPECT_EQ(workItemError(R"({"medium":"web","contactPoint":"x"})"),
            "field 'contactPoint': expected an object");
  EXPECT_EQ(workItemError(R"({"medium":"Web"})"),
            "field 'medium': expected a lower-case token (email, fax, chat, voice, ...)");
  // A wrong field is reported before an unknown one, as the readers meet them.
  EXPECT_EQ(workItemError(R"({"nickname":"x","medium":"web","subject":7})"),
            "field 'subject': expected a string");
}

TEST(JsonMappingTest, TheFirstUnknownFieldIsNamedEvenInALargeObject) {
  std::string body = "{";
  for (int i = 0; i < 70; ++i) {
    body += "\"x" + std::to_string(i) + "\":0,";
  }
  body += R"("medium":"web"})";
  EXPECT_EQ(workItemError(body), "unknown field 'x0'");
  body = R"({"medium":"web",)";
  for (int i = 0; i < 70; ++i) {
    body += "\"subject" + std::string(i == 69 ? "" : std::to_string(i)) + "\":\"s\",";
  }
  body.back() = '}';
  EXPECT_EQ(workItemError(body), "unknown field 'subject0'");
}

TEST(JsonMappingTest, AttributesKeepTheOrderGiven) {
  WorkItem item = workItem(R"({"medium":"web","attributes":{"zeta":"1","alpha":"2"}})");
  EXPECT_EQ(item.attributes, (std::vector<Attribute>{{"zeta", "1"}, {"alpha", "2"}}));
}

TEST(JsonMappingTest, AgentProfilesRefuseReadOnlyFieldsEvenWhenNull) {
  auto profile = parseObject(R"({"name":"Dave","skills":[{"name":"billing","level":7}],)"
                             R"("capacity":[{"medium":"chat","max":3}],"seniority":4})",
                             false);
  Agent agent = agentFromJson(profile.root(), "dave");
  EXPECT_EQ(agent.id, "dave");
  EXPECT_EQ(agent.name, "Dave");
  ASSERT_EQ(agent.skills.size(), 1u);
  EXPECT_EQ(agent.skills[0].level, 7);
  ASSERT_EQ(agent.capacity.size(), 1u);
  EXPECT_EQ(agent.capacity[0].max, 3);
  EXPECT_EQ(agent.seniority, 4);
  auto withState = parseObject(R"({"state":null})", false);
  EXPECT_THAT(errorOf([&] { agentFromJson(withState.root(), "dave"); }).detail(),
              HasSubstr("'state': read-only"));
  auto noMax = parseObject(R"({"capacity":[{"medium":"chat"}]})", false);
  EXPECT_EQ(errorOf([&] { agentFromJson(noMax.root(), "dave"); }).detail(),
            "field 'capacity[0].max': required, an integer from 0 to 1000");
}

TEST(JsonMappingTest, FieldReadersCheckTypes) {
  auto body = parseObject(R"({"flag":true,"text":"é\n","list":[],"object":{},"n":1})", false);
  JsonReader reader(body.root());
  EXPECT_EQ(reader.optBool("flag"), true);
  EXPECT_EQ(reader.optString("text"), "é\n");
  EXPECT_NE(reader.optArray("list"), nullptr);
  EXPECT_NE(reader.optObject("object"), nullptr);
  EXPECT_EQ(reader.optString("absent"), std::nullopt);
  EXPECT_THAT(errorOf([&] { reader.done(); }).detail(), HasSubstr("unknown field 'n'"));
  EXPECT_THAT(errorOf([&] { reader.optBool("n"); }).detail(), HasSubstr("expected true or false"));
  EXPECT_THAT(errorOf([&] { reader.optArray("object"); }).detail(),
              HasSubstr("'object': expected an array"));
  EXPECT_THAT(errorOf([&] { reader.optObject("list"); }).detail(),
              HasSubstr("'list': expected an object"));
  EXPECT_EQ(reader.optInteger("n", 0, 1), 1);
  reader.done();
}

} // namespace
} // namespace switchboard::api
