// The settings <imap> and <pop3> share, read in one place from a real configuration: the mail
// server, mailboxes, how mail becomes a work item (threading, attachment limit) and the <smtp>
// child that gives the source an outbox.

#include "imap_source.h"
#include "mail_intake.h"
#include "pop3_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace switchboard::email {
namespace {

using ::testing::HasSubstr;

class MailboxSourceConfig : public ::testing::Test {
 protected:
  MailboxSourceConfig()
      : root_(std::filesystem::temp_directory_path() /
              ("sb-mailbox-config-" + std::to_string(::getpid()))),
        attachments_(root_ / "attachments") {}
  ~MailboxSourceConfig() override { std::filesystem::remove_all(root_); }

  Config load(const std::string& driver) {
    return loadConfigFromString(R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-1"><listener address="127.0.0.1" port="0"/></server>
  <store><sqlite path="sb.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef"/>
  </security>
  <drivers>
    )" + driver + R"(
  </drivers>
  <queues><queue id="general"/></queues>
</switchboard>
)",
                                root_ / "sb.xml");
  }

  // Never called: the sources are built, not started.
  class NoSink : public MessageSink {
   public:
    std::string submit(std::string_view) override { throw std::runtime_error("not started"); }
  };

  std::filesystem::path root_;
  AttachmentStore attachments_;
  NoSink sink_;
};

TEST_F(MailboxSourceConfig, ImapAndPop3ReadTheSharedSettingsAndTheirSmtpChild) {
  const std::string smtp =
      R"(<smtp host="smtp.x.example" tls="none" port="2525" from="apoio@x.example"/>)";
  for (const std::string type : {"imap", "pop3"}) {
    SCOPED_TRACE(type);
    Config config = load("<" + type + R"( name="mail-1" host="mail.x.example" tls="starttls"
        threading="link" maxAttachmentBytes="1MiB" maxMessageBytes="2MiB" submitThreads="4">
        <mailbox user="apoio" password="pw" contactPoint="apoio@x.example"/>)" +
                         smtp + "</" + type + ">");
    DriverSection section = toDriverSection(config.drivers.at(0));
    DriverContext context{section, sink_, attachments_, "sb-1", &config.drivers.at(0).settings};
    bool imap = type == "imap";
    Pop3Options options;
    readMailboxSource(context, options, type, imap ? 143 : 110, imap ? 993 : 995, imap);
    EXPECT_EQ(options.intake.driverName, "mail-1");
    EXPECT_EQ(options.intake.serverId, "sb-1");
    EXPECT_EQ(options.intake.logName, type);
    EXPECT_EQ(options.intake.maxMessageBytes, 2u << 20);
    EXPECT_EQ(options.intake.submitThreads, 4u);
    EXPECT_EQ(options.intake.item.threading, Threading::Link);
    EXPECT_EQ(options.intake.item.maxAttachmentBytes, 1u << 20);
    ASSERT_TRUE(options.intake.smtp);
    EXPECT_EQ(options.intake.smtp->server.port, 2525);
    EXPECT_EQ(options.intake.smtp->outbox, root_ / "outbox-mail-1.db");
    EXPECT_EQ(options.server.host, "mail.x.example");
    EXPECT_EQ(options.server.port, imap ? 143 : 110);
    ASSERT_EQ(options.mailboxes.size(), 1u);
    EXPECT_EQ(options.mailboxes[0].contactPoint, "apoio@x.example");
    // What the element leaves out is the schema's default for the source.
    EXPECT_EQ(options.pollInterval, imap ? std::chrono::seconds(5) : std::chrono::seconds(30));
    EXPECT_EQ(options.fetchBatch, imap ? 250u : 100u);
  }
}

TEST_F(MailboxSourceConfig, WithSmtpTheRegisteredSourcesHoldAnOutboxAndWithoutItRefuseReplies) {
  DriverRegistry registry;
  registerImapDriver(registry);
  registerPop3Driver(registry);
  for (const std::string type : {"imap", "pop3"}) {
    SCOPED_TRACE(type);
    for (bool withSmtp : {true, false}) {
      std::string name = type + (withSmtp ? "-out" : "-in");
      Config config = load("<" + type + " name=\"" + name + R"(" host="127.0.0.1" tls="none">
          <mailbox user="apoio" password="pw"/>)" +
                           (withSmtp ? R"(<smtp host="127.0.0.1" tls="none" port="2525"
              from="apoio@x.example" outbox=")" +
                                           (root_ / (name + ".db")).string() + R"("/>)"
                                     : std::string()) +
                           "</" + type + ">");
      DriverSection section = toDriverSection(config.drivers.at(0));
      std::unique_ptr<ChannelDriver> driver =
          registry.create({section, sink_, attachments_, "sb-1", &config.drivers.at(0).settings});
      ASSERT_NE(driver, nullptr);
      SmtpOutbox* outbox = type == "imap" ? dynamic_cast<ImapSource&>(*driver).outbox()
                                          : dynamic_cast<Pop3Source&>(*driver).outbox();
      EXPECT_EQ(outbox != nullptr, withSmtp);
      if (!withSmtp) {
        MessageCodec codec;
        auto answer = codec.decode(driver->deliver("<not-a-message/>"));
        ASSERT_TRUE(answer.ok());
        const auto& response = std::get<Response>(answer->payload);
        EXPECT_EQ(response.error->code, "unsupported");
        EXPECT_THAT(response.error->text, HasSubstr("no <smtp>"));
      }
    }
  }
}

TEST_F(MailboxSourceConfig, AThreadingModeThatDoesNotExistIsRefusedWithItsPlace) {
  try {
    load(R"(<imap name="imap-1" host="h" threading="sometimes"><mailbox user="u" password="p"/>
            </imap>)");
    ADD_FAILURE() << "a threading mode that does not exist was taken";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("threading"));
  }
}

} // namespace
} // namespace switchboard::email
