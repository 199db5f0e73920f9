// Mail fetched over IMAP and POP3 from a real Dovecot, through the real `switchboard serve`, is
// made a work item by the same builder as the Maildir's: automatic mail (auto-replies, bounces)
// is kept and marked but never offered, a customer's reply joins the item it answers, and with
// an <smtp> child the agent's reply and the acknowledgement reach a real SMTP server (aiosmtpd)
// once, in the customer's thread.

#include "adapters/email/smtp_message.h"
#include "tests/integration/email/email_test_support.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/test_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace switchboard {
namespace {

using testing::DovecotServer;
using testing::eventually;
using ::testing::HasSubstr;
using testing::headerOf;
using testing::HttpReply;
using testing::kEmailTestKey;
using testing::ServerProcess;
using testing::SmtpSink;

constexpr auto kLong = std::chrono::seconds(60);

// A server with one agent who takes up to five emails, and `driver` as its only driver.
std::string configWithAgent(const std::string& driver) {
  return testing::serverConfig(driver, R"(<agents>
    <agent id="a-ana" name="Ana Sousa" site="lisbon">
      <mix><limit medium="email" max="5"/></mix>
    </agent>
  </agents>)");
}

// An <imap> or <pop3> element reading `user`'s mailbox, with `inside` after the <mailbox>.
std::string mailboxDriver(const std::string& type, const DovecotServer& dovecot,
                          const std::string& inside = "") {
  bool imap = type == "imap";
  return "<" + type + " name=\"" + type + "-1\" host=\"127.0.0.1\" port=\"" +
         std::to_string(imap ? dovecot.imapPort() : dovecot.pop3Port()) +
         "\" tls=\"none\" pollInterval=\"100ms\"" + (imap ? "" : " stateFile=\"@DIR@/pop3.db\"") +
         "><mailbox user=\"support\" password=\"" + dovecot.password("support") + "\"/>" + inside +
         "</" + type + ">";
}

void setReady(const ServerProcess& server) {
  std::string token = server.request("POST", "/v1/agents/a-ana/tokens", kEmailTestKey)
                          .json()
                          ->getValue<std::string>("token");
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", token, R"({"state":"ready"})").status,
            200);
}

Poco::JSON::Object::Ptr workItem(const ServerProcess& server, const std::string& id) {
  HttpReply reply = server.request("GET", "/v1/work-items/" + id, kEmailTestKey);
  if (reply.status != 200) {
    throw std::runtime_error("work item " + id + ": " + reply.body);
  }
  return reply.json();
}

// The id of the work item with `subject`, once there is one; "" when none comes.
std::string itemWithSubject(const ServerProcess& server, const std::string& subject) {
  std::string id;
  eventually(
      [&] {
        for (const auto& item : testing::allWorkItems(server)) {
          if (item->has("subject") && item->getValue<std::string>("subject") == subject) {
            id = item->getValue<std::string>("id");
            return true;
          }
        }
        return false;
      },
      kLong);
  return id;
}

std::string attribute(const Poco::JSON::Object::Ptr& item, const std::string& name) {
  auto attributes = item->getObject("attributes");
  return attributes->has(name) ? attributes->getValue<std::string>(name) : "(absent)";
}

std::vector<std::string> causes(const Poco::JSON::Object::Ptr& item) {
  std::vector<std::string> result;
  auto history = item->getArray("history");
  for (std::size_t i = 0; i < history->size(); ++i) {
    result.push_back(history->getObject(static_cast<unsigned>(i))->getValue<std::string>("cause"));
  }
  return result;
}

bool everOffered(const Poco::JSON::Object::Ptr& item) {
  auto history = item->getArray("history");
  for (std::size_t i = 0; i < history->size(); ++i) {
    if (history->getObject(static_cast<unsigned>(i))->getValue<std::string>("state") == "offered") {
      return true;
    }
  }
  return item->has("agent");
}

std::string mail(const std::string& subject, const std::string& messageId,
                 const std::string& extraHeaders = "") {
  return "From: Joana Ferreira <joana@example.com>\r\nTo: apoio@mares-telecom.example\r\n"
         "Subject: " +
         subject + "\r\nMessage-ID: <" + messageId +
         ">\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n" + extraHeaders +
         "Content-Type: text/plain; charset=utf-8\r\n\r\nOla, a fatura veio duas vezes.\r\n";
}

// A customer's mail and an automatic one (`automatic`, whose subject is `automaticSubject`)
// arrive over `type`: the customer's is offered to the ready agent, the automatic one is kept,
// marked with `kind`, completed and never offered.
void expectKeptNotRouted(const std::string& type, const std::string& automatic,
                         const std::string& automaticSubject, const std::string& kind) {
  DovecotServer dovecot;
  dovecot.start();
  ServerProcess server(configWithAgent(mailboxDriver(type, dovecot)));
  server.start();
  setReady(server);
  dovecot.deliver("support", "1700000001.M1.test", mail("Fatura 1", "q1@example.com"));
  dovecot.deliver("support", "1700000002.M2.test", automatic);

  std::string customer = itemWithSubject(server, "Fatura 1");
  std::string kept = itemWithSubject(server, automaticSubject);
  ASSERT_FALSE(customer.empty()) << server.log();
  ASSERT_FALSE(kept.empty()) << server.log();
  ASSERT_TRUE(eventually([&] {
    return workItem(server, customer)->getValue<std::string>("state") == "offered";
  })) << server.log();

  // The arrival commits first; keeping it unrouted is the write after it.
  ASSERT_TRUE(eventually([&] {
    return workItem(server, kept)->getValue<std::string>("state") == "completed";
  })) << server.log();
  auto item = workItem(server, kept);
  EXPECT_EQ(item->getValue<std::string>("source"), type + "-1");
  EXPECT_EQ(attribute(item, "email.kind"), kind);
  EXPECT_NE(attribute(item, "email.kindReason"), "(absent)");
  EXPECT_THAT(causes(item).back(), HasSubstr("not routed: " + kind));
  EXPECT_FALSE(everOffered(item));
  // The mailbox's own key is still the idempotency key.
  EXPECT_THAT(item->getValue<std::string>("sourceKey"), HasSubstr(type + ":support@127.0.0.1"));
  EXPECT_EQ(testing::allWorkItems(server).size(), 2u);
}

TEST(MailboxAutomaticMail, AnAutoReplyOverImapIsKeptAndMarkedButNeverOffered) {
  expectKeptNotRouted(
      "imap",
      mail("Out of office: Fatura 1", "oof1@example.com", "Auto-Submitted: auto-replied\r\n"),
      "Out of office: Fatura 1", "autoReply");
}

TEST(MailboxAutomaticMail, ABounceOverPop3IsKeptAndMarkedButNeverOffered) {
  expectKeptNotRouted(
      "pop3", testing::readFile(testing::sourceDir() / "tests/data/mail/22-bounce-dsn-postfix.eml"),
      "Undelivered Mail Returned to Sender", "bounce");
}

// Over `type`: a first mail, then two replies to it, one by In-Reply-To and one only by the
// item reference in its subject. Both join the open first item.
void expectRepliesJoin(const std::string& type) {
  DovecotServer dovecot;
  dovecot.start();
  ServerProcess server(configWithAgent(mailboxDriver(type, dovecot)));
  server.start();
  dovecot.deliver("support", "1700000001.M1.test",
                  mail("Fatura 1", "q1@example.com", "References: <root1@example.com>\r\n"));
  std::string first = itemWithSubject(server, "Fatura 1");
  ASSERT_FALSE(first.empty()) << server.log();
  EXPECT_EQ(attribute(workItem(server, first), "email.messageId"), "q1@example.com");

  dovecot.deliver("support", "1700000002.M2.test",
                  mail("Re: Fatura 1", "r1@example.com",
                       "In-Reply-To: <q1@example.com>\r\nReferences: <root1@example.com> "
                       "<q1@example.com>\r\n"));
  std::string byHeader = itemWithSubject(server, "Re: Fatura 1");
  ASSERT_FALSE(byHeader.empty()) << server.log();
  // No threading headers at all: only the reference a reply of the server put in the subject.
  dovecot.deliver("support", "1700000003.M3.test",
                  mail("Re: Fatura 1 [#" + first + "]", "r2@example.com"));
  std::string bySubject = itemWithSubject(server, "Re: Fatura 1 [#" + first + "]");
  ASSERT_FALSE(bySubject.empty()) << server.log();

  for (const std::string& reply : {byHeader, bySubject}) {
    SCOPED_TRACE(reply);
    // The arrival commits first; joining it to the open item is the write after it.
    ASSERT_TRUE(eventually([&] {
      return workItem(server, reply)->getValue<std::string>("state") == "completed";
    })) << server.log();
    auto joined = workItem(server, reply);
    EXPECT_EQ(joined->optValue<std::string>("thread", ""), first);
    EXPECT_EQ(causes(joined).back(), "joined " + first);
  }
  auto noted = [&] {
    auto history = causes(workItem(server, first));
    auto has = [&](const std::string& cause) {
      return std::find(history.begin(), history.end(), cause) != history.end();
    };
    return has("message " + byHeader) && has("message " + bySubject);
  };
  ASSERT_TRUE(eventually(noted)) << server.log();
  auto open = workItem(server, first);
  EXPECT_NE(open->getValue<std::string>("state"), "completed");
  EXPECT_EQ(testing::allWorkItems(server).size(), 3u);
}

TEST(MailboxThreading, RepliesOverImapJoinTheFirstItem) {
  expectRepliesJoin("imap");
}

TEST(MailboxThreading, RepliesOverPop3JoinTheFirstItem) {
  expectRepliesJoin("pop3");
}

// Over `type` with an <smtp> child: a customer's mail is acknowledged, and the reply the CRM
// sends for its work item reaches the SMTP sink once, with the customer's thread in its headers.
void expectReplySentOnce(const std::string& type) {
  DovecotServer dovecot;
  dovecot.start();
  std::uint16_t port = testing::freePort();
  std::string smtp =
      "<smtp host=\"127.0.0.1\" port=\"" + std::to_string(port) +
      "\" tls=\"none\" helo=\"switchboard.test\" from=\"apoio@mares-telecom.example\" "
      "fromName=\"Apoio\" outbox=\"@DIR@/outbox.db\" retryDelay=\"100ms\" "
      "maxRetryDelay=\"500ms\"><autoAcknowledge subject=\"We have your "
      "message\">Dear {name}, your reference is {id}.</autoAcknowledge></smtp>";
  ServerProcess server(configWithAgent(mailboxDriver(type, dovecot, smtp)));
  SmtpSink sink(server.dir() / "sink", port);
  sink.start();
  server.start();
  dovecot.deliver("support", "1700000001.M1.test",
                  mail("Fatura 1", "q1@example.com", "References: <root1@example.com>\r\n"));
  std::string item = itemWithSubject(server, "Fatura 1");
  ASSERT_FALSE(item.empty()) << server.log();

  std::vector<std::string> mails = sink.waitFor(1);
  ASSERT_EQ(mails.size(), 1u) << server.log();
  EXPECT_EQ(headerOf(mails[0], "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(headerOf(mails[0], "X-Sink-Rcpt-To"), "joana@example.com");
  EXPECT_EQ(headerOf(mails[0], "Subject"), "We have your message [#" + item + "]");
  EXPECT_EQ(headerOf(mails[0], "In-Reply-To"), "<q1@example.com>");

  const std::string body =
      R"({"replyId":"r-1","body":{"type":"text/plain","text":"Cara Joana,\nO valor será devolvido.\nAna"}})";
  HttpReply answered =
      server.request("POST", "/v1/work-items/" + item + "/reply", kEmailTestKey, body);
  ASSERT_EQ(answered.status, 202) << answered.body << server.log();
  mails = sink.waitFor(2);
  ASSERT_EQ(mails.size(), 2u) << server.log();
  const std::string& reply = mails[1];
  EXPECT_EQ(headerOf(reply, "X-Sink-Mail-From"), "apoio@mares-telecom.example");
  EXPECT_EQ(headerOf(reply, "X-Sink-Rcpt-To"), "joana@example.com");
  EXPECT_EQ(headerOf(reply, "From"), "\"Apoio\" <apoio@mares-telecom.example>");
  EXPECT_EQ(headerOf(reply, "To"), "\"Joana Ferreira\" <joana@example.com>");
  EXPECT_EQ(headerOf(reply, "Subject"), "Re: Fatura 1 [#" + item + "]");
  EXPECT_EQ(headerOf(reply, "In-Reply-To"), "<q1@example.com>");
  EXPECT_EQ(headerOf(reply, "References"), "<root1@example.com> <q1@example.com>");
  EXPECT_EQ(headerOf(reply, "Auto-Submitted"), "");
  EXPECT_EQ(email::workItemOfMessageId(headerOf(reply, "Message-ID")), item);
  EXPECT_THAT(reply, HasSubstr("O valor ser=C3=A1 devolvido."));

  // The same reply again is answered but not sent again; the outbox counts two mails sent.
  EXPECT_EQ(server.request("POST", "/v1/work-items/" + item + "/reply", kEmailTestKey, body).status,
            202);
  ASSERT_TRUE(eventually([&] {
    return server.request("GET", "/metrics")
               .body.find("switchboard_email_outbox_mails{driver=\"" + type +
                          "-1\",state=\"sent\"} 2") != std::string::npos;
  })) << server.request("GET", "/metrics").body;
  EXPECT_EQ(server.kill(SIGTERM), 0) << server.log();
  EXPECT_EQ(sink.mails().size(), 2u);
}

TEST(MailboxSmtp, AReplyToAnImapItemReachesTheSinkOnceInItsThread) {
  expectReplySentOnce("imap");
}

TEST(MailboxSmtp, AReplyToAPop3ItemReachesTheSinkOnceInItsThread) {
  expectReplySentOnce("pop3");
}

} // namespace
} // namespace switchboard
