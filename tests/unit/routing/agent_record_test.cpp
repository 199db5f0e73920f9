// The small inline lists of an agent record (its capacity mixes, its unanswered offers, its
// memberships): past their inline room they keep every element, in order, and an engine agent
// with more pending offers than fit inline answers and loses them like any other. And the timer
// queue's handles, through which an accept cancels its offer's expiry.

#include "agent_record.h"
#include "engine_fixture.h"
#include "timer_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::routing::testing {
namespace {

std::vector<std::uint32_t> elements(const ItemList& list) {
  return {list.begin(), list.end()};
}

TEST(ItemListTest, KeepsOrderInlineAndPastItsInlineRoom) {
  ItemList list;
  EXPECT_TRUE(list.empty());
  std::vector<std::uint32_t> expected;
  for (std::uint32_t i = 0; i < ItemList::kInline + 3; ++i) {
    list.push_back(100 + i);
    expected.push_back(100 + i);
    EXPECT_EQ(elements(list), expected);
  }
  // Removing from the middle keeps the others in order, down to the inline room and below.
  while (!expected.empty()) {
    const std::uint32_t middle = expected[expected.size() / 2];
    list.erase(middle);
    expected.erase(expected.begin() + static_cast<std::ptrdiff_t>(expected.size() / 2));
    EXPECT_EQ(elements(list), expected);
  }
  EXPECT_TRUE(list.empty());
  list.erase(7); // absent: nothing happens
  EXPECT_TRUE(list.empty());
}

TEST(MixListTest, KeepsEveryMixPastItsInlineRoom) {
  AgentRecord agent;
  // Nine mixes, each allowing one item of one medium (slot m % 8), the ninth two of slot 0.
  for (std::size_t m = 0; m < MixList::kInline + 1; ++m) {
    MediaCounts mix{};
    mix[m % kMaxMedia] = m < MixList::kInline ? 1 : 2;
    agent.mixes.push_back(mix);
  }
  ASSERT_EQ(agent.mixes.size(), MixList::kInline + 1);
  EXPECT_EQ(agent.mixes.begin()[0][0], 1);
  EXPECT_EQ(agent.mixes.begin()[MixList::kInline][0], 2);
  updateRoom(agent);
  EXPECT_EQ(agent.room, 0xff);
  // Holding one of slot 0 leaves room for a second only through the ninth mix.
  agent.held[0] = 1;
  updateRoom(agent);
  EXPECT_EQ(agent.room, 0x01);
  EXPECT_EQ(freePlaces(agent, 0), 1);
}

TEST(MembershipListTest, KeepsOrderInlineAndPastItsInlineRoom) {
  // Memberships told apart by their stages; the queue records are not read here.
  auto membership = [](std::uint32_t n) {
    Membership m;
    m.stages = n;
    return m;
  };
  auto stages = [](const MembershipList& list) {
    std::vector<std::uint32_t> out;
    for (const Membership& m : list) {
      out.push_back(m.stages);
    }
    return out;
  };
  MembershipList list;
  EXPECT_TRUE(list.empty());
  std::vector<std::uint32_t> expected;
  for (std::uint32_t i = 0; i < MembershipList::kInline + 3; ++i) {
    list.push_back(membership(100 + i));
    expected.push_back(100 + i);
    EXPECT_EQ(stages(list), expected);
  }
  list[2].stages = 7; // written through the index, inline or not
  expected[2] = 7;
  EXPECT_EQ(stages(list), expected);
  // Removing from the middle keeps the others in order, down to the inline room and below.
  while (!expected.empty()) {
    const std::size_t middle = expected.size() / 2;
    list.eraseAt(middle);
    expected.erase(expected.begin() + static_cast<std::ptrdiff_t>(middle));
    EXPECT_EQ(stages(list), expected);
    EXPECT_EQ(list.size(), expected.size());
  }
  EXPECT_TRUE(list.empty());
  list.push_back(membership(1));
  list.clear();
  EXPECT_TRUE(list.empty());
}

class ManyOffersTest : public EngineTest {};

TEST_F(ManyOffersTest, AnAgentWithMoreOffersThanFitInlineAnswersAndLosesThemAll) {
  addQueue(queueSpec("mail"));
  AgentSpec spec = agentSpec("a1");
  spec.capacity = {CapacityMix{{{"email", 9}}}};
  addReady(spec);
  const std::size_t count = 9;
  static_assert(ItemList::kInline + 3 <= count, "more offers than fit inline");
  for (std::size_t i = 0; i < count; ++i) {
    const auto events =
        submit("m" + std::to_string(i), "mail", 1.0 + static_cast<double>(i), "email");
    EXPECT_EQ(offeredTo(events, "m" + std::to_string(i)), "a1");
  }
  // Answers out of order: accept one early and one late offer, decline one in the middle.
  accept("m1", "a1", 20);
  accept("m7", "a1", 20);
  check(engine_.decline("m4", "a1", "busy", at(20)));
  EXPECT_EQ(engine_.item("m4")->state, WorkItemState::Queued);
  // Going not ready withdraws exactly the offers left unanswered.
  const auto events = check(engine_.setAgentState("a1", AgentState::NotReady, "break", at(21)));
  std::vector<std::string> withdrawn;
  for (const auto& e : events) {
    if (e.kind == Event::Kind::Item && e.cause == "agentUnavailable") {
      withdrawn.push_back(e.item);
    }
  }
  EXPECT_EQ(withdrawn, (std::vector<std::string>{"m0", "m2", "m3", "m5", "m6", "m8"}));
  EXPECT_EQ(engine_.item("m1")->state, WorkItemState::Accepted);
  EXPECT_EQ(engine_.item("m7")->state, WorkItemState::Accepted);
  EXPECT_FALSE(engine_.accept("m2", "a1", at(22)).ok());
}

struct TestTimer {
  std::int64_t at = 0;
  std::uint64_t sequence = 0;
  int mark = 0;
  bool operator>(const TestTimer& other) const {
    return at != other.at ? at > other.at : sequence > other.sequence;
  }
};

TEST(TimerQueueTest, AHandleReachesItsTimerWhileItWaitsInItsLane) {
  TimerQueue<TestTimer> timers;
  std::uint64_t sequence = 0;
  auto push = [&](std::int64_t at, std::int64_t delay) {
    return timers.push(TestTimer{at, sequence++, 0}, delay);
  };
  const auto first = push(20, 20);                             // lane of 20
  const auto second = push(25, 20);                            // same lane
  const auto other = push(15, 10);                             // lane of 10
  const auto heap = push(18, TimerQueue<TestTimer>::kNoDelay); // heap
  const auto late = push(22, 20); // before the lane's last: goes to the heap
  EXPECT_EQ(heap.lane, TimerHandle::kNoLane);
  EXPECT_EQ(late.lane, TimerHandle::kNoLane);
  auto mark = [&](const TimerHandle& handle, int value) {
    timers.change(handle, [&](TestTimer& timer) { timer.mark = value; });
  };
  mark(second, 2);
  mark(other, 3);
  mark(heap, 4); // left alone
  // Times and order are unchanged; only the marks differ.
  std::vector<std::pair<std::int64_t, int>> fired;
  while (!timers.empty() && timers.top().at <= 20) {
    fired.emplace_back(timers.top().at, timers.top().mark);
    timers.pop();
  }
  EXPECT_EQ(fired, (std::vector<std::pair<std::int64_t, int>>{{15, 3}, {18, 0}, {20, 0}}));
  mark(first, 9); // gone: nothing happens
  const auto third = push(30, 20);
  mark(third, 5);
  fired.clear();
  while (!timers.empty()) {
    fired.emplace_back(timers.top().at, timers.top().mark);
    timers.pop();
  }
  EXPECT_EQ(fired, (std::vector<std::pair<std::int64_t, int>>{{22, 0}, {25, 2}, {30, 5}}));
}

} // namespace
} // namespace switchboard::routing::testing
