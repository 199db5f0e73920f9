#include "cli.h"

#include "tests/support/test_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct CliRun {
  int status = -1;
  std::string out;
  std::string err;
};

CliRun run(std::vector<std::string> arguments) {
  std::vector<std::string_view> views(arguments.begin(), arguments.end());
  std::ostringstream out;
  std::ostringstream err;
  CliRun result;
  result.status = runCli(views, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::string sample(std::string_view name) {
  return (testing::sourceDir() / "samples/messages" / name).string();
}

TEST(Cli, ValidatesMessagesAndPrintsOkForEach) {
  std::vector<std::string> arguments{"message", "validate"};
  for (const auto& path : testing::filesIn("samples/messages", ".xml")) {
    arguments.push_back(path.string());
  }
  CliRun result = run(arguments);
  EXPECT_EQ(result.status, kExitOk) << result.out << result.err;
  std::istringstream lines(result.out);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_THAT(line, ::testing::EndsWith(": ok"));
  }
  EXPECT_EQ(count, arguments.size() - 2);
}

TEST(Cli, NamesFileLineColumnAndReasonOfAnInvalidMessage) {
  auto invalid = testing::filesIn("tests/data/messages/invalid", ".xml").front().string();
  CliRun result = run({"message", "validate", sample("03-ping.request.xml"), invalid});
  EXPECT_EQ(result.status, kExitInvalid);
  EXPECT_THAT(result.out, HasSubstr("03-ping.request.xml: ok\n"));
  EXPECT_THAT(result.out, HasSubstr(invalid + ":"));
  std::string last = result.out.substr(result.out.find(invalid));
  EXPECT_THAT(last, MatchesRegex(".*:[0-9]+:[0-9]+: .+\n"));
}

TEST(Cli, AnUnreadableFileIsInvalidNotACrash) {
  CliRun result = run({"message", "validate", "/nonexistent/file.xml"});
  EXPECT_EQ(result.status, kExitInvalid);
  EXPECT_THAT(result.out, HasSubstr("/nonexistent/file.xml: cannot read"));
}

TEST(Cli, LimitsCanBeSetOnTheCommandLine) {
  CliRun result = run({"message", "validate", "--max-bytes", "100", sample("03-ping.request.xml")});
  EXPECT_EQ(result.status, kExitInvalid);
  EXPECT_THAT(result.out, HasSubstr("more than the limit of 100"));
  EXPECT_EQ(run({"message", "validate", "--max-depth", "x", "f"}).status, kExitUsage);
}

TEST(Cli, HelpVersionAndWrongCommandLines) {
  CliRun help = run({"--help"});
  EXPECT_EQ(help.status, kExitOk);
  EXPECT_THAT(help.out, HasSubstr("message validate FILE"));
  EXPECT_THAT(run({"--version"}).out, HasSubstr("switchboard"));
  EXPECT_EQ(run({}).status, kExitUsage);
  CliRun unknown = run({"frobnicate"});
  EXPECT_EQ(unknown.status, kExitUsage);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command frobnicate"));
  EXPECT_EQ(run({"message", "validate"}).status, kExitUsage);
  EXPECT_EQ(run({"message", "validate", "--bogus", "f"}).status, kExitUsage);
}

TEST(Cli, PrintsTheSchemaItValidatesAgainst) {
  CliRun result = run({"message", "schema"});
  EXPECT_EQ(result.status, kExitOk);
  EXPECT_EQ(result.out, testing::readFile(testing::sourceDir() / "schemas/message/v1/message.xsd"));
}

} // namespace
} // namespace switchboard
