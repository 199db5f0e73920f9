// The <staticFiles> element of <server>: folders of web files served beside the REST API.

#include "switchboard/config.h"

#include "tests/support/test_data.h"
#include "tests/unit/config/config_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard {
namespace {

using ::testing::HasSubstr;

std::string serverWith(const std::string& staticFiles) {
  return testing::configWith({{"server", R"(<server id="sb-test">
    <listener port="0"/>
    )" + staticFiles + R"(
  </server>)"}});
}

std::string loadError(const testing::TempFolder& folder, const std::string& document) {
  try {
    loadConfigFromString(document, folder.path() / "switchboard.xml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "loaded";
}

TEST(StaticFilesConfig, TheQuickStartServesTheSampleAgentPage) {
  Config config = loadConfig(testing::sourceDir() / "samples/quickstart/switchboard.xml");
  ASSERT_EQ(config.server.staticFiles.size(), 1u);
  EXPECT_EQ(config.server.staticFiles[0].urlPrefix, "/agent/");
  EXPECT_EQ(config.server.staticFiles[0].folder,
            (testing::sourceDir() / "samples/web/agent").lexically_normal());
  EXPECT_EQ(config.server.staticFiles[0].maxAge, std::chrono::seconds(0));
  EXPECT_TRUE(std::filesystem::exists(config.server.staticFiles[0].folder / "index.html"));
}

TEST(StaticFilesConfig, ReadsPrefixFolderRelativeToTheFileAndMaxAge) {
  testing::TempFolder folder;
  std::filesystem::create_directories(folder.path() / "web" / "agent");
  std::filesystem::create_directories(folder.path() / "docs");
  Config config = loadConfigFromString(
      serverWith(R"(<staticFiles urlPrefix="/agent/" folder="web/agent" maxAge="5m"/>
    <staticFiles urlPrefix="/help/docs/" folder=")" +
                 (folder.path() / "docs").string() + R"("/>)"),
      folder.path() / "switchboard.xml");
  ASSERT_EQ(config.server.staticFiles.size(), 2u);
  EXPECT_EQ(config.server.staticFiles[0].folder, folder.path() / "web" / "agent");
  EXPECT_EQ(config.server.staticFiles[0].maxAge, std::chrono::minutes(5));
  EXPECT_EQ(config.server.staticFiles[1].urlPrefix, "/help/docs/");
  EXPECT_EQ(config.server.staticFiles[1].folder, folder.path() / "docs");
}

TEST(StaticFilesConfig, RefusesBadPrefixesAndMissingFoldersNamingTheSetting) {
  testing::TempFolder folder;
  std::filesystem::create_directories(folder.path() / "web");
  EXPECT_THAT(loadError(folder, serverWith(R"(<staticFiles urlPrefix="/v1/" folder="web"/>)")),
              HasSubstr("staticFiles@urlPrefix: '/v1/' is the REST API's own path"));
  EXPECT_THAT(loadError(folder, serverWith(R"(<staticFiles urlPrefix="/a/" folder="web"/>
    <staticFiles urlPrefix="/a/" folder="web"/>)")),
              HasSubstr("staticFiles@urlPrefix: '/a/' is already served on line"));
  EXPECT_THAT(loadError(folder, serverWith(R"(<staticFiles urlPrefix="/a/" folder="nowhere"/>)")),
              HasSubstr("staticFiles@folder:"));
  for (std::string prefix : {"agent", "/agent", "/", "/../", "/a b/"}) {
    EXPECT_THAT(loadError(folder, serverWith(R"(<staticFiles urlPrefix=")" + prefix +
                                             R"(" folder="web"/>)")),
                HasSubstr("urlPrefix"))
        << prefix;
  }
}

} // namespace
} // namespace switchboard
