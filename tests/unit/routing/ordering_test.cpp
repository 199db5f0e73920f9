// Each ordering picks the agent a supervisor would expect, and tie-breaks combine.

#include "engine_fixture.h"

#include <gmock/gmock.h>

#include <map>

namespace switchboard::routing::testing {
namespace {

using ::testing::ElementsAre;

class OrderingTest : public EngineTest {};

TEST_F(OrderingTest, LongestIdleTakesTheAgentIdleTheLongest) {
  addQueue(queueSpec("q"));
  addReady("early", {}, 0);
  addReady("late", {}, 30);
  addReady("middle", {}, 10);
  auto events = submit("i1", "q", 60);
  EXPECT_EQ(offeredTo(events, "i1"), "early");
  accept("i1", "early", 61);
  complete("i1", 62); // early is now the most recently busy
  EXPECT_EQ(offeredTo(submit("i2", "q", 70), "i2"), "middle");
  EXPECT_EQ(offeredTo(submit("i3", "q", 71), "i3"), "late");
  EXPECT_EQ(offeredTo(submit("i4", "q", 72), "i4"), "early");
}

TEST_F(OrderingTest, HighestSkillUsesTheQueueSkill) {
  auto spec = queueSpec("q", "agent.skills.billing >= 1", {OrderKey::HighestSkill});
  spec.skill = "billing";
  addQueue(spec);
  addReady("b3", {{"billing", 3}});
  addReady("b9", {{"billing", 9}});
  addReady("b5", {{"billing", 5}});
  EXPECT_EQ(offeredTo(submit("i1", "q", 1), "i1"), "b9");
  EXPECT_EQ(offeredTo(submit("i2", "q", 2), "i2"), "b5");
}

TEST_F(OrderingTest, HighestSkillFollowsTheItemTopic) {
  addQueue(queueSpec("q", "agent.skills has item.topic", {OrderKey::HighestSkill}));
  addReady("a", {{"billing", 9}, {"sales", 2}});
  addReady("b", {{"billing", 4}, {"sales", 8}});
  auto sales = itemSpec("i1", "q");
  sales.attributes = {AttributeSpec::scalar("topic", "sales")};
  EXPECT_EQ(offeredTo(submit(sales, 1), "i1"), "b");
  auto billing = itemSpec("i2", "q", "chat");
  billing.attributes = {AttributeSpec::scalar("topic", "billing")};
  EXPECT_EQ(offeredTo(submit(billing, 2), "i2"), "a");
}

TEST_F(OrderingTest, SeniorityThenLongestIdleAsTieBreak) {
  addQueue(queueSpec("q", "", {OrderKey::Seniority, OrderKey::LongestIdle}));
  auto junior = agentSpec("junior");
  junior.seniority = 1;
  auto seniorLate = agentSpec("senior-late");
  seniorLate.seniority = 8;
  auto seniorEarly = agentSpec("senior-early");
  seniorEarly.seniority = 8;
  addReady(junior, 0);
  addReady(seniorLate, 20);
  addReady(seniorEarly, 10);
  EXPECT_EQ(offeredTo(submit("i1", "q", 30), "i1"), "senior-early");
  EXPECT_EQ(offeredTo(submit("i2", "q", 31), "i2"), "senior-late");
  EXPECT_EQ(offeredTo(submit("i3", "q", 32), "i3"), "junior");
}

TEST_F(OrderingTest, FewestContactsToday) {
  addQueue(queueSpec("q", "", {OrderKey::FewestContacts, OrderKey::LongestIdle}));
  auto busy = agentSpec("busy");
  busy.contactsToday = 12;
  auto fresh = agentSpec("fresh");
  fresh.contactsToday = 2;
  addReady(busy, 0);
  addReady(fresh, 50);
  EXPECT_EQ(offeredTo(submit("i1", "q", 60), "i1"), "fresh");
  accept("i1", "fresh", 61);
  EXPECT_EQ(engine_.agent("fresh")->contactsToday, 3);
}

TEST_F(OrderingTest, ContactsTodayStartAgainTheNextDay) {
  addQueue(queueSpec("q", "", {OrderKey::FewestContacts, OrderKey::LongestIdle}));
  auto a = agentSpec("a");
  a.contactsToday = 9;
  addReady(a, 0);
  addReady("b", {}, 10);
  advance(24 * 3600.0);
  EXPECT_EQ(engine_.agent("a")->contactsToday, 0);
  EXPECT_EQ(offeredTo(submit("i1", "q", 24 * 3600.0 + 1), "i1"), "a");
}

TEST_F(OrderingTest, PreviousAgentIsWaitedForThenFallenBackFrom) {
  auto spec = queueSpec("q", "", {OrderKey::PreviousAgent, OrderKey::LongestIdle});
  spec.stickyMaxWait = std::chrono::seconds(30);
  addQueue(spec);
  addReady("other", {}, 0);
  addReady("mine", {}, 5);
  // The customer's first contact goes to the longest idle agent, "other".
  auto first = itemSpec("i1", "q");
  first.customerId = "c42";
  EXPECT_EQ(offeredTo(submit(first, 10), "i1"), "other");
  accept("i1", "other", 11);
  complete("i1", 20);
  // Back again: "other" is preferred although "mine" has been idle longer.
  auto second = itemSpec("i2", "q");
  second.customerId = "c42";
  EXPECT_EQ(offeredTo(submit(second, 21), "i2"), "other");
  accept("i2", "other", 22);
  // A third contact while "other" is busy waits for "other" ...
  auto third = itemSpec("i3", "q");
  third.customerId = "c42";
  EXPECT_TRUE(offers(submit(third, 30)).empty());
  EXPECT_TRUE(offers(advance(59)).empty());
  // ... until the sticky wait of 30 s ends, then goes to "mine".
  EXPECT_THAT(offers(advance(60)), ElementsAre("i3>mine"));
}

TEST_F(OrderingTest, PreviousAgentFreeingUpTakesTheHeldItem) {
  auto spec = queueSpec("q", "", {OrderKey::PreviousAgent, OrderKey::LongestIdle});
  addQueue(spec);
  addReady("mine", {}, 0);
  addReady("other", {}, 5);
  auto item = itemSpec("i1", "q");
  item.customerId = "c1";
  item.previousAgentId = "mine";
  check(engine_.setAgentState("mine", AgentState::Ready, "", at(6)));
  submit("busy-maker", "q", 7);
  accept("busy-maker", "mine", 8);
  EXPECT_TRUE(offers(submit(item, 9)).empty());
  EXPECT_THAT(offers(complete("busy-maker", 15)), ElementsAre("i1>mine"));
}

TEST_F(OrderingTest, RoundRobinSpreadsTenThousandItemsEvenly) {
  addQueue(queueSpec("q", "", {OrderKey::RoundRobin}));
  const std::vector<std::string> names{"a", "b", "c", "d", "e", "f", "g"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    addReady(names[i], {}, static_cast<double>(i));
  }
  std::map<std::string, int> counts;
  for (int i = 0; i < 10'000; ++i) {
    const std::string id = "i" + std::to_string(i);
    const double time = 10 + i;
    const std::string agent = offeredTo(submit(id, "q", time), id);
    ASSERT_FALSE(agent.empty());
    ++counts[agent];
    accept(id, agent, time + 0.1);
    complete(id, time + 0.2);
  }
  // 10,000 / 7 = 1428.6: every agent gets 1428 or 1429.
  for (const auto& name : names) {
    EXPECT_GE(counts[name], 1428) << name;
    EXPECT_LE(counts[name], 1429) << name;
  }
}

TEST_F(OrderingTest, RoundRobinSkipsBusyAgentsAndKeepsTurns) {
  addQueue(queueSpec("q", "", {OrderKey::RoundRobin}));
  addReady("a");
  addReady("b");
  addReady("c");
  EXPECT_EQ(offeredTo(submit("i1", "q", 1), "i1"), "a");
  accept("i1", "a", 1.5);
  EXPECT_EQ(offeredTo(submit("i2", "q", 2), "i2"), "b");
  accept("i2", "b", 2.5);
  complete("i1", 3);
  complete("i2", 3);
  EXPECT_EQ(offeredTo(submit("i3", "q", 4), "i3"), "c");
  EXPECT_EQ(offeredTo(submit("i4", "q", 5, "chat"), "i4"), "a");
}

TEST_F(OrderingTest, WeightedRandomFollowsWeightsAndIsReproducible) {
  auto runOnce = [](std::uint64_t seed) {
    EngineOptions options;
    options.seed = seed;
    RoutingEngine engine(options);
    QueueSpec queue;
    queue.id = "q";
    queue.ordering = {OrderKey::WeightedRandom};
    EXPECT_TRUE(engine.upsertQueue(queue, at(0)).ok());
    for (const auto& [id, weight] : {std::pair{"light", "1"}, std::pair{"heavy", "3"}}) {
      AgentSpec agent;
      agent.id = id;
      agent.attributes = {AttributeSpec::scalar("weight", weight)};
      agent.capacity = {CapacityMix{{{"chat", 1}}}};
      EXPECT_TRUE(engine.upsertAgent(agent, at(0)).ok());
      EXPECT_TRUE(engine.setAgentState(id, AgentState::Ready, "", at(0)).ok());
    }
    std::string sequence;
    for (int i = 0; i < 4000; ++i) {
      ItemSpec item;
      item.id = "i" + std::to_string(i);
      item.queue = "q";
      item.medium = "chat";
      const auto events = copy(engine.submit(item, at(1 + i)).value());
      const std::string agent = EngineTest::offeredTo(events, item.id);
      sequence += agent == "heavy" ? 'H' : 'L';
      EXPECT_TRUE(engine.accept(item.id, agent, at(1 + i)).ok());
      EXPECT_TRUE(engine.complete(item.id, at(1.5 + i)).ok());
    }
    return sequence;
  };
  const std::string first = runOnce(7);
  const auto heavy = std::count(first.begin(), first.end(), 'H');
  // Expected share 3/4 = 3000 of 4000; the standard deviation is about 27.
  EXPECT_GT(heavy, 2850);
  EXPECT_LT(heavy, 3150);
  EXPECT_EQ(runOnce(7), first);
  EXPECT_NE(runOnce(8), first);
}

} // namespace
} // namespace switchboard::routing::testing
