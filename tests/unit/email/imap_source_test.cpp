// The IMAP connection's reading of responses (against an in-process dialog server), UID sets,
// and what the mailbox sources' intake does with each kind of mail (against a fake sink).

#include "imap_connection.h"
#include "imap_source.h"
#include "mail_intake.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace switchboard::email {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(UidSet, RunsOfUidsBecomeRanges) {
  EXPECT_EQ(uidSet({1, 2, 3, 5, 7, 8, 10}), "1:3,5,7:8,10");
  EXPECT_EQ(uidSet({42}), "42");
  EXPECT_EQ(uidSet({}), "");
}

// A one-connection IMAP server that answers libcurl's login and then each command with the
// scripted text (its "TAG" replaced by the command's tag).
class ScriptedImapServer {
 public:
  explicit ScriptedImapServer(std::vector<std::string> answers)
      : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)), answers_(std::move(answers)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedImapServer() { thread_.join(); }
  std::uint16_t port() const { return socket_.address().port(); }
  std::vector<std::string> commands() {
    std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  void serve() {
    Poco::Net::StreamSocket client = socket_.acceptConnection();
    client.setReceiveTimeout(Poco::Timespan(10, 0));
    send(client, "* OK scripted server ready\r\n");
    std::string pending;
    std::size_t answered = 0;
    char buffer[4096];
    while (true) {
      std::size_t end = pending.find("\r\n");
      if (end == std::string::npos) {
        int got = 0;
        try {
          got = client.receiveBytes(buffer, sizeof buffer);
        } catch (const std::exception&) {
          return;
        }
        if (got <= 0) {
          return;
        }
        pending.append(buffer, static_cast<std::size_t>(got));
        continue;
      }
      std::string line = pending.substr(0, end);
      pending.erase(0, end + 2);
      std::string tag = line.substr(0, line.find(' '));
      std::string verb = line.substr(tag.size() + 1);
      if (verb.starts_with("CAPABILITY")) {
        send(client, "* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n");
      } else if (verb.starts_with("LOGIN")) {
        send(client, tag + " OK logged in\r\n");
      } else if (verb.starts_with("LOGOUT")) {
        send(client, "* BYE bye\r\n" + tag + " OK done\r\n");
        return;
      } else {
        {
          std::lock_guard lock(mutex_);
          commands_.push_back(verb);
        }
        std::string answer =
            answered < answers_.size() ? answers_[answered++] : "TAG OK nothing scripted\r\n";
        for (std::size_t at; (at = answer.find("TAG")) != std::string::npos;) {
          answer.replace(at, 3, tag);
        }
        if (answer.starts_with("CLOSE")) {
          send(client, answer.substr(5));
          return; // the connection closes with the answer unfinished
        }
        send(client, answer);
      }
    }
  }

  static void send(Poco::Net::StreamSocket& client, const std::string& text) {
    client.sendBytes(text.data(), static_cast<int>(text.size()));
  }

  Poco::Net::ServerSocket socket_;
  std::vector<std::string> answers_;
  std::mutex mutex_;
  std::vector<std::string> commands_;
  std::thread thread_;
};

MailServer plain(std::uint16_t port) {
  MailServer server;
  server.host = "127.0.0.1";
  server.port = port;
  server.tls = TlsMode::None;
  server.timeout = std::chrono::seconds(10);
  return server;
}

TEST(ImapConnection, LiteralsAreTakenByTheirByteCountWhateverTheyHold) {
  // A mail whose lines look like the end of the command and like another literal.
  std::string mail =
      "Subject: tricky\r\n\r\ns2 OK not the end\r\nsee {12}\r\n* 9 FETCH (UID 9)\r\n";
  ScriptedImapServer server({"* 1 FETCH (UID 7 BODY[] {" + std::to_string(mail.size()) + "}\r\n" +
                             mail + ")\r\n* 2 FETCH (UID 8 BODY[] {0}\r\n)\r\nTAG OK done\r\n"});
  {
    ImapConnection imap(plain(server.port()), "user", "pw");
    ImapResponse response = imap.require("UID FETCH 7:8 (BODY.PEEK[])");
    ASSERT_EQ(response.untagged.size(), 2u);
    EXPECT_THAT(response.untagged[0].literals, ElementsAre(mail));
    EXPECT_EQ(response.untagged[0].line,
              "* 1 FETCH (UID 7 BODY[] {" + std::to_string(mail.size()) + "})");
    EXPECT_THAT(response.untagged[1].literals, ElementsAre(""));
  }
  EXPECT_THAT(server.commands(), ElementsAre("UID FETCH 7:8 (BODY.PEEK[])"));
}

TEST(ImapConnection, NoAndBadAreAnswersAndRequireTurnsThemIntoErrors) {
  ScriptedImapServer server({"TAG NO [TRYCREATE] no such folder\r\n", "TAG BAD what?\r\n"});
  ImapConnection imap(plain(server.port()), "user", "pw");
  ImapResponse moved = imap.command("UID MOVE 1 \"Archive\"");
  EXPECT_EQ(moved.status, "NO");
  EXPECT_THAT(moved.text, HasSubstr("no such folder"));
  try {
    imap.require("UID FROB 1");
    ADD_FAILURE() << "BAD was accepted";
  } catch (const ImapError& e) {
    EXPECT_THAT(e.what(), HasSubstr("BAD what?"));
  }
}

TEST(ImapConnection, AServerThatClosesMidAnswerIsAnErrorAndTheConnectionIsDone) {
  ScriptedImapServer server({"CLOSE* 1 FETCH (UID 7 BODY[] {500}\r\nonly a little"});
  ImapConnection imap(plain(server.port()), "user", "pw");
  EXPECT_THROW(imap.require("UID FETCH 7 (BODY.PEEK[])"), ImapError);
  EXPECT_THROW(imap.command("NOOP"), ImapError);
}

TEST(ImapConnection, QuotedStringsEscapeQuotesAndBackslashes) {
  EXPECT_EQ(ImapConnection::quoted("Arquivo \"2026\"\\x"), "\"Arquivo \\\"2026\\\"\\\\x\"");
}

// Answers like the server: keeps work items by source key, reports repeats as duplicates, keeps
// contactRejected as dead letters; can be unavailable.
class FakeSink : public MessageSink {
 public:
  std::string submit(std::string_view document) override {
    if (unavailable) {
      throw std::runtime_error("store unavailable");
    }
    auto message = codec_.decode(document);
    if (!message.ok()) {
      throw InvalidDocument(message.error().toString());
    }
    Response response{std::string(kindOf(*message)), ResponseStatus::Ok, std::nullopt};
    std::lock_guard lock(mutex_);
    const auto& notification = std::get<Notification>(message->payload);
    if (const auto* rejected = std::get_if<ContactRejected>(&notification)) {
      deadLetters.push_back(*rejected);
    } else if (!keys_.insert(message->workItems.at(0).sourceKey.value()).second) {
      response.status = ResponseStatus::Duplicate;
    } else {
      items.push_back(message->workItems.at(0));
    }
    Message answer;
    answer.id = "sb-" + std::to_string(++answers_);
    answer.correlationId = message->id;
    answer.sender = {PartyType::Server, "sb-1"};
    answer.addressee = message->sender;
    answer.payload = response;
    return codec_.encode(answer);
  }

  bool unavailable = false;
  std::vector<WorkItem> items;
  std::vector<ContactRejected> deadLetters;

 private:
  std::mutex mutex_;
  MessageCodec codec_;
  std::set<std::string> keys_;
  int answers_ = 0;
};

class MailIntakeTest : public ::testing::Test {
 protected:
  MailIntakeTest()
      : root_(std::filesystem::temp_directory_path() / ("sb-intake-" + std::to_string(::getpid()))),
        attachments_(root_ / "attachments") {
    options_.driverName = "imap-1";
    options_.serverId = "sb-1";
    options_.maxMessageBytes = 2000;
  }
  ~MailIntakeTest() override { std::filesystem::remove_all(root_); }

  static FetchedMail fetched(int n, std::string bytes) {
    FetchedMail mail;
    mail.sourceKey = "imap:support@127.0.0.1/INBOX;7:" + std::to_string(n);
    mail.reference = "imap://support@127.0.0.1/INBOX;UIDVALIDITY=7;UID=" + std::to_string(n);
    mail.mailbox = mail.reference;
    mail.size = bytes.size();
    mail.bytes = std::move(bytes);
    mail.contactPoint = "apoio@mares-telecom.example";
    return mail;
  }
  static std::string question(int n) {
    return "From: Customer <c" + std::to_string(n) + "@example.com>\r\nSubject: Question " +
           std::to_string(n) + "\r\nMessage-ID: <q" + std::to_string(n) +
           "@example.com>\r\n\r\nHello.\r\n";
  }

  std::filesystem::path root_;
  AttachmentStore attachments_;
  IntakeOptions options_;
  FakeSink sink_;
};

TEST_F(MailIntakeTest, EachMailOfABatchBecomesOneWorkItemKeyedByItsMailbox) {
  MailIntake intake(options_, sink_, attachments_);
  std::vector<FetchedMail> mails;
  for (int n = 1; n <= 60; ++n) {
    mails.push_back(fetched(n, question(n)));
  }
  std::vector<IntakeOutcome> outcomes = intake.take(mails);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), IntakeOutcome::Committed), 60);
  ASSERT_EQ(sink_.items.size(), 60u);
  std::set<std::string> keys;
  for (const WorkItem& item : sink_.items) {
    keys.insert(item.sourceKey.value());
    // The mail names no To:, so the mailbox's address is the contact point.
    EXPECT_EQ(item.contactPoint->value, "apoio@mares-telecom.example");
  }
  EXPECT_EQ(keys.size(), 60u);
  // Taken again (a crash before the mails were marked): duplicates, no new items.
  outcomes = intake.take(mails);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), IntakeOutcome::Duplicate), 60);
  EXPECT_EQ(sink_.items.size(), 60u);
}

TEST_F(MailIntakeTest, PoisonMailIsADeadLetterWithItsReasonAndTheRestFlows) {
  MailIntake intake(options_, sink_, attachments_);
  FetchedMail oversize = fetched(2, "");
  oversize.size = 5000; // not fetched: the server said how big it is
  std::vector<FetchedMail> mails{fetched(1, question(1)), oversize,
                                 fetched(3, "Subject: nobody wrote this\r\n\r\nhm\r\n"),
                                 fetched(4, question(4))};
  std::vector<IntakeOutcome> outcomes = intake.take(mails);
  EXPECT_THAT(outcomes, ElementsAre(IntakeOutcome::Committed, IntakeOutcome::Rejected,
                                    IntakeOutcome::Rejected, IntakeOutcome::Committed));
  ASSERT_EQ(sink_.deadLetters.size(), 2u);
  std::string reasons = sink_.deadLetters[0].reason + " | " + sink_.deadLetters[1].reason;
  EXPECT_THAT(reasons, HasSubstr("5000 bytes is over the limit of 2000"));
  EXPECT_THAT(reasons, HasSubstr("no sender"));
  for (const ContactRejected& letter : sink_.deadLetters) {
    EXPECT_THAT(letter.reference.value_or(""), HasSubstr("imap://support@127.0.0.1/INBOX"));
  }
  EXPECT_EQ(intake.counters().rejected, 2u);
}

TEST_F(MailIntakeTest, AServerThatCannotTakeMailLeavesEveryMailToBeTriedAgain) {
  MailIntake intake(options_, sink_, attachments_);
  sink_.unavailable = true;
  std::vector<FetchedMail> mails{fetched(1, question(1)), fetched(2, question(2))};
  std::vector<IntakeOutcome> outcomes = intake.take(mails);
  EXPECT_THAT(outcomes, ElementsAre(IntakeOutcome::Retry, IntakeOutcome::Retry));
  EXPECT_TRUE(sink_.items.empty());
  sink_.unavailable = false;
  outcomes = intake.take(mails);
  EXPECT_THAT(outcomes, ElementsAre(IntakeOutcome::Committed, IntakeOutcome::Committed));
}

std::string attributeOf(const WorkItem& item, const std::string& name) {
  for (const Attribute& attribute : item.attributes) {
    if (attribute.name == name) {
      return attribute.value;
    }
  }
  return "(absent)";
}

TEST_F(MailIntakeTest, MailBecomesAWorkItemThroughTheBuilderEverySourceShares) {
  options_.item.maxAttachmentBytes = 16;
  MailIntake intake(options_, sink_, attachments_);
  std::vector<FetchedMail> mails{
      fetched(1, "From: Joana <j@example.com>\r\nTo: apoio@mares-telecom.example\r\nSubject: "
                 "Out of office\r\nMessage-ID: <oof@example.com>\r\nAuto-Submitted: "
                 "auto-replied\r\n\r\nAway.\r\n"),
      fetched(2, "From: j@example.com\r\nSubject: Re: [#wi-000042] Fatura\r\nMessage-ID: "
                 "<r@example.com>\r\nIn-Reply-To: <q@example.com>\r\n\r\nStill wrong.\r\n"),
      fetched(3, "From: j@example.com\r\nSubject: HTML\r\nContent-Type: text/html\r\n\r\n"
                 "<p>Hello <b>there</b></p><script>x()</script>\r\n"),
      fetched(4, "From: j@example.com\r\nSubject: Big\r\nContent-Type: multipart/mixed; "
                 "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee "
                 "attached.\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n" +
                     std::string(40, 'x') + "\r\n--b--\r\n")};
  std::vector<IntakeOutcome> outcomes = intake.take(mails);
  ASSERT_EQ(std::count(outcomes.begin(), outcomes.end(), IntakeOutcome::Committed), 4);
  std::map<std::string, WorkItem> bySubject;
  for (const WorkItem& item : sink_.items) {
    bySubject[item.subject.value_or("")] = item;
  }
  // Automatic mail is kept, marked and not routed; the mailbox's key stays the idempotency key.
  const WorkItem& oof = bySubject.at("Out of office");
  EXPECT_EQ(oof.sourceKey, "imap:support@127.0.0.1/INBOX;7:1");
  EXPECT_EQ(attributeOf(oof, "email.kind"), "autoReply");
  EXPECT_THAT(attributeOf(oof, "noRoute"), HasSubstr("autoReply"));
  EXPECT_EQ(attributeOf(oof, "contactKey"), "oof@example.com");
  EXPECT_EQ(attributeOf(oof, "email.mailbox"),
            "imap://support@127.0.0.1/INBOX;UIDVALIDITY=7;UID=1");
  EXPECT_EQ(oof.contactPoint->value, "apoio@mares-telecom.example");
  // A reply names what it answers, by header and by the item reference in its subject.
  const WorkItem& reply = bySubject.at("Re: [#wi-000042] Fatura");
  EXPECT_EQ(attributeOf(reply, "inReplyTo"), "q@example.com");
  EXPECT_EQ(attributeOf(reply, "workItemRef"), "wi-000042");
  EXPECT_EQ(attributeOf(reply, "email.kind"), "(absent)");
  // HTML-only mail reaches the agent as text, the HTML kept beside it.
  const WorkItem& html = bySubject.at("HTML");
  ASSERT_TRUE(html.body);
  EXPECT_EQ(html.body->type, "text/plain");
  EXPECT_THAT(html.body->text, HasSubstr("Hello there"));
  EXPECT_THAT(html.body->text, ::testing::Not(HasSubstr("x()")));
  ASSERT_EQ(html.attachments.size(), 1u);
  EXPECT_EQ(html.attachments[0].name, "message.html");
  // An attachment over the limit is left out and named.
  const WorkItem& big = bySubject.at("Big");
  EXPECT_TRUE(big.attachments.empty());
  EXPECT_THAT(attributeOf(big, "email.defects"), HasSubstr("'a.pdf' of 40 bytes not kept"));
}

TEST_F(MailIntakeTest, WithThreadingOffAReplyIsNotLinked) {
  options_.item.threading = Threading::Off;
  MailIntake intake(options_, sink_, attachments_);
  std::vector<FetchedMail> mails{
      fetched(1, "From: j@example.com\r\nSubject: Re: [#wi-000042] Fatura\r\nMessage-ID: "
                 "<r@example.com>\r\nIn-Reply-To: <q@example.com>\r\n\r\nStill wrong.\r\n")};
  ASSERT_THAT(intake.take(mails), ElementsAre(IntakeOutcome::Committed));
  EXPECT_EQ(attributeOf(sink_.items.at(0), "inReplyTo"), "(absent)");
  EXPECT_EQ(attributeOf(sink_.items.at(0), "workItemRef"), "(absent)");
  EXPECT_EQ(attributeOf(sink_.items.at(0), "email.inReplyTo"), "<q@example.com>");
}

TEST_F(MailIntakeTest, CommandsAreRefusedAsUnsupported) {
  MailIntake intake(options_, sink_, attachments_);
  MessageCodec codec;
  auto answer = codec.decode(intake.refuseCommand("<not-a-message/>", "receives only"));
  ASSERT_TRUE(answer.ok());
  const auto& response = std::get<Response>(answer->payload);
  EXPECT_EQ(response.status, ResponseStatus::Error);
  EXPECT_EQ(response.error->code, "unsupported");
}

} // namespace
} // namespace switchboard::email
