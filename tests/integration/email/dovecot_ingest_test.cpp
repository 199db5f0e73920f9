// The IMAP and POP3 sources against a real Dovecot on loopback, through the real
// `switchboard serve`: N mails delivered become N work items, mails are marked, moved or
// deleted only once committed, poison mail becomes a dead letter without stopping the mailbox,
// and TLS (implicit and STARTTLS) checks the server's certificate.

#include "tests/integration/email/email_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard {
namespace {

using testing::DovecotServer;
using testing::eventually;
using ::testing::HasSubstr;
using testing::ServerProcess;

constexpr auto kLong = std::chrono::seconds(60);

std::string imapDriver(const DovecotServer& dovecot, const std::string& extra,
                       const std::string& mailboxes) {
  return "<imap name=\"imap-1\" host=\"127.0.0.1\" port=\"" + std::to_string(dovecot.imapPort()) +
         "\" tls=\"none\" pollInterval=\"100ms\" " + extra + ">" + mailboxes + "</imap>";
}

std::string pop3Driver(const DovecotServer& dovecot, const std::string& extra,
                       const std::string& mailboxes) {
  return "<pop3 name=\"pop3-1\" host=\"127.0.0.1\" port=\"" + std::to_string(dovecot.pop3Port()) +
         "\" tls=\"none\" pollInterval=\"100ms\" " + extra + ">" + mailboxes + "</pop3>";
}

std::string mailbox(const DovecotServer& dovecot, const std::string& user,
                    const std::string& extra = "") {
  return "<mailbox user=\"" + user + "\" password=\"" + dovecot.password(user) + "\" " + extra +
         "/>";
}

void deliverQuestions(DovecotServer& dovecot, const std::string& user, int first, int last) {
  for (int n = first; n <= last; ++n) {
    dovecot.deliver(user,
                    "170000" + std::to_string(100000 + n) + ".M" + std::to_string(n) + ".test",
                    testing::customerMail(n));
  }
}

bool eachQuestionOnce(const ServerProcess& server, int first, int last) {
  auto counts = testing::subjects(server);
  if (counts.size() != static_cast<std::size_t>(last - first + 1)) {
    return false;
  }
  for (int n = first; n <= last; ++n) {
    if (counts["Question " + std::to_string(n)] != 1) {
      return false;
    }
  }
  return true;
}

TEST(ImapSource, MailsInTwoMailboxesBecomeOneWorkItemEachAndAreMarkedSeenAfterCommit) {
  DovecotServer dovecot({{{"support", "support-secret"}, {"sales", "sales-secret"}}, false});
  deliverQuestions(dovecot, "support", 1, 30);
  deliverQuestions(dovecot, "sales", 31, 40);
  dovecot.start();
  ServerProcess server(testing::serverConfig(imapDriver(
      dovecot, "fetchBatch=\"7\"", mailbox(dovecot, "support") + mailbox(dovecot, "sales"))));
  server.start();
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 40); }, kLong)) << server.log();
  ASSERT_TRUE(eventually([&] {
    return testing::seenCount(dovecot, "support") == 30 &&
           testing::seenCount(dovecot, "sales") == 10;
  })) << dovecot.log();

  // Mail that arrives while the source runs is taken at the next poll.
  deliverQuestions(dovecot, "support", 41, 45);
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 45); }, kLong)) << server.log();

  auto item = testing::allWorkItems(server).front();
  EXPECT_EQ(item->getValue<std::string>("medium"), "email");
  EXPECT_EQ(server
                .request("GET", "/v1/work-items/" + item->getValue<std::string>("id"),
                         testing::kEmailTestKey)
                .status,
            200);
  // A restart takes nothing twice: every mail is marked.
  EXPECT_EQ(server.kill(SIGTERM), 0) << server.log();
  server.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(eachQuestionOnce(server, 1, 45));
}

TEST(ImapSource, PoisonMailBecomesADeadLetterAndTheMailboxKeepsFlowing) {
  DovecotServer dovecot;
  deliverQuestions(dovecot, "support", 1, 3);
  dovecot.deliver("support", "1700000500.M500.test",
                  "Subject: no sender at all\r\n\r\nWho wrote this?\r\n");
  dovecot.deliver("support", "1700000501.M501.test",
                  "From: big@example.com\r\nSubject: big\r\n\r\n" + std::string(9000, 'x') +
                      "\r\n");
  deliverQuestions(dovecot, "support", 4, 6);
  dovecot.start();
  ServerProcess server(testing::serverConfig(
      imapDriver(dovecot,
                 "maxMessageBytes=\"8KiB\" afterCommit=\"move\" moveTo=\"Processed\" "
                 "rejectedFolder=\"Rejected\"",
                 mailbox(dovecot, "support"))));
  server.start();
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 6); }, kLong)) << server.log();
  ASSERT_TRUE(eventually([&] { return testing::deadLetters(server).size() == 2; })) << server.log();
  std::string reasons;
  for (const auto& letter : testing::deadLetters(server)) {
    EXPECT_EQ(letter->getValue<std::string>("source"), "imap-1");
    reasons += letter->getValue<std::string>("reason") + "\n";
  }
  EXPECT_THAT(reasons, HasSubstr("no sender"));
  EXPECT_THAT(reasons, HasSubstr("over the limit of 8192"));
  ASSERT_TRUE(eventually([&] {
    return testing::folderCount(dovecot, "support", ".Processed") == 6 &&
           testing::folderCount(dovecot, "support", ".Rejected") == 2 &&
           testing::folderCount(dovecot, "support", "") == 0;
  })) << dovecot.log();
  auto metrics = server.request("GET", "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("switchboard_dead_letters_total{source=\"imap-1\"} 2"));
}

TEST(Pop3Source, MailsBecomeOneWorkItemEachAndAreDeletedAfterCommit) {
  DovecotServer dovecot({{{"support", "support-secret"}, {"sales", "sales-secret"}}, false});
  deliverQuestions(dovecot, "support", 1, 25);
  deliverQuestions(dovecot, "sales", 26, 30);
  dovecot.deliver("support", "1700000500.M500.test", "this is not a mail header at all\r\n");
  dovecot.start();
  ServerProcess server(
      testing::serverConfig(pop3Driver(dovecot, "fetchBatch=\"6\" stateFile=\"@DIR@/pop3.db\"",
                                       mailbox(dovecot, "support") + mailbox(dovecot, "sales"))));
  server.start();
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 30); }, kLong)) << server.log();
  // The poison mail stays on the server, remembered; everything else is deleted.
  ASSERT_TRUE(eventually([&] {
    return dovecot.mailCount("support") == 1 && dovecot.mailCount("sales") == 0;
  })) << dovecot.log();
  // The poison mail stays whether or not it was read yet: wait for its dead letter.
  ASSERT_TRUE(eventually([&] { return testing::deadLetters(server).size() == 1; })) << server.log();
  deliverQuestions(dovecot, "sales", 31, 33);
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 33); }, kLong)) << server.log();
  EXPECT_EQ(testing::deadLetters(server).size(), 1u);
}

TEST(Pop3Source, MailsLeftOnTheServerAreRememberedAcrossRestarts) {
  DovecotServer dovecot;
  deliverQuestions(dovecot, "support", 1, 12);
  dovecot.start();
  ServerProcess server(testing::serverConfig(
      pop3Driver(dovecot, "leaveOnServer=\"true\" fetchBatch=\"5\" stateFile=\"@DIR@/pop3.db\"",
                 mailbox(dovecot, "support"))));
  server.start();
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 12); }, kLong)) << server.log();
  EXPECT_EQ(dovecot.mailCount("support"), 12u);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  deliverQuestions(dovecot, "support", 13, 14);
  server.start();
  ASSERT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 14); }, kLong)) << server.log();
  EXPECT_EQ(dovecot.mailCount("support"), 14u);
  // Only the two new mails were fetched after the restart: nothing was answered "duplicate".
  auto metrics = server.request("GET", "/metrics").body;
  EXPECT_THAT(metrics,
              ::testing::Not(HasSubstr("switchboard_work_items_total{outcome=\"duplicate\"} ")));
}

class MailTls : public ::testing::Test {
 protected:
  MailTls() : dovecot_({{{"support", "support-secret"}}, true}) {
    deliverQuestions(dovecot_, "support", 1, 4);
    dovecot_.start();
  }

  std::string secured(const std::string& type, int port, const std::string& tls,
                      const std::string& caFile) {
    return "<" + type + " name=\"" + type + "-1\" host=\"127.0.0.1\" port=\"" +
           std::to_string(port) + "\" tls=\"" + tls + "\" caFile=\"" + caFile +
           "\" pollInterval=\"100ms\"" + (type == "pop3" ? " stateFile=\"@DIR@/pop3.db\">" : ">") +
           mailbox(dovecot_, "support") + "</" + type + ">";
  }

  void expectIngest(const std::string& driver) {
    ServerProcess server(testing::serverConfig(driver));
    server.start();
    EXPECT_TRUE(eventually([&] { return eachQuestionOnce(server, 1, 4); }, kLong)) << server.log();
  }

  DovecotServer dovecot_;
};

TEST_F(MailTls, ImapOverImplicitTls) {
  expectIngest(secured("imap", dovecot_.imapsPort(), "implicit", dovecot_.certificate()));
}

TEST_F(MailTls, ImapWithStartTls) {
  expectIngest(secured("imap", dovecot_.imapPort(), "starttls", dovecot_.certificate()));
}

TEST_F(MailTls, Pop3OverImplicitTls) {
  expectIngest(secured("pop3", dovecot_.pop3sPort(), "implicit", dovecot_.certificate()));
}

TEST_F(MailTls, Pop3WithStartTls) {
  expectIngest(secured("pop3", dovecot_.pop3Port(), "starttls", dovecot_.certificate()));
}

TEST_F(MailTls, AnUntrustedCertificateIsRefusedAndNothingIsTaken) {
  // Another self-signed certificate: the server's is not signed by it.
  DovecotServer other({{{"x", "y"}}, true});
  for (const auto& [type, port] : {std::pair<std::string, int>{"imap", dovecot_.imapsPort()},
                                   {"pop3", dovecot_.pop3sPort()}}) {
    ServerProcess server(
        testing::serverConfig(secured(type, port, "implicit", other.certificate())));
    server.start();
    ASSERT_TRUE(eventually([&] {
      std::string log = server.log();
      return log.find("certificate") != std::string::npos ||
             log.find("Certificate") != std::string::npos;
    })) << server.log();
    EXPECT_TRUE(testing::allWorkItems(server).empty());
  }
  EXPECT_EQ(dovecot_.mailCount("support"), 4u);
  EXPECT_EQ(testing::seenCount(dovecot_, "support"), 0u);
}

} // namespace
} // namespace switchboard
