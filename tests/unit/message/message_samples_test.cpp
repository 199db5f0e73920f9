// The example messages of docs/message.md, and the corpus of invalid documents.

#include "switchboard/message_codec.h"

#include "tests/support/test_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace switchboard {
namespace {

using ::testing::HasSubstr;

// "14-offer.command.xml" -> "command": each sample names its category before ".xml".
std::string categoryInName(const std::filesystem::path& path) {
  std::string stem = path.stem().string();
  return stem.substr(stem.rfind('.') + 1);
}

TEST(MessageSamples, EverySampleDecodesAndRoundTrips) {
  MessageCodec codec;
  for (const auto& path : testing::filesIn("samples/messages", ".xml")) {
    SCOPED_TRACE(path.filename().string());
    auto decoded = codec.decode(testing::readFile(path));
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    EXPECT_EQ(categoryOf(*decoded), categoryInName(path));
    std::string encoded = codec.encode(*decoded);
    auto again = codec.decode(encoded);
    ASSERT_TRUE(again.ok()) << again.error().toString() << "\n" << encoded;
    EXPECT_EQ(*again, *decoded);
    EXPECT_EQ(codec.encode(*again), encoded);
  }
}

TEST(MessageSamples, EveryKindOfTheSchemaHasASample) {
  MessageCodec codec;
  std::set<std::string> seen;
  for (const auto& path : testing::filesIn("samples/messages", ".xml")) {
    auto decoded = codec.decode(testing::readFile(path));
    ASSERT_TRUE(decoded.ok()) << path;
    if (categoryOf(*decoded) != "response") {
      seen.insert(std::string(kindOf(*decoded)));
    }
  }
  std::set<std::string> all;
  auto collect = [&all](const auto& variant) {
    [&all]<class... Kinds>(const std::variant<Kinds...>*) {
      (all.insert(std::string(Kinds::kKind)), ...);
    }(&variant);
  };
  collect(Command{});
  collect(Request{});
  collect(Notification{});
  EXPECT_EQ(all.size(), 27u);
  EXPECT_EQ(seen, all);
}

TEST(MessageSamples, EveryResponseAnswersASampleOfTheKindItNames) {
  MessageCodec codec;
  std::map<std::string, Message> byId;
  std::vector<Message> responses;
  for (const auto& path : testing::filesIn("samples/messages", ".xml")) {
    auto decoded = codec.decode(testing::readFile(path));
    ASSERT_TRUE(decoded.ok()) << path;
    if (categoryOf(*decoded) == "response") {
      responses.push_back(*decoded);
    }
    byId.emplace(decoded->id, std::move(decoded).value());
  }
  ASSERT_FALSE(responses.empty());
  for (const Message& response : responses) {
    SCOPED_TRACE(response.id);
    ASSERT_TRUE(response.correlationId.has_value());
    auto answered = byId.find(*response.correlationId);
    ASSERT_NE(answered, byId.end()) << "no sample has id " << *response.correlationId;
    EXPECT_EQ(kindOf(response), kindOf(answered->second));
    EXPECT_EQ(response.addressee, answered->second.sender);
  }
}

struct Expectation {
  std::size_t line = 0;
  std::string keyword;
};

std::map<std::string, Expectation> invalidExpectations() {
  std::map<std::string, Expectation> expectations;
  std::istringstream table(
      testing::readFile(testing::sourceDir() / "tests/data/messages/invalid/expected.tsv"));
  std::string file;
  std::string line;
  std::string keyword;
  while (std::getline(table, file, '\t') && std::getline(table, line, '\t') &&
         std::getline(table, keyword)) {
    expectations[file] = {std::stoul(line), keyword};
  }
  return expectations;
}

TEST(InvalidMessages, EachIsRefusedForItsOwnReasonAtItsPlace) {
  MessageCodec codec;
  auto expectations = invalidExpectations();
  auto files = testing::filesIn("tests/data/messages/invalid", ".xml");
  EXPECT_EQ(files.size(), expectations.size()) << "expected.tsv must list every file";
  std::set<std::string> reasons;
  for (const auto& path : files) {
    std::string name = path.filename().string();
    SCOPED_TRACE(name);
    ASSERT_TRUE(expectations.contains(name)) << "missing from expected.tsv";
    const Expectation& expected = expectations[name];
    auto decoded = codec.decode(testing::readFile(path));
    ASSERT_FALSE(decoded.ok());
    const DecodeError& error = decoded.error();
    EXPECT_TRUE(error.kind == DecodeError::Kind::Invalid ||
                error.kind == DecodeError::Kind::Malformed)
        << toString(error.kind);
    EXPECT_EQ(error.line, expected.line) << error.toString();
    EXPECT_GT(error.column, 0u);
    EXPECT_THAT(error.reason, HasSubstr(expected.keyword));
    reasons.insert(error.reason);
  }
  EXPECT_EQ(reasons.size(), files.size()) << "two files were refused for the same reason";
}

} // namespace
} // namespace switchboard
