// End to end through the in-process server: mails of the corpus dropped into a Maildir, read by
// the Maildir source, committed to a real SQLite store and routed by the communication server.
// Automatic mail is kept and marked but never offered; replies join their open item or, once it
// is closed, start a new item in its thread.

#include "maildir_source.h"
#include "switchboard/communication_server.h"

#include "tests/support/test_data.h"

#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::email {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

class MailThroughServer : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("mail-e2e-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    StoreOptions storeOptions;
    storeOptions.location = (root_ / "store.db").string();
    store_ = openStore(storeOptions);
    attachments_ = std::make_unique<AttachmentStore>(root_ / "attachments");
    CoreOptions options;
    options.serverId = "sb-test";
    options.runTimers = false;
    options.engine.defaultQueue = "general";
    routing::QueueSpec general;
    general.id = "general";
    general.offerTimeout = 60s;
    options.queues = {general};
    routing::AgentSpec ana;
    ana.id = "a-ana";
    ana.name = "Ana";
    ana.site = "lisbon";
    ana.capacity = {routing::CapacityMix{{{"email", 5}}}};
    options.agents = {ana};
    options_ = options;
    startServer();
  }

  // A server on the same store, as after a restart.
  void startServer() {
    source_.reset();
    server_.reset();
    published_.clear();
    server_ = std::make_unique<CommunicationServer>(options_, *store_);
    server_->addListener([this](const Message& message) { published_.push_back(message); });
    server_->start();
    ASSERT_TRUE(server_->setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());
  }

  void TearDown() override {
    source_.reset();
    server_.reset();
    store_.reset();
    fs::remove_all(root_);
  }

  MaildirSource& source(Threading threading = Threading::Join) {
    if (!source_) {
      MaildirOptions options;
      options.driverName = "mail-1";
      options.serverId = "sb-test";
      options.path = root_ / "maildir";
      options.threading = threading;
      source_ = std::make_unique<MaildirSource>(options, *server_, *attachments_);
      for (const char* folder : {"new", "cur", "tmp", "rejected"}) {
        fs::create_directories(options.path / folder);
      }
    }
    return *source_;
  }

  // Delivers a corpus mail (optionally with its header edited) and takes it in; the id of the
  // work item it became.
  std::string take(const std::string& name, const std::string& extraHeader = {}) {
    std::string bytes = testing::readFile(testing::sourceDir() / "tests/data/mail" / name);
    bytes = extraHeader + bytes;
    MaildirSource& maildir = source();
    std::string file = std::to_string(1700000000 + ++delivered_) + ".M1P1.host";
    {
      std::ofstream out(root_ / "maildir" / "tmp" / file, std::ios::binary);
      out << bytes;
    }
    fs::rename(root_ / "maildir" / "tmp" / file, root_ / "maildir" / "new" / file);
    EXPECT_EQ(maildir.pollOnce(), 1u);
    auto mail = readMail(bytes);
    std::string key = mailSourceKey(*mail, bytes);
    auto items = server_->workItems({});
    EXPECT_TRUE(items.ok());
    if (!items.ok()) {
      return {};
    }
    for (const StoredWorkItem& stored : *items) {
      if (stored.item.sourceKey == key) {
        return *stored.item.id;
      }
    }
    ADD_FAILURE() << name << " did not become a work item";
    return {};
  }

  StoredWorkItem item(const std::string& id) {
    auto details = server_->workItem(id);
    EXPECT_TRUE(details.ok());
    return details.ok() ? details->stored : StoredWorkItem{};
  }

  std::string attribute(const StoredWorkItem& stored, const std::string& name) {
    for (const Attribute& attribute : stored.item.attributes) {
      if (attribute.name == name) {
        return attribute.value;
      }
    }
    return "(absent)";
  }

  std::vector<std::string> causes(const StoredWorkItem& stored) {
    std::vector<std::string> result;
    for (const HistoryEntry& entry : stored.item.history) {
      result.push_back(entry.cause);
    }
    return result;
  }

  std::size_t offersOf(const std::string& workItemId) {
    std::size_t count = 0;
    for (const Message& message : published_) {
      if (const auto* command = std::get_if<Command>(&message.payload)) {
        if (const auto* offer = std::get_if<Offer>(command);
            offer && offer->workItemId == workItemId) {
          ++count;
        }
      }
    }
    return count;
  }

  std::vector<WorkItemUpdated> updatesTo(PartyType type) {
    std::vector<WorkItemUpdated> updates;
    for (const Message& message : published_) {
      if (message.addressee.type != type) {
        continue;
      }
      if (const auto* notification = std::get_if<Notification>(&message.payload)) {
        if (const auto* updated = std::get_if<WorkItemUpdated>(notification)) {
          updates.push_back(*updated);
        }
      }
    }
    return updates;
  }

  fs::path root_;
  CoreOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AttachmentStore> attachments_;
  std::unique_ptr<CommunicationServer> server_;
  std::unique_ptr<MaildirSource> source_;
  std::vector<Message> published_;
  int delivered_ = 0;
};

TEST_F(MailThroughServer, AutoRepliesAndBouncesAreKeptAndMarkedButNeverOffered) {
  std::string customer = take("01-plain-utf8.eml");
  EXPECT_EQ(offersOf(customer), 1u);
  for (const char* name : {"19-out-of-office-exchange.eml", "21-newsletter-precedence-bulk.eml",
                           "22-bounce-dsn-postfix.eml", "23-bounce-postmaster-plain.eml"}) {
    SCOPED_TRACE(name);
    std::string id = take(name);
    StoredWorkItem kept = item(id);
    EXPECT_EQ(kept.item.state, WorkItemState::Completed);
    EXPECT_EQ(offersOf(id), 0u);
    EXPECT_NE(attribute(kept, "email.kind"), "(absent)");
    EXPECT_THAT(causes(kept).back(), HasSubstr("not routed: " + attribute(kept, "email.kind")));
  }
  EXPECT_EQ(source().counters().submitted.load(), 5u);
}

TEST_F(MailThroughServer, AReplyJoinsItsOpenItemAndTheAgentHearsOfIt) {
  std::string first = take("01-plain-utf8.eml");
  ASSERT_TRUE(server_->accept(first, "a-ana").ok());
  // 24 answers 01: its References carry 01's Message-ID.
  std::string reply = take("24-customer-reply-with-reference.eml");
  StoredWorkItem joined = item(reply);
  EXPECT_EQ(joined.item.state, WorkItemState::Completed);
  EXPECT_EQ(joined.item.thread, first);
  EXPECT_EQ(causes(joined).back(), "joined " + first);
  EXPECT_EQ(offersOf(reply), 0u);
  StoredWorkItem open = item(first);
  EXPECT_EQ(open.item.state, WorkItemState::Accepted);
  EXPECT_EQ(causes(open).back(), "message " + reply);
  ASSERT_EQ(updatesTo(PartyType::Agent).size(), 1u);
  EXPECT_EQ(updatesTo(PartyType::Agent)[0].workItemId, first);
  EXPECT_EQ(updatesTo(PartyType::Agent)[0].change, "message");
  EXPECT_EQ(updatesTo(PartyType::Crm).size(), 1u);
}

TEST_F(MailThroughServer, AReplyToAClosedItemIsANewItemInItsThread) {
  std::string first = take("01-plain-utf8.eml");
  ASSERT_TRUE(server_->accept(first, "a-ana").ok());
  ASSERT_TRUE(server_->complete({first, "a-ana", std::nullopt, std::nullopt}).ok());
  std::string reply = take("24-customer-reply-with-reference.eml");
  StoredWorkItem linked = item(reply);
  EXPECT_EQ(linked.item.thread, first);
  EXPECT_NE(linked.item.state, WorkItemState::Completed);
  EXPECT_EQ(offersOf(reply), 1u);
}

TEST_F(MailThroughServer, AReplyFindsAMailWhoseSourceKeyIsNotItsMessageId) {
  // As an IMAP source commits it: known by UIDVALIDITY:UID, its Message-ID only an attribute.
  std::string bytes = testing::readFile(testing::sourceDir() / "tests/data/mail/01-plain-utf8.eml");
  auto mail = readMail(bytes);
  ASSERT_TRUE(mail.ok());
  WorkItem fetched = mailWorkItem(*mail, bytes, *attachments_);
  fetched.sourceKey = "1700000000:42";
  ASSERT_TRUE(server_->createWorkItem(fetched, "imap-1").ok());
  std::string first = server_->workItems({}).value().front().item.id.value();
  std::string reply = take("24-customer-reply-with-reference.eml");
  EXPECT_EQ(item(reply).item.thread, first);
  EXPECT_EQ(causes(item(reply)).back(), "joined " + first);
}

TEST_F(MailThroughServer, LinkModeMakesANewItemEvenWhileTheFirstIsOpen) {
  source(Threading::Link);
  std::string first = take("01-plain-utf8.eml");
  std::string reply = take("24-customer-reply-with-reference.eml");
  StoredWorkItem linked = item(reply);
  EXPECT_EQ(linked.item.thread, first);
  EXPECT_EQ(offersOf(reply), 1u);
  EXPECT_EQ(item(first).item.state, WorkItemState::Offered);
}

TEST_F(MailThroughServer, AnswersToRepliesTheServerSentAndSubjectReferencesFindTheirItem) {
  std::string first = take("01-plain-utf8.eml");
  // The SMTP driver reports the Message-ID of the reply it sent for the item.
  Message report;
  report.id = "smtp-1.1";
  report.time = systemNow();
  report.sender = {PartyType::Driver, "smtp-1"};
  report.addressee = {PartyType::Server, "sb-test"};
  report.payload = Notification{DeliveryReport{
      first, "r-1", DeliveryOutcome::Sent, "<sb-reply-0042@mares-telecom.example>", std::nullopt}};
  MessageCodec codec;
  auto answer = codec.decode(server_->submit(codec.encode(report)));
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(std::get<Response>(answer->payload).status, ResponseStatus::Ok);
  EXPECT_EQ(attribute(item(first), "replyKeys"), "sb-reply-0042@mares-telecom.example");

  // The out-of-office answers that reply (In-Reply-To): kept, not routed, and noted on the item.
  std::string oof = take("19-out-of-office-exchange.eml",
                         "X-Test: 1\r\n"); // its own In-Reply-To is sb-reply-0001: no match
  EXPECT_EQ(item(oof).item.thread, std::nullopt);
  std::string bounce = take("22-bounce-dsn-postfix.eml");
  EXPECT_EQ(item(bounce).item.thread, first);
  EXPECT_EQ(item(bounce).item.state, WorkItemState::Completed);
  EXPECT_THAT(causes(item(first)).back(), HasSubstr("bounce " + bounce));

  // A mail with no threading headers at all, only "[#wi-...]" in its subject.
  std::string byReference =
      take("20-vacation-x-autoreply.eml", "Subject: Re: [#" + first + "] Fatura\r\n");
  EXPECT_EQ(item(byReference).item.thread, first);
}

TEST_F(MailThroughServer, TheThreadingSettingIsReadAndCheckedFromTheConfiguration) {
  DriverRegistry registry;
  registerMaildirDriver(registry);
  DriverSection section;
  section.type = "maildir";
  section.name = "mail-2";
  section.file = "switchboard.xml";
  section.settings["path"] = {(root_ / "maildir-2").string(), "switchboard.xml", 3, 5};
  section.settings["threading"] = {"link", "switchboard.xml", 3, 40};
  EXPECT_NE(registry.create({section, *server_, *attachments_, "sb-test"}), nullptr);
  section.settings["threading"] = {"sometimes", "switchboard.xml", 3, 40};
  try {
    registry.create({section, *server_, *attachments_, "sb-test"});
    ADD_FAILURE() << "a threading mode that does not exist was taken";
  } catch (const SettingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("threading"));
  }
}

TEST_F(MailThroughServer, RepliesFindTheirItemAfterARestart) {
  std::string first = take("01-plain-utf8.eml");
  Message report;
  report.id = "smtp-1.1";
  report.time = systemNow();
  report.sender = {PartyType::Driver, "smtp-1"};
  report.addressee = {PartyType::Server, "sb-test"};
  report.payload = Notification{DeliveryReport{first, "r-1", DeliveryOutcome::Sent,
                                               "<sb-reply-7@mares-telecom.example>", std::nullopt}};
  MessageCodec codec;
  ASSERT_TRUE(codec.decode(server_->submit(codec.encode(report))).ok());
  startServer();
  // Answers the server's reply only (no References to the first mail, no subject reference).
  std::string reply =
      take("31-auto-submitted-no.eml", "In-Reply-To: <sb-reply-7@mares-telecom.example>\r\n");
  EXPECT_EQ(item(reply).item.thread, first);
  EXPECT_EQ(causes(item(reply)).back(), "joined " + first);
}

TEST_F(MailThroughServer, AutomaticMailCommittedBeforeACrashIsStillNotRoutedAfterIt) {
  // As if the server died between the commit of an auto-reply and the step that finishes it.
  std::string bytes =
      testing::readFile(testing::sourceDir() / "tests/data/mail/19-out-of-office-exchange.eml");
  auto mail = readMail(bytes);
  ASSERT_TRUE(mail.ok());
  ArrivalOutcome committed =
      store_->commitArrival({"mail-1", mailWorkItem(*mail, bytes, *attachments_), systemNow()});
  startServer();
  StoredWorkItem kept = item(committed.workItemId);
  EXPECT_EQ(kept.item.state, WorkItemState::Completed);
  EXPECT_THAT(causes(kept).back(), HasSubstr("not routed: autoReply"));
  EXPECT_EQ(offersOf(committed.workItemId), 0u);
}

TEST_F(MailThroughServer, AReplyCommittedBeforeACrashStillJoinsItsOpenItemAfterIt) {
  std::string first = take("01-plain-utf8.eml");
  ASSERT_TRUE(server_->accept(first, "a-ana").ok());
  // As if the server died between the commit of the reply and the step that joins it.
  std::string bytes = testing::readFile(testing::sourceDir() /
                                        "tests/data/mail/24-customer-reply-with-reference.eml");
  auto mail = readMail(bytes);
  ASSERT_TRUE(mail.ok());
  ArrivalOutcome committed =
      store_->commitArrival({"mail-1", mailWorkItem(*mail, bytes, *attachments_), systemNow()});
  startServer();
  StoredWorkItem joined = item(committed.workItemId);
  EXPECT_EQ(joined.item.state, WorkItemState::Completed);
  EXPECT_EQ(causes(joined).back(), "joined " + first);
  EXPECT_EQ(offersOf(committed.workItemId), 0u);
  EXPECT_EQ(causes(item(first)).back(), "message " + committed.workItemId);
}

} // namespace
} // namespace switchboard::email
