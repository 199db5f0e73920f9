// What changes while an item waits: escalation steps, site overflow, priority ageing.

#include "engine_fixture.h"

#include <gmock/gmock.h>

namespace switchboard::routing::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class EscalationTest : public EngineTest {};

TEST_F(EscalationTest, LowerTheRequiredLevelAfterAWait) {
  auto spec = queueSpec("q", "agent.skills.billing >= 7");
  spec.escalation = {{std::chrono::seconds(30), EscalationKind::LowerLevel, "", 3, "", ""}};
  addQueue(spec);
  addReady("novice", {{"billing", 4}});
  addReady("weak", {{"billing", 2}});
  EXPECT_THAT(offers(submit("i1", "q", 0)), IsEmpty());
  EXPECT_THAT(offers(advance(29.9)), IsEmpty());
  EXPECT_THAT(offers(advance(30)), ElementsAre("i1>novice"));
  EXPECT_EQ(engine_.item("i1")->stage, 1);
}

TEST_F(EscalationTest, StepsApplyInTurnWidenThenMove) {
  auto fallback = queueSpec("fallback", "agent.team == 'general'");
  addQueue(fallback);
  auto spec = queueSpec("q", "agent.skills.french >= 5");
  spec.escalation = {
      {std::chrono::seconds(20), EscalationKind::Widen, "agent.skills.spanish >= 5", 1, "", ""},
      {std::chrono::seconds(60), EscalationKind::MoveQueue, "", 1, "", "fallback"}};
  addQueue(spec);
  auto spanish = agentSpec("spanish", {{"spanish", 6}});
  auto general = agentSpec("general");
  general.attributes = {AttributeSpec::scalar("team", "general")};
  check(engine_.upsertAgent(spanish, at(0)));
  addReady(general, 0);
  submit("i1", "q", 0);
  advance(20); // widened, but the Spanish speaker is not logged in
  EXPECT_EQ(engine_.item("i1")->stage, 1);
  auto events = advance(60);
  EXPECT_THAT(offers(events), ElementsAre("i1>general"));
  EXPECT_EQ(engine_.item("i1")->queueId, "fallback");
}

TEST_F(EscalationTest, WidenedTargetReachesNewAgents) {
  auto spec = queueSpec("q", "agent.skills.french >= 5");
  spec.escalation = {
      {std::chrono::seconds(20), EscalationKind::Widen, "agent.skills.spanish >= 5", 1, "", ""}};
  addQueue(spec);
  addReady("spanish", {{"spanish", 6}});
  submit("i1", "q", 0);
  EXPECT_THAT(offers(advance(20)), ElementsAre("i1>spanish"));
}

TEST_F(EscalationTest, PreferredSiteOverflowsAfterTheDelay) {
  auto spec = queueSpec("q");
  spec.preferredSite = "lyon";
  spec.overflowAfter = std::chrono::seconds(45);
  addQueue(spec);
  auto paris = agentSpec("paris-agent");
  paris.site = "paris";
  auto lyon = agentSpec("lyon-agent");
  lyon.site = "lyon";
  addReady(paris, 0);
  addReady(lyon, 5);
  // Lyon first although Paris has been idle longer.
  EXPECT_EQ(offeredTo(submit("i1", "q", 10), "i1"), "lyon-agent");
  accept("i1", "lyon-agent", 11);
  EXPECT_THAT(offers(submit("i2", "q", 12)), IsEmpty());
  EXPECT_THAT(offers(advance(56.9)), IsEmpty());
  EXPECT_THAT(offers(advance(57)), ElementsAre("i2>paris-agent"));
}

TEST_F(EscalationTest, AddSiteOpensASecondSite) {
  auto spec = queueSpec("q");
  spec.sites = {"lyon"};
  spec.escalation = {{std::chrono::seconds(30), EscalationKind::AddSite, "", 1, "nantes", ""}};
  addQueue(spec);
  auto nantes = agentSpec("nantes-agent");
  nantes.site = "nantes";
  auto paris = agentSpec("paris-agent");
  paris.site = "paris";
  addReady(paris, 0);
  addReady(nantes, 1);
  EXPECT_THAT(offers(submit("i1", "q", 2)), IsEmpty());
  EXPECT_THAT(offers(advance(32)), ElementsAre("i1>nantes-agent"));
}

TEST_F(EscalationTest, StrictPriorityStarvesLowPriorityButAgeingDoesNot) {
  // One agent, a steady stream of priority-80 items every 60 s, each handled in 50 s, and one
  // priority-20 item waiting from the start.
  auto run = [this](double ageingPerMinute) {
    RoutingEngine engine;
    QueueSpec queue;
    queue.id = "q";
    queue.ageingPerMinute = ageingPerMinute;
    EXPECT_TRUE(engine.upsertQueue(queue, at(0)).ok());
    AgentSpec agent = agentSpec("a");
    EXPECT_TRUE(engine.upsertAgent(agent, at(0)).ok());
    ItemSpec low = itemSpec("low", "q", "voice", 20);
    ItemSpec busy = itemSpec("busy", "q", "voice", 80);
    EXPECT_TRUE(engine.submit(busy, at(0)).ok());
    EXPECT_TRUE(engine.submit(low, at(1)).ok());
    EXPECT_TRUE(engine.setAgentState("a", AgentState::Ready, "", at(2)).ok());
    EXPECT_TRUE(engine.accept("busy", "a", at(2)).ok());
    std::string current = "busy";
    for (int round = 1; round <= 60; ++round) {
      const double t = 60.0 * round;
      ItemSpec high = itemSpec("high" + std::to_string(round), "q", "voice", 80);
      EXPECT_TRUE(engine.submit(high, at(t - 30)).ok());
      const auto events = copy(engine.complete(current, at(t)).value());
      const auto taken = offers(events);
      if (taken.empty()) {
        return -1.0;
      }
      current = taken.front().substr(0, taken.front().find('>'));
      if (current == "low") {
        return t;
      }
      EXPECT_TRUE(engine.accept(current, "a", at(t)).ok());
    }
    return -1.0;
  };
  EXPECT_EQ(run(0.0), -1.0) << "without ageing the low-priority item never gets through";
  const double servedAt = run(10.0); // 10 points per minute: 60 points in 6 minutes
  EXPECT_GT(servedAt, 0.0);
  EXPECT_LE(servedAt, 8 * 60.0);
}

TEST_F(EscalationTest, ReplacingAQueueKeepsItsWaitingItems) {
  addQueue(queueSpec("q", "agent.skills.billing >= 8"));
  addReady("a", {{"billing", 5}});
  submit("i1", "q", 0);
  submit("i2", "q", 1);
  EXPECT_THAT(engine_.waiting("q"), ElementsAre("i1", "i2"));
  auto events = check(engine_.upsertQueue(queueSpec("q", "agent.skills.billing >= 5"), at(10)));
  EXPECT_THAT(offers(events), ElementsAre("i1>a"));
}

TEST_F(EscalationTest, BadQueueConfigurationIsRefusedWithTheSetting) {
  auto spec = queueSpec("q", "agent.skills.billing >= ");
  auto result = engine_.upsertQueue(spec, at(0));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "queue 'q': target: column 25: expected a value after '>=', found the end of the "
            "expression");
  spec = queueSpec("q", "agent.skills.billing >= 3");
  spec.escalation = {{std::chrono::seconds(5), EscalationKind::MoveQueue, "", 1, "", "nowhere"}};
  result = engine_.upsertQueue(spec, at(0));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "queue 'q': escalation[0].queue: no queue 'nowhere'");
  spec.escalation.clear();
  spec.ordering = {OrderKey::LongestIdle, OrderKey::PreviousAgent};
  EXPECT_FALSE(engine_.upsertQueue(spec, at(0)).ok());
}

TEST_F(EscalationTest, RulesSetAttributesAndChooseTheQueue) {
  addQueue(queueSpec("general"));
  addQueue(queueSpec("french", "item.language in agent.languages"));
  ASSERT_TRUE(
      engine_
          .setRules({{"vip", "item.tier == 'gold'", {AttributeSpec::scalar("vip", "yes")}, ""},
                     {"french", "item.language == 'fr'", {}, "french"},
                     {"rest", "", {}, "general"}})
          .ok());
  auto agent = agentSpec("marie");
  agent.attributes = {AttributeSpec::list("languages", {"fr", "en"})};
  addReady(agent);
  ItemSpec item;
  item.id = "i1";
  item.medium = "email";
  item.attributes = {AttributeSpec::scalar("language", "fr"),
                     AttributeSpec::scalar("tier", "gold")};
  EXPECT_THAT(offers(submit(item, 1)), ElementsAre("i1>marie"));
  EXPECT_EQ(engine_.item("i1")->queueId, "french");
  const auto bad = engine_.setRules({{"broken", "item.tier ==", {}, ""}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "rule 'broken': when: column 13: expected a value after '==', found the end of the "
            "expression");
}

TEST_F(EscalationTest, ItemsNoRulePlacesFail) {
  ItemSpec item;
  item.id = "i1";
  item.medium = "email";
  auto events = submit(item, 1);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().itemState, WorkItemState::Failed);
  EXPECT_EQ(events.back().cause, "noQueue");
}

} // namespace
} // namespace switchboard::routing::testing
