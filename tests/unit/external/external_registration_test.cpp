// The <external> configuration section: loaded with the rest of the configuration (schema part
// adapters/external/external.xsd), read into ExternalOptions, and refused with the file, line and
// setting when it is wrong.

#include "adapters/external/external_registration.h"

#include "switchboard/attachment_store.h"
#include "switchboard/config.h"
#include "tests/unit/config/config_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace switchboard::external {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

DriverSection sectionOf(testing::TempFolder& folder, const std::string& drivers) {
  auto file = folder.write("etc/switchboard.xml", testing::configWith({{"drivers", drivers}}));
  Config config = loadConfig(file);
  EXPECT_EQ(config.drivers.size(), 1u);
  return toDriverSection(config.drivers.front());
}

TEST(ExternalRegistration, ReadsTheSectionWithTheSchemasDefaults) {
  testing::TempFolder folder;
  DriverSection section = sectionOf(folder, R"(<drivers>
    <external name="sms-gw" media="sms whatsapp" key="sms-gw-key-0123456789"/>
  </drivers>)");
  EXPECT_EQ(section.type, "external");
  ExternalOptions options = readOptions(section, "sb-7");
  EXPECT_EQ(options.name, "sms-gw");
  EXPECT_EQ(options.serverId, "sb-7");
  EXPECT_EQ(options.key, "sms-gw-key-0123456789");
  EXPECT_EQ(options.media, (std::vector<std::string>{"sms", "whatsapp"}));
  EXPECT_EQ(options.commandTimeout, std::chrono::seconds(10));
  EXPECT_EQ(options.heartbeatTimeout, std::chrono::seconds(60));
  EXPECT_EQ(options.maxMessageBytes, 1024u * 1024u);
}

TEST(ExternalRegistration, TheKeyMayComeFromAFileOrTheEnvironment) {
  testing::TempFolder folder;
  folder.write("etc/keys/sms-gw.key", "key-from-a-file-0123456789\n");
  DriverSection fromFile = sectionOf(folder, R"(<drivers>
    <external name="sms-gw" keyFile="keys/sms-gw.key" commandTimeout="3s" heartbeatTimeout="2m"
              maxMessageBytes="64KiB"/>
  </drivers>)");
  ExternalOptions options = readOptions(fromFile, "sb-1");
  EXPECT_EQ(options.key, "key-from-a-file-0123456789");
  EXPECT_TRUE(options.media.empty());
  EXPECT_EQ(options.commandTimeout, std::chrono::seconds(3));
  EXPECT_EQ(options.heartbeatTimeout, std::chrono::minutes(2));
  EXPECT_EQ(options.maxMessageBytes, 64u * 1024u);

  ::setenv("SB_TEST_SMS_GW_KEY", "key-from-the-environment-0123", 1);
  testing::TempFolder other;
  DriverSection fromEnvironment = sectionOf(other, R"(<drivers>
    <external name="sms-gw" keyEnv="SB_TEST_SMS_GW_KEY"/>
  </drivers>)");
  EXPECT_EQ(readOptions(fromEnvironment, "sb-1").key, "key-from-the-environment-0123");
  ::unsetenv("SB_TEST_SMS_GW_KEY");
}

TEST(ExternalRegistration, AMissingOrShortKeyIsRefusedNamingFileLineAndSettingButNotTheKey) {
  testing::TempFolder folder;
  DriverSection none = sectionOf(folder, R"(<drivers>
    <external name="sms-gw"/>
  </drivers>)");
  try {
    readOptions(none, "sb-1");
    FAIL() << "a section without a key was accepted";
  } catch (const SettingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("switchboard.xml:"));
    EXPECT_THAT(e.what(), HasSubstr("key, keyFile or keyEnv"));
  }

  testing::TempFolder other;
  DriverSection shortKey = sectionOf(other, R"(<drivers>
    <external name="sms-gw" key="short-key"/>
  </drivers>)");
  try {
    readOptions(shortKey, "sb-1");
    FAIL() << "a short key was accepted";
  } catch (const SettingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("key: the key (inline) is shorter than 16 characters"));
    EXPECT_THAT(e.what(), Not(HasSubstr("short-key")));
  }
}

TEST(ExternalRegistration, TheSchemaRefusesWhatIsNotAMediumOrADuration) {
  testing::TempFolder folder;
  auto upper = folder.write("a.xml", testing::configWith({{"drivers", R"(<drivers>
    <external name="sms-gw" media="SMS" key="sms-gw-key-0123456789"/>
  </drivers>)"}}));
  EXPECT_THROW(loadConfig(upper), ConfigError);
  auto duration = folder.write("b.xml", testing::configWith({{"drivers", R"(<drivers>
    <external name="sms-gw" key="sms-gw-key-0123456789" commandTimeout="soon"/>
  </drivers>)"}}));
  EXPECT_THROW(loadConfig(duration), ConfigError);
}

TEST(ExternalRegistration,
     TheRegistryCreatesTheTypeAndTheDriverReachesTheEndpointOnlyWhileStarted) {
  testing::TempFolder folder;
  DriverSection section = sectionOf(folder, R"(<drivers>
    <external name="sms-gw" media="sms" key="sms-gw-key-0123456789"/>
  </drivers>)");
  std::ostringstream logs;
  Logger logger(LogLevel::Warn, LogFormat::Text, logs);
  ExternalEndpoint endpoint(logger);
  DriverRegistry registry;
  registerExternalDriver(registry, endpoint, logger);
  EXPECT_TRUE(registry.has("external"));

  struct NoSink final : MessageSink {
    std::string submit(std::string_view) override { return {}; }
  } sink;
  AttachmentStore attachments(folder.path() / "attachments");
  DriverContext context{section, sink, attachments, "sb-1"};
  auto first = registry.create(context);
  auto second = registry.create(context);
  first->start();
  // One name, one driver at the endpoint.
  EXPECT_THROW(second->start(), std::invalid_argument);
  first->stop();
  second->start();
  second->stop();
  first->stop(); // twice is safe
}

} // namespace
} // namespace switchboard::external
