// The outbox database: duplicates refused, due order, and what a restart makes of the states a
// crash can leave behind.

#include "adapters/email/outbox_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace switchboard::email {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class OutboxStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-outbox-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static OutboxEntry entry(const std::string& key, Millis created) {
    OutboxEntry e;
    e.key = key;
    e.kind = "reply";
    e.workItemId = "wi-1";
    e.replyId = key;
    e.correlationId = "sb-1.7";
    e.messageId = "sb.wi-1." + key + "@x.example";
    e.envelopeFrom = "apoio@x.example";
    e.recipients = {"a@example.com", "b@example.com"};
    e.customer = "a@example.com";
    e.bytes = "Subject: hi\r\n\r\nbody\r\n";
    e.created = created;
    e.nextAttempt = created;
    return e;
  }

  std::filesystem::path file() const { return dir_ / "outbox.db"; }
  std::filesystem::path dir_;
};

TEST_F(OutboxStoreTest, KeepsEachKeyOnceAndReadsItBackWhole) {
  OutboxStore store(file());
  EXPECT_TRUE(store.add(entry("r1", 1000)));
  OutboxEntry other = entry("r1", 2000);
  other.bytes = "changed";
  EXPECT_FALSE(store.add(other));
  auto found = store.find("r1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->bytes, "Subject: hi\r\n\r\nbody\r\n");
  EXPECT_THAT(found->recipients, ElementsAre("a@example.com", "b@example.com"));
  EXPECT_EQ(found->state, OutboxState::Queued);
  EXPECT_EQ(store.findByMessageId("sb.wi-1.r1@x.example")->key, "r1");
  EXPECT_FALSE(store.find("r2"));
}

TEST_F(OutboxStoreTest, ListsDueMailOldestFirst) {
  OutboxStore store(file());
  store.add(entry("late", 3000));
  store.add(entry("early", 1000));
  store.add(entry("future", 9000));
  EXPECT_THAT(store.due(5000, 10), ElementsAre("early", "late"));
  EXPECT_EQ(store.nextDue(), 1000);
  store.retryLater("early", 5000, 7000, "451 try later");
  EXPECT_THAT(store.due(5000, 10), ElementsAre("late"));
  EXPECT_EQ(store.find("early")->lastError, "451 try later");
}

TEST_F(OutboxStoreTest, ARestartResendsWhatTheRelayNeverTookAndCountsTheUncertain) {
  {
    OutboxStore store(file());
    store.add(entry("before-dot", 1000));
    store.add(entry("after-dot", 1000));
    store.add(entry("done", 1000));
    store.beginAttempt("before-dot", 2000);
    store.beginAttempt("after-dot", 2000);
    store.beginCommit("after-dot", 2001);
    store.beginAttempt("done", 2000);
    store.beginCommit("done", 2001);
    store.markSent("done", 2002, "250 ok");
  } // the process "dies" here: nothing else is written
  OutboxStore store(file());
  EXPECT_THAT(store.recover(3000, true), ElementsAre("after-dot"));
  auto before = store.find("before-dot");
  auto after = store.find("after-dot");
  EXPECT_EQ(before->state, OutboxState::Queued);
  EXPECT_EQ(before->uncertainResends, 0u);
  EXPECT_EQ(before->attempts, 1u);
  EXPECT_EQ(after->state, OutboxState::Queued);
  EXPECT_EQ(after->uncertainResends, 1u);
  EXPECT_EQ(store.find("done")->state, OutboxState::Sent);
  EXPECT_THAT(store.due(3000, 10), ElementsAre("before-dot", "after-dot"));
}

TEST_F(OutboxStoreTest, HoldsTheUncertainWhenAskedTo) {
  OutboxStore store(file());
  store.add(entry("after-dot", 1000));
  store.beginAttempt("after-dot", 2000);
  store.beginCommit("after-dot", 2001);
  EXPECT_THAT(store.recover(3000, false), ElementsAre("after-dot"));
  auto held = store.find("after-dot");
  EXPECT_EQ(held->state, OutboxState::Failed);
  EXPECT_THAT(held->lastError, ::testing::HasSubstr("outcome unknown"));
  EXPECT_THAT(store.due(3000, 10), IsEmpty());
  EXPECT_THAT(store.unreported(10), ElementsAre("after-dot"));
}

TEST_F(OutboxStoreTest, CountsPrunesAndRemembersAcknowledgements) {
  OutboxStore store(file());
  OutboxEntry ack = entry("ack\nwi-1", 1000);
  ack.kind = "ack";
  store.add(ack);
  store.add(entry("r1", 1000));
  store.add(entry("r2", 1000));
  store.markSent("r1", 2000, "250");
  store.markFailed("r2", 2000, "550 no such user");
  OutboxCounts counts = store.counts();
  EXPECT_EQ(counts.queued, 1u);
  EXPECT_EQ(counts.sent, 1u);
  EXPECT_EQ(counts.failed, 1u);
  EXPECT_TRUE(store.acknowledgedSince("a@example.com", 500));
  EXPECT_FALSE(store.acknowledgedSince("a@example.com", 1500));
  EXPECT_FALSE(store.acknowledgedSince("b@example.com", 0));
  // Only sent mail whose outcome was reported goes.
  EXPECT_EQ(store.pruneSent(5000), 0u);
  store.markReported("r1");
  EXPECT_EQ(store.pruneSent(5000), 1u);
  EXPECT_FALSE(store.find("r1"));
  EXPECT_TRUE(store.find("r2"));
}

} // namespace
} // namespace switchboard::email
