// The outbox against a real SMTP server (aiosmtpd, started by the test on loopback): plain,
// STARTTLS with AUTH, implicit TLS; retries while the relay is down; giving up; the mail whose
// fate a crash left unknown; acknowledgements. The server side is a small fake that answers
// getWorkItem and records deliveryReports (the whole server meets the sink in smtp_e2e_test).

#include "adapters/email/smtp_outbox.h"
#include "tests/support/smtp_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace switchboard::email {
namespace {

using ::testing::HasSubstr;
using testing::headerOf;
using testing::SmtpSink;
using testing::SmtpSinkOptions;

// The server as the outbox meets it: it knows one work item and keeps every report.
class FakeServer final : public MessageSink {
 public:
  std::string submit(std::string_view document) override {
    auto message = codec_.decode(document);
    if (!message.ok()) {
      throw InvalidDocument(message.error().toString());
    }
    Message answer;
    answer.id = "sb-" + std::to_string(++sequence_);
    answer.time = message->time;
    answer.correlationId = message->id;
    answer.sender = {PartyType::Server, "sb-1"};
    answer.addressee = message->sender;
    Response response{std::string(kindOf(*message)), ResponseStatus::Ok, std::nullopt};
    if (const auto* request = std::get_if<Request>(&message->payload)) {
      const auto* get = std::get_if<GetWorkItem>(request);
      if (get == nullptr || get->workItemId != item.id) {
        response.status = ResponseStatus::Error;
        response.error = ResponseError{"unknownWorkItem", "no such item"};
      } else {
        answer.workItems.push_back(item);
      }
    } else if (const auto* notification = std::get_if<Notification>(&message->payload)) {
      if (const auto* report = std::get_if<DeliveryReport>(notification)) {
        std::lock_guard lock(mutex_);
        reports_.push_back(*report);
      }
    }
    answer.payload = response;
    return codec_.encode(answer);
  }

  std::vector<DeliveryReport> reports() {
    std::lock_guard lock(mutex_);
    return reports_;
  }

  WorkItem item = [] {
    WorkItem w;
    w.id = "wi-000001";
    w.medium = "email";
    w.state = WorkItemState::Accepted;
    Customer c;
    c.name = "Joana Ferreira";
    c.addresses.push_back({"email", "joana@example.com", "Joana Ferreira"});
    w.customer = c;
    w.contactPoint = Address{"email", "faturacao@mares-telecom.example", std::nullopt};
    w.subject = "Fatura de novembro cobrada em duplicado";
    w.attributes = {{"email.messageId", "q1@example.com"},
                    {"email.references", "<root@example.com>"}};
    return w;
  }();

 private:
  MessageCodec codec_;
  std::mutex mutex_;
  std::vector<DeliveryReport> reports_;
  std::uint64_t sequence_ = 0;
};

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds deadline = std::chrono::seconds(60)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class SmtpOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-smtp-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = testing::freePort();
    options_.server.host = "127.0.0.1";
    options_.server.port = port_;
    options_.server.tls = SmtpTls::None;
    options_.server.timeout = std::chrono::seconds(20);
    options_.server.helo = "switchboard.test";
    options_.from = "apoio@mares-telecom.example";
    options_.fromName = "Apoio Marés Telecom";
    options_.alsoFrom = {"faturacao@mares-telecom.example"};
    options_.outbox = dir_ / "outbox.db";
    options_.retryDelay = std::chrono::milliseconds(50);
    options_.maxRetryDelay = std::chrono::milliseconds(200);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SmtpOutbox> outbox() {
    return std::make_unique<SmtpOutbox>(options_, "email-1", "sb-1", server_, attachments_);
  }

  std::string sendReply(const std::string& replyId, std::optional<std::string> subject = {}) {
    Message command;
    command.id = "sb-1.cmd-" + replyId;
    command.time = Timestamp(std::chrono::milliseconds(1'790'000'000'000));
    command.sender = {PartyType::Server, "sb-1"};
    command.addressee = {PartyType::Driver, "email-1"};
    SendReply reply;
    reply.workItemId = "wi-000001";
    reply.replyId = replyId;
    reply.agentId = "a-ana";
    reply.subject = std::move(subject);
    reply.body = Body{"text/plain", "Cara Joana,\n\nO valor será devolvido.\n.\nAna\n"};
    command.payload = Command{reply};
    return codec_.encode(command);
  }

  ResponseStatus statusOf(const std::string& answer) {
    auto decoded = codec_.decode(answer);
    EXPECT_TRUE(decoded.ok());
    return std::get<Response>(decoded->payload).status;
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  SmtpOptions options_;
  FakeServer server_;
  AttachmentStore attachments_{std::filesystem::temp_directory_path() /
                               ("sb-smtp-att-" + std::to_string(::getpid()))};
  MessageCodec codec_;
};

TEST_F(SmtpOutboxTest, AReplyReachesTheCustomerOnceWithItsThread) {
  SmtpSink sink(dir_ / "sink", port_);
  sink.start();
  auto box = outbox();
  box->start();
  EXPECT_EQ(statusOf(box->deliver(sendReply("r-1"))), ResponseStatus::Ok);
  std::vector<std::string> mails = sink.waitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  const std::string& mail = mails.front();
  EXPECT_EQ(headerOf(mail, "X-Sink-Mail-From"), "faturacao@mares-telecom.example");
  EXPECT_EQ(headerOf(mail, "X-Sink-Rcpt-To"), "joana@example.com");
  // The customer wrote to faturacao@, one of the mailbox's addresses: the reply comes from it.
  EXPECT_THAT(headerOf(mail, "From"), HasSubstr("<faturacao@mares-telecom.example>"));
  EXPECT_EQ(headerOf(mail, "To"), "\"Joana Ferreira\" <joana@example.com>");
  EXPECT_EQ(headerOf(mail, "Subject"), "Re: Fatura de novembro cobrada em duplicado [#wi-000001]");
  EXPECT_EQ(headerOf(mail, "In-Reply-To"), "<q1@example.com>");
  EXPECT_EQ(headerOf(mail, "References"), "<root@example.com> <q1@example.com>");
  std::string messageId = headerOf(mail, "Message-ID");
  EXPECT_THAT(messageId, ::testing::StartsWith("<sb.wi-000001."));
  EXPECT_EQ(workItemOfMessageId(messageId), "wi-000001");
  // The body's lone "." line survived the SMTP transparency rule.
  EXPECT_THAT(mail, HasSubstr("\r\n.\r\nAna")) << mail;

  ASSERT_TRUE(eventually([&] { return server_.reports().size() == 1; }));
  DeliveryReport report = server_.reports().front();
  EXPECT_EQ(report.outcome, DeliveryOutcome::Sent);
  EXPECT_EQ(report.replyId, "r-1");
  EXPECT_EQ("<" + report.externalId.value_or("") + ">", messageId);
  EXPECT_THAT(report.reason.value_or(""), HasSubstr("250"));
  // The outbox remembers the Message-ID, so an answer to it finds its way back.
  auto kept = box->store().findByMessageId(report.externalId.value_or(""));
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->workItemId, "wi-000001");

  // The same replyId again: duplicate, and no second mail.
  EXPECT_EQ(statusOf(box->deliver(sendReply("r-1"))), ResponseStatus::Duplicate);
  box->stop();
  EXPECT_EQ(box->sendDue(), 0u);
  EXPECT_EQ(sink.mails().size(), 1u);
}

TEST_F(SmtpOutboxTest, RefusesWhatItCannotSend) {
  auto box = outbox();
  Message command = *codec_.decode(sendReply("r-1"));
  std::get<SendReply>(std::get<Command>(command.payload)).workItemId = "wi-404";
  std::string answer = box->deliver(codec_.encode(command));
  EXPECT_EQ(statusOf(answer), ResponseStatus::Error);
  EXPECT_THAT(answer, HasSubstr("unknownWorkItem"));
  server_.item.customer->addresses = {{"phone", "+351210000000", std::nullopt}};
  answer = box->deliver(sendReply("r-2"));
  EXPECT_THAT(answer, HasSubstr("invalidAddress"));
  EXPECT_EQ(box->store().counts().queued, 0u);
}

TEST_F(SmtpOutboxTest, StartTlsWithAuthLoginAndPlain) {
  testing::makeSelfSignedCertificate(dir_ / "tls");
  SmtpSinkOptions tls{dir_ / "tls/cert.pem", dir_ / "tls/key.pem", false, "apoio", "s3cret"};
  SmtpSink sink(dir_ / "sink", port_, tls);
  sink.start();
  options_.server.host = "localhost";
  options_.server.tls = SmtpTls::StartTls;
  options_.server.caFile = dir_ / "tls/cert.pem";
  options_.server.user = "apoio";
  options_.server.password = Secret("s3cret", "test");
  for (SmtpAuth auth : {SmtpAuth::Login, SmtpAuth::Plain}) {
    options_.server.auth = auth;
    SmtpClient client(options_.server);
    SmtpResult result = client.send("apoio@mares-telecom.example", {"joana@example.com"},
                                    "Subject: tls\r\n\r\nhello\r\n");
    EXPECT_EQ(result.kind, SmtpResult::Kind::Sent) << result.reply;
    if (result.kind != SmtpResult::Kind::Sent) {
      break;
    }
  }
  std::vector<std::string> mails = sink.waitFor(2);
  ASSERT_EQ(mails.size(), 2u);
  for (const std::string& mail : mails) {
    EXPECT_EQ(headerOf(mail, "X-Sink-Tls"), "yes");
    EXPECT_EQ(headerOf(mail, "X-Sink-Auth"), "apoio");
  }
  // A wrong password is refused, and worth another try once it is fixed.
  options_.server.password = Secret("wrong", "test");
  SmtpResult refused =
      SmtpClient(options_.server)
          .send("apoio@mares-telecom.example", {"joana@example.com"}, "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(refused.kind, SmtpResult::Kind::Transient);
  EXPECT_EQ(sink.mails().size(), 2u);
}

TEST_F(SmtpOutboxTest, ImplicitTlsAndACertificateThatIsNotTrusted) {
  testing::makeSelfSignedCertificate(dir_ / "tls");
  SmtpSinkOptions tls{dir_ / "tls/cert.pem", dir_ / "tls/key.pem", true, "", ""};
  SmtpSink sink(dir_ / "sink", port_, tls);
  sink.start();
  options_.server.host = "localhost";
  options_.server.tls = SmtpTls::Implicit;
  // Not trusted: the system's authorities never signed the test's certificate.
  SmtpResult untrusted =
      SmtpClient(options_.server)
          .send("apoio@mares-telecom.example", {"joana@example.com"}, "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(untrusted.kind, SmtpResult::Kind::Transient);
  EXPECT_FALSE(untrusted.committed);
  options_.server.caFile = dir_ / "tls/cert.pem";
  SmtpResult trusted = SmtpClient(options_.server)
                           .send("apoio@mares-telecom.example", {"joana@example.com"},
                                 "Subject: implicit\r\n\r\nhello\r\n");
  EXPECT_EQ(trusted.kind, SmtpResult::Kind::Sent) << trusted.reply;
  std::vector<std::string> mails = sink.waitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(headerOf(mails.front(), "X-Sink-Tls"), "yes");
}

TEST_F(SmtpOutboxTest, RetriesWhileTheRelayIsDownAndDeliversWhenItComesUp) {
  auto box = outbox();
  box->start();
  EXPECT_EQ(statusOf(box->deliver(sendReply("r-1"))), ResponseStatus::Ok);
  ASSERT_TRUE(eventually([&] { return box->figures().retries >= 3; }));
  auto waiting = box->store().find("reply\nwi-000001\nr-1");
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->state == OutboxState::Queued || waiting->state == OutboxState::Sending, true);
  EXPECT_FALSE(waiting->lastError.empty());
  SmtpSink sink(dir_ / "sink", port_);
  sink.start();
  ASSERT_EQ(sink.waitFor(1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return server_.reports().size() == 1; }));
  EXPECT_EQ(server_.reports().front().outcome, DeliveryOutcome::Sent);
  box->stop();
  EXPECT_EQ(sink.mails().size(), 1u);
}

TEST_F(SmtpOutboxTest, TemporaryRefusalsAreRetried) {
  SmtpSinkOptions failing;
  failing.failData = 2;
  SmtpSink sink(dir_ / "sink", port_, failing);
  sink.start();
  auto box = outbox();
  box->start();
  box->deliver(sendReply("r-1"));
  ASSERT_EQ(sink.waitFor(1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return server_.reports().size() == 1; }));
  auto sent = box->store().find("reply\nwi-000001\nr-1");
  EXPECT_EQ(sent->state, OutboxState::Sent);
  EXPECT_EQ(sent->attempts, 3u);
}

TEST_F(SmtpOutboxTest, GivesUpAfterTheLimitAndReportsTheReason) {
  options_.maxAttempts = 2;
  auto box = outbox();
  box->start();
  box->deliver(sendReply("r-1"));
  ASSERT_TRUE(eventually([&] { return server_.reports().size() == 1; }));
  DeliveryReport report = server_.reports().front();
  EXPECT_EQ(report.outcome, DeliveryOutcome::Failed);
  EXPECT_THAT(report.reason.value_or(""), HasSubstr("gave up after 2 attempts"));
  EXPECT_EQ(box->store().find("reply\nwi-000001\nr-1")->state, OutboxState::Failed);
  EXPECT_EQ(box->figures().failed, 1u);
  EXPECT_EQ(box->store().counts().failed, 1u);
}

TEST_F(SmtpOutboxTest, AMailWhoseFinalDotWasSentBeforeACrashIsSentAgainOnce) {
  options_.uncertain = UncertainPolicy::Resend;
  {
    auto box = outbox();
    box->deliver(sendReply("r-1"));
    // What a crash right after the final "." leaves behind.
    box->store().beginAttempt("reply\nwi-000001\nr-1", 1);
    box->store().beginCommit("reply\nwi-000001\nr-1", 2);
  }
  SmtpSink sink(dir_ / "sink", port_);
  sink.start();
  auto box = outbox();
  box->start();
  ASSERT_EQ(sink.waitFor(1).size(), 1u);
  ASSERT_TRUE(eventually([&] { return server_.reports().size() == 1; }));
  EXPECT_EQ(box->figures().uncertain, 1u);
  EXPECT_EQ(box->store().find("reply\nwi-000001\nr-1")->uncertainResends, 1u);
  box->stop();
  EXPECT_EQ(sink.mails().size(), 1u);
}

TEST_F(SmtpOutboxTest, HoldsTheUncertainMailWhenConfiguredSo) {
  options_.uncertain = UncertainPolicy::Hold;
  {
    auto box = outbox();
    box->deliver(sendReply("r-1"));
    box->store().beginAttempt("reply\nwi-000001\nr-1", 1);
    box->store().beginCommit("reply\nwi-000001\nr-1", 2);
  }
  SmtpSink sink(dir_ / "sink", port_);
  sink.start();
  auto box = outbox();
  box->start();
  ASSERT_TRUE(eventually([&] { return server_.reports().size() == 1; }));
  EXPECT_EQ(server_.reports().front().outcome, DeliveryOutcome::Failed);
  EXPECT_THAT(server_.reports().front().reason.value_or(""), HasSubstr("outcome unknown"));
  box->stop();
  EXPECT_TRUE(sink.mails().empty());
}

TEST_F(SmtpOutboxTest, AcknowledgesNewMailButNeverAutomaticMailAndNotTwiceInTheInterval) {
  options_.autoAcknowledge =
      AutoAcknowledge{"We have your message: {subject}", "Dear {name},\nyour reference is {id}.\n",
                      std::chrono::hours(1)};
  SmtpSink sink(dir_ / "sink", port_);
  sink.start();
  auto box = outbox();
  box->start();
  const std::string raw = "From: Joana <joana@example.com>\r\nTo: apoio@mares-telecom.example\r\n"
                          "Subject: Fatura\r\nMessage-ID: <q1@example.com>\r\n\r\nOla\r\n";
  auto mail = readMail(raw);
  ASSERT_TRUE(mail.ok());
  box->acknowledge("wi-000001", *mail, raw);
  box->acknowledge("wi-000001", *mail, raw); // the same arrival answered "duplicate"
  box->acknowledge("wi-000002", *mail, raw); // the same customer within the interval
  const std::string automatic = "From: Joana <joana2@example.com>\r\nAuto-Submitted: "
                                "auto-replied\r\nSubject: Out of office\r\n\r\nAway\r\n";
  box->acknowledge("wi-000003", *readMail(automatic), automatic);
  const std::string own = "From: apoio@mares-telecom.example\r\nSubject: Loop?\r\n\r\nx\r\n";
  box->acknowledge("wi-000004", *readMail(own), own);
  std::vector<std::string> mails = sink.waitFor(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(headerOf(mails.front(), "Subject"), "We have your message: Fatura [#wi-000001]");
  EXPECT_EQ(headerOf(mails.front(), "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(headerOf(mails.front(), "In-Reply-To"), "<q1@example.com>");
  EXPECT_THAT(mails.front(), HasSubstr("your reference is wi-000001"));
  EXPECT_EQ(box->figures().acknowledged, 1u);
  EXPECT_EQ(box->figures().ackSkipped, 4u);
  box->stop();
  EXPECT_EQ(sink.mails().size(), 1u);
}

} // namespace
} // namespace switchboard::email
