#include "switchboard/queue_waits.h"

#include <gtest/gtest.h>

namespace switchboard {
namespace {

using namespace std::chrono_literals;

Timestamp at(int seconds) {
  return Timestamp{} + std::chrono::seconds(seconds);
}

TEST(QueueWaitsTest, CountsWaitingItemsAndFindsTheOldest) {
  QueueWaits waits;
  waits.enter("wi-1", "billing", at(10));
  waits.enter("wi-2", "billing", at(5));
  waits.enter("wi-3", "sales", at(1));
  auto billing = waits.summary("billing");
  EXPECT_EQ(billing.waiting, 2u);
  EXPECT_EQ(billing.oldestSince, at(5));
  EXPECT_EQ(waits.summary("sales").waiting, 1u);
  EXPECT_EQ(waits.summary("unknown").waiting, 0u);
  EXPECT_FALSE(waits.summary("unknown").oldestSince);
}

TEST(QueueWaitsTest, AnOfferedItemStopsWaitingButKeepsWhenItFirstQueued) {
  QueueWaits waits;
  waits.enter("wi-1", "billing", at(10));
  waits.leave("wi-1");
  EXPECT_EQ(waits.summary("billing").waiting, 0u);
  waits.enter("wi-1", "billing", at(40)); // declined, queued again
  EXPECT_EQ(waits.summary("billing").oldestSince, at(10));
  EXPECT_EQ(waits.since("wi-1"), at(10));
}

TEST(QueueWaitsTest, AMovedItemWaitsInItsNewQueueOnly) {
  QueueWaits waits;
  waits.enter("wi-1", "billing", at(10));
  waits.enter("wi-1", "overflow", at(70));
  EXPECT_EQ(waits.summary("billing").waiting, 0u);
  EXPECT_EQ(waits.summary("overflow").waiting, 1u);
  EXPECT_EQ(waits.summary("overflow").oldestSince, at(10));
}

TEST(QueueWaitsTest, RecoveryKeepsTheArrivalAndForgetEndsTheItem) {
  QueueWaits waits;
  waits.noteSince("wi-1", at(3));
  waits.enter("wi-1", "billing", at(100));
  EXPECT_EQ(waits.summary("billing").oldestSince, at(3));
  waits.forget("wi-1");
  EXPECT_EQ(waits.summary("billing").waiting, 0u);
  EXPECT_FALSE(waits.since("wi-1"));
}

} // namespace
} // namespace switchboard
