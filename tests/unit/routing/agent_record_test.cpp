// The small inline lists of an agent record (its capacity mixes, its unanswered offers): past
// their inline room they keep every element, in order, and an engine agent with more pending
// offers than fit inline answers and loses them like any other.

#include "agent_record.h"
#include "engine_fixture.h"

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

class ManyOffersTest : public EngineTest {};

TEST_F(ManyOffersTest, AnAgentWithMoreOffersThanFitInlineAnswersAndLosesThemAll) {
  addQueue(queueSpec("mail"));
  AgentSpec spec = agentSpec("a1");
  spec.capacity = {CapacityMix{{{"email", 9}}}};
  addReady(spec);
  const std::size_t count = ItemList::kInline + 3;
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

} // namespace
} // namespace switchboard::routing::testing
