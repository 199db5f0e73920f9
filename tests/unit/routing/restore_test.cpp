// What the server needs around a restart and for its queue listing: restoring accepted items
// without routing them, and counting a queue's ready and busy agents.

#include "engine_fixture.h"

#include <gmock/gmock.h>

namespace switchboard::routing::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class RestoreTest : public EngineTest {
 protected:
  void SetUp() override { addQueue(queueSpec("q")); }

  int held(std::string_view agent, std::string_view medium) const {
    const auto view = engine_.agent(agent);
    for (const auto& capacity : view->capacity) {
      if (capacity.medium == medium) {
        return capacity.active.value_or(0);
      }
    }
    return 0;
  }
};

TEST_F(RestoreTest, RestoredItemIsAcceptedByTheAgentWithoutRouting) {
  check(engine_.upsertAgent(agentSpec("a"), at(0)));
  addReady("b", {}, 0);
  const auto events = check(engine_.restore(itemSpec("i1", "q"), "a", at(1)));
  EXPECT_THAT(offers(events), IsEmpty());
  const auto restored = std::find_if(events.begin(), events.end(),
                                     [](const Event& e) { return e.kind == Event::Kind::Item; });
  ASSERT_NE(restored, events.end());
  EXPECT_EQ(restored->itemState, WorkItemState::Accepted);
  EXPECT_EQ(restored->cause, "restored");
  const auto item = engine_.item("i1");
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->state, WorkItemState::Accepted);
  EXPECT_EQ(item->agentId, "a");
  EXPECT_EQ(item->queueId, "q");
  EXPECT_EQ(held("a", "voice"), 1);
  EXPECT_EQ(stateOf("a"), AgentState::LoggedOut); // presence untouched
}

TEST_F(RestoreTest, RestoredItemCountsAgainstCapacityUntilCompleted) {
  addReady("a", {}, 0);
  check(engine_.restore(itemSpec("i1", "q"), "a", at(1)));
  EXPECT_EQ(stateOf("a"), AgentState::Busy);
  EXPECT_THAT(offers(submit("i2", "q", 2)), IsEmpty()); // one call at a time
  EXPECT_THAT(offers(complete("i1", 3)), ElementsAre("i2>a"));
  EXPECT_FALSE(engine_.item("i1").has_value());
}

TEST_F(RestoreTest, NotReadyAgentStaysNotReadyAfterTheRestoredItemEnds) {
  check(engine_.upsertAgent(agentSpec("a"), at(0)));
  check(engine_.setAgentState("a", AgentState::NotReady, "restart", at(0)));
  submit("waiting", "q", 1);
  EXPECT_THAT(offers(check(engine_.restore(itemSpec("i1", "q", "chat"), "a", at(2)))), IsEmpty());
  EXPECT_EQ(held("a", "chat"), 1);
  EXPECT_THAT(offers(complete("i1", 3)), IsEmpty());
  EXPECT_EQ(stateOf("a"), AgentState::NotReady);
  EXPECT_EQ(engine_.agent("a")->reason, "restart");
  EXPECT_EQ(engine_.item("waiting")->state, WorkItemState::Queued);
}

TEST_F(RestoreTest, RestoredItemCanBeTransferredAndAbandoned) {
  addQueue(queueSpec("experts"));
  check(engine_.upsertAgent(agentSpec("a"), at(0)));
  addReady("b", {}, 0);
  check(engine_.restore(itemSpec("i1", "q"), "a", at(1)));
  EXPECT_THAT(offers(check(engine_.transferToQueue("i1", "experts", at(2)))), ElementsAre("i1>b"));
  EXPECT_EQ(held("a", "voice"), 0);
  check(engine_.restore(itemSpec("i2", "q", "email"), "a", at(3)));
  check(engine_.abandon("i2", "hungUp", at(4)));
  EXPECT_EQ(held("a", "email"), 0);
  EXPECT_FALSE(engine_.item("i2").has_value());
}

TEST_F(RestoreTest, ErrorsChangeNothing) {
  check(engine_.upsertAgent(agentSpec("a"), at(0)));
  auto unknownAgent = engine_.restore(itemSpec("i1", "q"), "nobody", at(1));
  ASSERT_FALSE(unknownAgent.ok());
  EXPECT_EQ(unknownAgent.error().code, RoutingErrorCode::UnknownAgent);
  auto unknownQueue = engine_.restore(itemSpec("i1", "nowhere"), "a", at(1));
  ASSERT_FALSE(unknownQueue.ok());
  EXPECT_EQ(unknownQueue.error().code, RoutingErrorCode::UnknownQueue);
  auto noQueue = engine_.restore(itemSpec("i1", ""), "a", at(1));
  ASSERT_FALSE(noQueue.ok());
  EXPECT_EQ(noQueue.error().code, RoutingErrorCode::UnknownQueue);
  EXPECT_FALSE(engine_.item("i1").has_value());
  EXPECT_EQ(held("a", "voice"), 0);

  check(engine_.restore(itemSpec("i1", "q", "chat"), "a", at(1)));
  auto duplicate = engine_.restore(itemSpec("i1", "q", "chat"), "a", at(2));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, RoutingErrorCode::DuplicateItem);
  EXPECT_EQ(held("a", "chat"), 1);
  submit("i2", "q", 3);
  auto submitted = engine_.restore(itemSpec("i2", "q"), "a", at(4));
  ASSERT_FALSE(submitted.ok());
  EXPECT_EQ(submitted.error().code, RoutingErrorCode::DuplicateItem);
}

class QueueAgentsTest : public EngineTest, public ::testing::WithParamInterface<Matcher> {
 protected:
  QueueAgentsTest() : EngineTest(withMatcher(GetParam())) {}
  static EngineOptions withMatcher(Matcher matcher) {
    EngineOptions options;
    options.matcher = matcher;
    return options;
  }
};

TEST_P(QueueAgentsTest, CountsReadyAndBusyAgentsOfTheTargetAtStageZero) {
  auto billing = queueSpec("billing", "agent.skills.billing >= 3");
  billing.escalation = {{std::chrono::seconds(30), EscalationKind::LowerLevel, "", 2, "", ""}};
  billing.wrapUp = std::chrono::seconds(60);
  addQueue(billing);
  EXPECT_FALSE(engine_.queueAgents("nowhere").has_value());
  addReady("free", {{"billing", 5}}, 0);
  addReady("onCall", {{"billing", 4}}, 1);
  addReady("chatting", {{"billing", 3}}, 2);
  addReady("wrapping", {{"billing", 9}}, 3);
  addReady("novice", {{"billing", 1}}, 0); // only from stage 1 on
  check(engine_.upsertAgent(agentSpec("away", {{"billing", 6}}), at(0)));
  check(engine_.upsertAgent(agentSpec("resting", {{"billing", 6}}), at(0)));
  check(engine_.setAgentState("resting", AgentState::NotReady, "break", at(0)));

  check(engine_.restore(itemSpec("call", "billing"), "onCall", at(5)));
  check(engine_.restore(itemSpec("chat", "billing", "chat"), "chatting", at(5)));
  check(engine_.restore(itemSpec("done", "billing"), "wrapping", at(5)));
  complete("done", 6);
  ASSERT_EQ(stateOf("wrapping"), AgentState::WrapUp);

  auto counts = engine_.queueAgents("billing");
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->ready, 2u); // free, chatting (room for more chats)
  EXPECT_EQ(counts->busy, 2u);  // onCall, chatting

  // Profile changes move agents in and out of the target.
  check(engine_.upsertAgent(agentSpec("novice", {{"billing", 7}}), at(7)));
  check(engine_.upsertAgent(agentSpec("free", {{"billing", 2}}), at(7)));
  counts = engine_.queueAgents("billing");
  EXPECT_EQ(counts->ready, 2u); // novice, chatting
  EXPECT_EQ(counts->busy, 2u);

  // So does a new target.
  addQueue(queueSpec("billing", "agent.skills.billing >= 5"), 8);
  counts = engine_.queueAgents("billing");
  EXPECT_EQ(counts->ready, 1u); // novice
  EXPECT_EQ(counts->busy, 0u);
}

TEST_P(QueueAgentsTest, StageZeroHonoursThePreferredSite) {
  auto local = queueSpec("local");
  local.preferredSite = "lyon";
  local.overflowAfter = std::chrono::seconds(20);
  addQueue(local);
  auto lyon = agentSpec("l");
  lyon.site = "lyon";
  auto paris = agentSpec("p");
  paris.site = "paris";
  addReady(lyon, 0);
  addReady(paris, 0);
  const auto counts = engine_.queueAgents("local");
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->ready, 1u);
  EXPECT_EQ(counts->busy, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothMatchers, QueueAgentsTest,
                         ::testing::Values(Matcher::Indexed, Matcher::Scan),
                         [](const ::testing::TestParamInfo<Matcher>& param) {
                           return param.param == Matcher::Indexed ? "Indexed" : "Scan";
                         });

} // namespace
} // namespace switchboard::routing::testing
