#include "maildir_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace switchboard::email {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Answers like the server: decodes each document, keeps the work items, and reports a repeated
// source key as a duplicate. Can be told to be unavailable.
class RecordingSink : public MessageSink {
 public:
  std::string submit(std::string_view document) override {
    if (unavailable) {
      throw std::runtime_error("store unavailable");
    }
    auto message = codec_.decode(document);
    if (!message.ok()) {
      throw std::logic_error("driver sent an invalid document: " + message.error().toString());
    }
    Response response{std::string(kindOf(*message)), ResponseStatus::Ok, std::nullopt};
    if (std::holds_alternative<Notification>(message->payload) &&
        std::holds_alternative<ContactRejected>(std::get<Notification>(message->payload))) {
      rejected.push_back(std::get<ContactRejected>(std::get<Notification>(message->payload)));
    } else {
      const WorkItem& item = message->workItems.at(0);
      if (!keys_.insert(item.sourceKey.value()).second) {
        response.status = ResponseStatus::Duplicate;
      } else {
        items.push_back(item);
      }
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
  std::vector<ContactRejected> rejected;

 private:
  MessageCodec codec_;
  std::set<std::string> keys_;
  int answers_ = 0;
};

class MaildirSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sb-maildir-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    attachments_ = std::make_unique<AttachmentStore>(root_ / "attachments");
    MaildirOptions options;
    options.driverName = "mail-1";
    options.serverId = "sb-1";
    options.path = root_ / "maildir";
    options.maxMessageBytes = 4096;
    source_ = std::make_unique<MaildirSource>(options, sink_, *attachments_);
    for (const char* folder : {"new", "cur", "tmp", "rejected"}) {
      fs::create_directories(root_ / "maildir" / folder);
    }
  }
  void TearDown() override {
    source_.reset();
    fs::remove_all(root_);
  }

  // As a mail server delivers: written in tmp/, then renamed into new/, so that a file in new/
  // is always complete (the poller may run at any moment).
  void deliver(const std::string& name, const std::string& content) {
    std::ofstream(root_ / "maildir" / "tmp" / name, std::ios::binary) << content;
    fs::rename(root_ / "maildir" / "tmp" / name, root_ / "maildir" / "new" / name);
  }
  std::size_t count(const char* folder) const {
    return static_cast<std::size_t>(std::distance(
        fs::directory_iterator(root_ / "maildir" / folder), fs::directory_iterator{}));
  }

  fs::path root_;
  RecordingSink sink_;
  std::unique_ptr<AttachmentStore> attachments_;
  std::unique_ptr<MaildirSource> source_;
};

const std::string kMail = "From: Joana Ferreira <joana@example.com>\r\n"
                          "To: apoio@mares-telecom.example\r\n"
                          "Subject: Fatura\r\nMessage-ID: <m1@example.com>\r\n"
                          "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                          "--b\r\nContent-Type: text/plain\r\n\r\nOla\r\n"
                          "--b\r\nContent-Type: application/pdf\r\n"
                          "Content-Disposition: attachment; filename=f.pdf\r\n\r\n%PDF\r\n"
                          "--b--\r\n";

TEST_F(MaildirSourceTest, TurnsEachMailIntoAWorkItemAndMovesItToCur) {
  deliver("1700000001.M1P1.host", kMail);
  deliver("1700000002.M2P1.host",
          "From: b@example.com\r\nSubject: two\r\nMessage-ID: <m2@x>\r\n\r\nbody\r\n");
  EXPECT_EQ(source_->pollOnce(), 2u);
  ASSERT_EQ(sink_.items.size(), 2u);
  const WorkItem& item = sink_.items[0];
  EXPECT_EQ(item.medium, "email");
  EXPECT_EQ(item.sourceKey, "m1@example.com");
  EXPECT_EQ(item.customer->addresses.at(0).value, "joana@example.com");
  EXPECT_EQ(item.customer->name, "Joana Ferreira");
  EXPECT_EQ(item.contactPoint->value, "apoio@mares-telecom.example");
  EXPECT_EQ(item.subject, "Fatura");
  EXPECT_EQ(item.body->text, "Ola");
  ASSERT_EQ(item.attachments.size(), 1u);
  EXPECT_EQ(item.attachments[0].name, "f.pdf");
  EXPECT_EQ(attachments_->get(item.attachments[0].digest), "%PDF");
  EXPECT_EQ(sink_.items[1].subject, "two");
  EXPECT_EQ(count("new"), 0u);
  EXPECT_EQ(count("cur"), 2u);
  EXPECT_TRUE(fs::exists(root_ / "maildir" / "cur" / "1700000001.M1P1.host:2,S"));
}

TEST_F(MaildirSourceTest, LeavesMailInNewWhileTheServerCannotTakeIt) {
  deliver("1700000001.M1P1.host", kMail);
  sink_.unavailable = true;
  EXPECT_EQ(source_->pollOnce(), 0u);
  EXPECT_EQ(count("new"), 1u);
  EXPECT_EQ(source_->counters().retries.load(), 1u);
  sink_.unavailable = false;
  EXPECT_EQ(source_->pollOnce(), 1u);
  EXPECT_EQ(count("new"), 0u);
  EXPECT_EQ(sink_.items.size(), 1u);
}

TEST_F(MaildirSourceTest, AMailSeenAgainIsADuplicateAndStillLeavesNew) {
  deliver("1700000001.M1P1.host", kMail);
  source_->pollOnce();
  // As after a crash between the commit and the move: the same mail is back in new/.
  deliver("1700000001.M1P1.host", kMail);
  EXPECT_EQ(source_->pollOnce(), 1u);
  EXPECT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(source_->counters().duplicates.load(), 1u);
  EXPECT_EQ(count("new"), 0u);
}

TEST_F(MaildirSourceTest, PoisonMailIsRejectedAndTheRestKeepsFlowing) {
  deliver("1700000001.M1P1.host", std::string(5000, 'x'));
  deliver("1700000002.M1P1.host", "\r\nno header at all\r\n");
  deliver("1700000003.M1P1.host", "Subject: no sender\r\n\r\nx\r\n");
  deliver("1700000004.M1P1.host", kMail);
  EXPECT_EQ(source_->pollOnce(), 4u);
  ASSERT_EQ(sink_.rejected.size(), 3u);
  EXPECT_THAT(sink_.rejected[0].reason, HasSubstr("over the limit of 4096"));
  EXPECT_THAT(sink_.rejected[1].reason, HasSubstr("no header"));
  EXPECT_THAT(sink_.rejected[2].reason, HasSubstr("no sender"));
  EXPECT_EQ(sink_.rejected[0].reference, "rejected/1700000001.M1P1.host");
  EXPECT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(count("rejected"), 3u);
  EXPECT_EQ(count("new"), 0u);
}

TEST_F(MaildirSourceTest, TheContactPointIsTheAddressTheCustomerWroteTo) {
  MaildirOptions options;
  options.driverName = "mail-1";
  options.serverId = "sb-1";
  options.path = root_ / "maildir";
  options.contactPoint = "apoio@mares-telecom.example";
  MaildirSource source(options, sink_, *attachments_);
  deliver("1.host", "From: a@b.c\r\nTo: Vendas <ventas@mares-telecom.example>\r\n\r\nx\r\n");
  deliver("2.host", "From: d@e.f\r\nSubject: no To\r\n\r\ny\r\n");
  source.pollOnce();
  ASSERT_EQ(sink_.items.size(), 2u);
  EXPECT_EQ(sink_.items[0].contactPoint->value, "ventas@mares-telecom.example");
  EXPECT_EQ(sink_.items[1].contactPoint->value, "apoio@mares-telecom.example");
}

TEST_F(MaildirSourceTest, MailWithoutMessageIdIsKnownByItsDigest) {
  std::string mail = "From: a@b.c\r\nSubject: x\r\n\r\nbody\r\n";
  deliver("1.host", mail);
  source_->pollOnce();
  ASSERT_EQ(sink_.items.size(), 1u);
  EXPECT_EQ(sink_.items[0].sourceKey, sha256Digest(mail));
}

TEST_F(MaildirSourceTest, RunsInTheBackgroundUntilStopped) {
  source_->start();
  deliver("1.host", kMail);
  // Generous: a loaded machine may take long to schedule the poller; a quick one ends at once.
  for (int i = 0; i < 6000 && count("cur") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  source_->stop();
  EXPECT_EQ(count("cur"), 1u);
}

TEST_F(MaildirSourceTest, RefusesCommandsItCannotCarryOut) {
  MessageCodec codec;
  Message command;
  command.id = "sb-9";
  command.sender = {PartyType::Server, "sb-1"};
  command.addressee = {PartyType::Driver, "mail-1"};
  command.payload = Command{Disconnect{"wi-1", std::nullopt}};
  auto answer = codec.decode(source_->deliver(codec.encode(command)));
  ASSERT_TRUE(answer.ok());
  const auto& response = std::get<Response>(answer->payload);
  EXPECT_EQ(response.status, ResponseStatus::Error);
  EXPECT_EQ(response.error->code, "unsupported");
  EXPECT_EQ(answer->correlationId, "sb-9");
}

} // namespace
} // namespace switchboard::email
