// Bad configurations: each stops the load with an error naming the file, the line and the
// setting. The table tests/data/config/invalid/expected.tsv lists every file with the line,
// setting and (part of the) reason it must be refused with.

#include "switchboard/config.h"

#include "tests/support/test_data.h"
#include "tests/unit/config/config_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Every secret the corpus and these tests write: none may ever appear in an error.
constexpr std::string_view kSecrets[] = {"test-secret-0123456789",
                                         "test-token-secret-0123456789abcdef0123",
                                         "another-secret-0123456789",
                                         "too-short-for-hmac",
                                         "host=db",
                                         "abc\""};

struct Expectation {
  std::string file;
  std::size_t line = 0;
  std::string setting;
  std::string reason;
};

std::vector<Expectation> expectations() {
  std::istringstream table(
      testing::readFile(testing::sourceDir() / "tests/data/config/invalid/expected.tsv"));
  std::vector<Expectation> rows;
  std::string row;
  while (std::getline(table, row)) {
    if (row.empty() || row.front() == '#') {
      continue;
    }
    std::istringstream fields(row);
    Expectation expectation;
    std::string line;
    std::getline(fields, expectation.file, '\t');
    std::getline(fields, line, '\t');
    std::getline(fields, expectation.setting, '\t');
    std::getline(fields, expectation.reason);
    expectation.line = std::stoul(line);
    rows.push_back(std::move(expectation));
  }
  return rows;
}

ConfigError errorOf(const std::filesystem::path& file) {
  try {
    loadConfig(file);
  } catch (const ConfigError& error) {
    return error;
  }
  throw std::runtime_error(file.string() + " loaded without an error");
}

TEST(ConfigErrors, EveryInvalidFileIsListedInTheTable) {
  std::vector<std::filesystem::path> files = testing::filesIn("tests/data/config/invalid", ".xml");
  std::vector<Expectation> rows = expectations();
  ASSERT_EQ(files.size(), rows.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].filename().string(), rows[i].file);
  }
}

TEST(ConfigErrors, EachNamesTheFileLineAndSetting) {
  ::unsetenv("SB_CONFIG_TEST_UNSET");
  const std::filesystem::path folder = testing::sourceDir() / "tests/data/config/invalid";
  for (const Expectation& expected : expectations()) {
    SCOPED_TRACE(expected.file);
    ConfigError error = errorOf(folder / expected.file);
    EXPECT_EQ(error.file(), folder / expected.file);
    EXPECT_EQ(error.position().line, expected.line);
    EXPECT_GT(error.position().column, 0u);
    EXPECT_EQ(error.setting(), expected.setting);
    EXPECT_THAT(error.reason(), HasSubstr(expected.reason));
    EXPECT_THAT(error.what(),
                StartsWith((folder / expected.file).string() + ":" + std::to_string(expected.line) +
                           ":" + std::to_string(error.position().column) + ": " + expected.setting +
                           ": "));
    for (std::string_view secret : kSecrets) {
      EXPECT_THAT(error.what(), Not(HasSubstr(secret)));
    }
  }
}

TEST(ConfigErrors, TheCompleteFileTheCorpusIsMadeFromLoads) {
  Config config = loadConfig(testing::sourceDir() / "tests/data/config/valid/complete.xml");
  EXPECT_EQ(config.queues.size(), 2u);
  EXPECT_EQ(config.agents.size(), 2u);
}

TEST(ConfigErrors, ExpressionErrorsPointAtTheCharacterInTheFile) {
  testing::TempFolder folder;
  // "&lt;" is one character of the expression but four in the file.
  std::filesystem::path file =
      folder.write("switchboard.xml", testing::configWith({{"queues", R"(<queues>
    <queue id="general">
      <target>agent.seniority &lt; 3
        and agent.skills.billing >= = 2</target>
    </queue>
  </queues>)"}}));
  ConfigError error = errorOf(file);
  EXPECT_EQ(error.setting(), "target");
  EXPECT_EQ(error.position().line, testing::lineOf(file, ">= = 2"));
  EXPECT_EQ(error.position().column, 37u);
  EXPECT_THAT(error.reason(), HasSubstr("expression column 57"));
}

TEST(ConfigErrors, SecretsNeverAppearInErrors) {
  testing::TempFolder folder;
  const std::string secret = "s3cr3t-value-that-must-not-leak";
  auto check = [&](const std::string& security, std::string_view expectedSetting) {
    std::filesystem::path file =
        folder.write("switchboard.xml", testing::configWith({{"security", security}}));
    ConfigError error = errorOf(file);
    EXPECT_EQ(error.setting(), expectedSetting) << error.what();
    EXPECT_THAT(error.what(), Not(HasSubstr(secret)));
    EXPECT_THAT(error.what(), Not(HasSubstr("s3cr3t")));
  };
  // Too short, shared between two keys, given twice, on an element that has no such setting.
  check(R"(<security><apiKey name="a" secret="s3cr3t"/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/></security>)",
        "apiKey@secret");
  check(R"(<security><apiKey name="a" secret=")" + secret + R"("/>
    <apiKey name="b" secret=")" +
            secret + R"("/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/></security>)",
        "apiKey@secret");
  check(R"(<security><apiKey name="a" secret=")" + secret + R"(" secretEnv="HOME"/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/></security>)",
        "apiKey@secretEnv");
  check(R"(<security><apiKey name="a" secret=")" + secret + R"("/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123" secret2=")" +
            secret + R"("/></security>)",
        "agentTokens@secret2");
  // A secret file holding a short secret: its content is not shown either.
  folder.write("short.key", "s3cr3t\n");
  check(R"(<security><apiKey name="a" secretFile="short.key"/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/></security>)",
        "apiKey@secretFile");
}

TEST(ConfigErrors, AnEmptySecretFileIsRefused) {
  testing::TempFolder folder;
  folder.write("empty.key", "\n");
  std::filesystem::path file = folder.write("switchboard.xml", testing::configWith({{"security", R"(
  <security><apiKey name="a" secretFile="empty.key"/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/></security>)"}}));
  ConfigError error = errorOf(file);
  EXPECT_EQ(error.setting(), "apiKey@secretFile");
  EXPECT_THAT(error.reason(), HasSubstr("the secret is empty (file " +
                                        (folder.path() / "empty.key").string() + ")"));
}

TEST(ConfigErrors, DoctypeAndExternalEntitiesAreRefusedBeforeAnythingIsRead) {
  testing::TempFolder folder;
  std::string document = testing::configWith({});
  document.insert(document.find("<switchboard"),
                  "<!DOCTYPE switchboard [<!ENTITY passwd SYSTEM \"file:///etc/passwd\">]>\n");
  std::size_t id = document.find("sb-test");
  document.replace(id, 7, "&passwd;");
  std::filesystem::path file = folder.write("switchboard.xml", document);
  ConfigError error = errorOf(file);
  EXPECT_EQ(error.setting(), "DOCTYPE");
  EXPECT_EQ(error.position().line, 2u);
  EXPECT_EQ(error.position().column, 1u);
  EXPECT_THAT(error.reason(), HasSubstr("a DOCTYPE is not allowed"));
  EXPECT_THAT(error.what(), Not(HasSubstr("root:")));
}

TEST(ConfigErrors, SchemaLocationHintsAreIgnored) {
  testing::TempFolder folder;
  std::string document = testing::configWith({});
  document.replace(document.find("version=\"1.0\">"), 14,
                   "version=\"1.0\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                   "xsi:schemaLocation=\"urn:switchboard:config:v1 http://127.0.0.1:9/evil.xsd\">");
  Config config = loadConfig(folder.write("switchboard.xml", document));
  EXPECT_EQ(config.server.id, "sb-test");
}

TEST(ConfigErrors, AFileThatCannotBeReadIsNamed) {
  testing::TempFolder folder;
  ConfigError error = errorOf(folder.path() / "missing.xml");
  EXPECT_EQ(error.position().line, 0u);
  EXPECT_EQ(std::string(error.what()),
            (folder.path() / "missing.xml").string() + ": cannot read: No such file or directory");
}

TEST(ConfigErrors, AnOversizedFileIsRefused) {
  std::string document = testing::configWith({});
  document.insert(document.find("<server"), "<!--" + std::string(17 * 1024 * 1024, 'x') + "-->");
  try {
    loadConfigFromString(document, "huge.xml");
    FAIL() << "loaded a 17 MB configuration";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), StartsWith("huge.xml: the file has"));
  }
}

TEST(ConfigErrors, TooManyMediaForTheEngine) {
  testing::TempFolder folder;
  std::string mixes;
  for (int i = 1; i <= 9; ++i) {
    mixes += "<mix><limit medium=\"m" + std::to_string(i) + "\" max=\"1\"/></mix>\n      ";
  }
  std::filesystem::path file = folder.write(
      "switchboard.xml", testing::configWith({{"agents", "<agents>\n    <agent id=\"a\">\n      " +
                                                             mixes + "</agent>\n  </agents>"}}));
  ConfigError error = errorOf(file);
  EXPECT_EQ(error.setting(), "limit@medium");
  EXPECT_EQ(error.position().line, testing::lineOf(file, "\"m9\""));
  EXPECT_THAT(error.reason(), HasSubstr("at most 8 different media"));
}

} // namespace
} // namespace switchboard
