// `switchboard config check FILE...`: what it prints and the status it exits with.

#include "switchboard/config.h"

#include "tests/support/test_data.h"
#include "tests/unit/config/config_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct CommandRun {
  int status = -1;
  std::string out;
  std::string err;
};

CommandRun run(std::vector<std::string> arguments) {
  std::vector<std::string_view> views(arguments.begin(), arguments.end());
  std::ostringstream out;
  std::ostringstream err;
  CommandRun result;
  result.status = checkConfigCommand(views, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::string quickstart() {
  return (testing::sourceDir() / "samples/quickstart/switchboard.xml").string();
}

TEST(CheckConfigCommand, AGoodFileIsOkWithASummary) {
  CommandRun result = run({quickstart()});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, quickstart() + ": ok: 1 driver, 6 agents, 4 queues, 19 rules\n");
  EXPECT_THAT(result.err, IsEmpty());
}

TEST(CheckConfigCommand, ABadFileGivesFileLineColumnSettingAndReason) {
  const std::string bad =
      (testing::sourceDir() / "tests/data/config/invalid/06-listener-port-too-large.xml").string();
  CommandRun result = run({bad});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, bad + ":4:35: listener@port: '70000' is more than 65535\n");
}

TEST(CheckConfigCommand, EveryFileIsCheckedAndAnyBadOneFails) {
  testing::TempFolder folder;
  const std::string missing = (folder.path() / "missing.xml").string();
  const std::string bad =
      (testing::sourceDir() / "tests/data/config/invalid/89-rule-queue-unknown.xml").string();
  CommandRun result = run({quickstart(), missing, bad});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, quickstart() + ": ok: 1 driver, 6 agents, 4 queues, 19 rules\n" + missing +
                            ": cannot read: No such file or directory\n" + bad +
                            ":43:27: rule@queue: no queue 'bills'\n");
}

TEST(CheckConfigCommand, SingularAndPluralInTheSummary) {
  testing::TempFolder folder;
  std::string file = folder.write("one.xml", testing::configWith({})).string();
  CommandRun result = run({file});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, file + ": ok: 0 drivers, 0 agents, 1 queue, 0 rules\n");
}

TEST(CheckConfigCommand, AWrongCommandLineExitsWithTwo) {
  CommandRun none = run({});
  EXPECT_EQ(none.status, 2);
  EXPECT_THAT(none.err, HasSubstr("config check needs at least one FILE"));
  EXPECT_THAT(none.out, IsEmpty());

  CommandRun option = run({"--strict", quickstart()});
  EXPECT_EQ(option.status, 2);
  EXPECT_THAT(option.err, HasSubstr("unknown option --strict"));
  EXPECT_THAT(option.out, IsEmpty());

  CommandRun help = run({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_THAT(help.out, HasSubstr("Usage: switchboard config check FILE..."));
}

} // namespace
} // namespace switchboard
