// The <smtp> child of an email driver: read from a real configuration, with its defaults and
// its errors placed in the file.

#include "adapters/email/smtp_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace switchboard::email {
namespace {

using ::testing::HasSubstr;

std::string configWith(const std::string& smtp) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-1"><listener address="127.0.0.1" port="0"/></server>
  <store><sqlite path="sb.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef"/>
  </security>
  <drivers>
    <maildir name="email-1" path="maildir">
)" + smtp +
         R"(
    </maildir>
  </drivers>
  <queues><queue id="general"/></queues>
</switchboard>
)";
}

std::optional<SmtpOptions> read(const std::string& smtp) {
  Config config = loadConfigFromString(configWith(smtp), "/etc/switchboard/sb.xml");
  return smtpOptionsOfDriver(&config.drivers.at(0).settings, "email-1");
}

TEST(SmtpOptions, ReadsTheSettingsWithTheirDefaults) {
  ::setenv("SB_TEST_SMTP_PASSWORD", "s3cret", 1);
  auto options =
      read(R"(<smtp host="smtp.x.example" user="apoio" passwordEnv="SB_TEST_SMTP_PASSWORD"
        from="apoio@x.example" alsoFrom="a@x.example  b@x.example">
        <autoAcknowledge>Thanks, {name}.</autoAcknowledge></smtp>)");
  ASSERT_TRUE(options);
  EXPECT_EQ(options->server.host, "smtp.x.example");
  EXPECT_EQ(options->server.tls, SmtpTls::StartTls);
  EXPECT_EQ(options->server.port, 587);
  EXPECT_EQ(options->server.auth, SmtpAuth::Login);
  EXPECT_EQ(options->server.password.reveal(), "s3cret");
  EXPECT_TRUE(options->server.verifyPeer);
  EXPECT_EQ(options->from, "apoio@x.example");
  EXPECT_EQ(options->alsoFrom, (std::vector<std::string>{"a@x.example", "b@x.example"}));
  EXPECT_EQ(options->outbox, std::filesystem::path("/etc/switchboard/outbox-email-1.db"));
  EXPECT_EQ(options->maxAttempts, 10u);
  EXPECT_EQ(options->retryHorizon, std::chrono::hours(48));
  EXPECT_EQ(options->uncertain, UncertainPolicy::Hold) << "never twice, unless asked";
  ASSERT_TRUE(options->autoAcknowledge);
  EXPECT_EQ(options->autoAcknowledge->text, "Thanks, {name}.");
  EXPECT_EQ(options->autoAcknowledge->interval, std::chrono::hours(1));

  auto implicit = read(R"(<smtp host="h" tls="implicit" from="a@x.example" uncertain="resend"
        outbox="var/out.db"/>)");
  EXPECT_EQ(implicit->server.port, 465);
  EXPECT_EQ(implicit->server.auth, SmtpAuth::None);
  EXPECT_EQ(implicit->uncertain, UncertainPolicy::Resend);
  EXPECT_EQ(implicit->outbox, std::filesystem::path("/etc/switchboard/var/out.db"));
  EXPECT_FALSE(implicit->autoAcknowledge);
}

TEST(SmtpOptions, ADriverWithoutSmtpHasNone) {
  Config config = loadConfigFromString(configWith(""), "/etc/switchboard/sb.xml");
  EXPECT_FALSE(smtpOptionsOfDriver(&config.drivers.at(0).settings, "email-1"));
  EXPECT_FALSE(smtpOptionsOfDriver(nullptr, "email-1"));
}

TEST(SmtpOptions, ErrorsNameTheFileLineAndSetting) {
  try {
    read(R"(<smtp host="h" tls="ssl" from="a@x.example"/>)");
    ADD_FAILURE() << "tls=ssl was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sb.xml:11:"));
    EXPECT_THAT(e.what(), HasSubstr("ssl"));
  }
  try {
    read(R"(<smtp host="h" user="apoio" from="a@x.example"/>)");
    ADD_FAILURE() << "a user without a password was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("password"));
  }
  try {
    read(R"(<smtp host="h" from="not an address"/>)");
    ADD_FAILURE() << "a bad from was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("smtp@from"));
  }
}

} // namespace
} // namespace switchboard::email
