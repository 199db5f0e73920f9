// Offers, declines and timeouts, capacity, wrap-up, backfill, transfers and the recorded history.

#include "engine_fixture.h"

#include <gmock/gmock.h>

namespace switchboard::routing::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class LifecycleTest : public EngineTest {
 protected:
  void SetUp() override {
    auto spec = queueSpec("q");
    spec.offerTimeout = std::chrono::seconds(10);
    addQueue(spec);
  }
};

TEST_F(LifecycleTest, ArrivingItemIsOfferedAtOnceWithAnExpiry) {
  addReady("a");
  auto events = submit("i1", "q", 5);
  ASSERT_THAT(offers(events), ElementsAre("i1>a"));
  const Event* offer = firstOffer(events);
  EXPECT_EQ(offer->expires, at(15));
  EXPECT_EQ(stateOf("a"), AgentState::Reserved);
  EXPECT_EQ(engine_.item("i1")->state, WorkItemState::Offered);
  EXPECT_EQ(engine_.itemState("i1"), WorkItemState::Offered);
  EXPECT_EQ(engine_.itemState("unknown"), std::nullopt);
}

TEST_F(LifecycleTest, DeclineReroutesAtOnceAndNeverBackToTheSameAgent) {
  addReady("a", {}, 0);
  addReady("b", {}, 1);
  submit("i1", "q", 5);
  auto events = check(engine_.decline("i1", "a", "busy with a customer", at(6)));
  EXPECT_THAT(offers(events), ElementsAre("i1>b"));
  events = check(engine_.decline("i1", "b", "", at(7)));
  EXPECT_THAT(offers(events), IsEmpty()); // a declined already
  EXPECT_EQ(engine_.item("i1")->state, WorkItemState::Queued);
  // A newcomer takes it.
  addReady("c", {}, 8);
  EXPECT_EQ(engine_.item("i1")->agentId, "c");
}

TEST_F(LifecycleTest, OfferTimeoutReroutesToAnotherAgent) {
  addReady("a", {}, 0);
  addReady("b", {}, 1);
  submit("i1", "q", 5);
  EXPECT_THAT(offers(advance(14.9)), IsEmpty());
  auto events = advance(15);
  EXPECT_THAT(offers(events), ElementsAre("i1>b"));
  const auto item = engine_.item("i1");
  ASSERT_GE(item->history.size(), 2u);
  const auto& requeued = item->history[item->history.size() - 2];
  EXPECT_EQ(requeued.state, WorkItemState::Queued);
  EXPECT_EQ(requeued.cause, "offerTimeout");
  EXPECT_EQ(engine_.agent("a")->missedOffersInRow, 1);
}

TEST_F(LifecycleTest, ThreeMissedOffersInARowSetTheAgentNotReady) {
  addReady("a", {}, 0);
  for (int i = 0; i < 3; ++i) {
    const std::string id = "i" + std::to_string(i);
    const double t = 100.0 * i;
    EXPECT_EQ(offeredTo(submit(id, "q", t), id), "a");
    advance(t + 10);
    check(engine_.abandon(id, "customerHungUp", at(t + 11)));
  }
  EXPECT_EQ(stateOf("a"), AgentState::NotReady);
  EXPECT_EQ(engine_.agent("a")->reason, "missed offers");
  const bool reported = std::any_of(log_.begin(), log_.end(), [](const Event& e) {
    return e.kind == Event::Kind::Agent && e.agent == "a" && e.agentState == AgentState::NotReady &&
           e.cause == "missed offers";
  });
  EXPECT_TRUE(reported);
  EXPECT_THAT(offers(submit("later", "q", 400)), IsEmpty());
}

TEST_F(LifecycleTest, AnAcceptedOfferResetsTheMissedCount) {
  addReady("a", {}, 0);
  for (int i = 0; i < 5; ++i) {
    const std::string id = "i" + std::to_string(i);
    const double t = 100.0 * i;
    submit(id, "q", t);
    if (i % 2 == 0) {
      advance(t + 10);
      check(engine_.abandon(id, "", at(t + 11)));
    } else {
      accept(id, "a", t + 1);
      complete(id, t + 2);
    }
  }
  EXPECT_EQ(stateOf("a"), AgentState::Ready);
}

TEST_F(LifecycleTest, AVoiceCallBlocksEverythingElse) {
  addReady("a");
  submit("call", "q", 1, "voice");
  accept("call", "a", 2);
  EXPECT_THAT(offers(submit("chat1", "q", 3, "chat")), IsEmpty());
  EXPECT_THAT(offers(submit("mail1", "q", 4, "email")), IsEmpty());
  EXPECT_EQ(stateOf("a"), AgentState::Busy);
  // When the call ends the waiting chat and mail both go to the agent, oldest first.
  EXPECT_THAT(offers(complete("call", 10)), ElementsAre("chat1>a", "mail1>a"));
}

TEST_F(LifecycleTest, ThreeChatsAndFiveEmailsTogetherButNoCallOnTop) {
  addReady("a");
  for (int i = 0; i < 4; ++i) {
    submit("chat" + std::to_string(i), "q", 1 + i, "chat");
  }
  for (int i = 0; i < 6; ++i) {
    submit("mail" + std::to_string(i), "q", 10 + i, "email");
  }
  submit("call", "q", 20, "voice");
  const auto view = engine_.agent("a");
  int chats = 0;
  int mails = 0;
  for (const auto& c : view->capacity) {
    chats += c.medium == "chat" ? c.active.value_or(0) : 0;
    mails += c.medium == "email" ? c.active.value_or(0) : 0;
  }
  EXPECT_EQ(chats, 3);
  EXPECT_EQ(mails, 5);
  EXPECT_EQ(engine_.item("chat3")->state, WorkItemState::Queued);
  EXPECT_EQ(engine_.item("mail5")->state, WorkItemState::Queued);
  EXPECT_EQ(engine_.item("call")->state, WorkItemState::Queued);
}

TEST_F(LifecycleTest, CapacityFreedTakesTheHighestPriorityThenTheOldest) {
  addReady("a");
  submit("first", "q", 1);
  accept("first", "a", 2);
  submit("old-low", "q", 3, "voice", 10);
  submit("old-high", "q", 4, "voice", 90);
  submit("new-high", "q", 5, "voice", 90);
  submit("new-low", "q", 6, "voice", 10);
  EXPECT_THAT(engine_.waiting("q"), ElementsAre("old-high", "new-high", "old-low", "new-low"));
  EXPECT_THAT(offers(complete("first", 10)), ElementsAre("old-high>a"));
  accept("old-high", "a", 11);
  EXPECT_THAT(offers(complete("old-high", 12)), ElementsAre("new-high>a"));
  accept("new-high", "a", 13);
  EXPECT_THAT(offers(complete("new-high", 14)), ElementsAre("old-low>a"));
}

TEST_F(LifecycleTest, BackfillAcrossQueuesUsesQueuePriority) {
  auto vip = queueSpec("vip");
  vip.priority = 30;
  addQueue(vip);
  addReady("a");
  submit("first", "q", 1);
  accept("first", "a", 2);
  submit("normal", "q", 3, "voice", 60);
  submit("gold", "vip", 4, "voice", 40);
  EXPECT_THAT(offers(complete("first", 10)), ElementsAre("gold>a"));
}

TEST_F(LifecycleTest, WrapUpHoldsTheAgentForTheQueuesTime) {
  auto spec = queueSpec("wrap");
  spec.wrapUp = std::chrono::seconds(30);
  addQueue(spec);
  addReady("a");
  submit("i1", "wrap", 1);
  accept("i1", "a", 2);
  complete("i1", 10);
  EXPECT_EQ(stateOf("a"), AgentState::WrapUp);
  EXPECT_THAT(offers(submit("i2", "wrap", 11)), IsEmpty());
  EXPECT_THAT(offers(advance(39.9)), IsEmpty());
  EXPECT_THAT(offers(advance(40)), ElementsAre("i2>a"));
}

TEST_F(LifecycleTest, NotReadyWithdrawsPendingOffers) {
  addReady("a", {}, 0);
  addReady("b", {}, 1);
  submit("i1", "q", 2);
  auto events = check(engine_.setAgentState("a", AgentState::NotReady, "break", at(3)));
  EXPECT_THAT(offers(events), ElementsAre("i1>b"));
  EXPECT_EQ(stateOf("a"), AgentState::NotReady);
  EXPECT_EQ(engine_.agent("a")->reason, "break");
}

TEST_F(LifecycleTest, TransferToQueueRoutesAnew) {
  addQueue(queueSpec("experts", "agent.expert == 'yes'"));
  addReady("a", {}, 0);
  auto expert = agentSpec("x");
  expert.attributes = {AttributeSpec::scalar("expert", "yes")};
  addReady(expert, 1);
  submit("i1", "q", 2);
  accept("i1", "a", 3);
  auto events = check(engine_.transferToQueue("i1", "experts", at(4)));
  EXPECT_THAT(offers(events), ElementsAre("i1>x"));
  EXPECT_EQ(stateOf("a"), AgentState::Ready);
}

TEST_F(LifecycleTest, TransferToQueueSkipsTheTransferringAgentFirst) {
  addQueue(queueSpec("second", "", {OrderKey::Seniority}));
  auto senior = agentSpec("senior");
  senior.seniority = 9;
  auto junior = agentSpec("junior");
  junior.seniority = 1;
  addReady(senior, 0);
  addReady(junior, 0);
  submit("i1", "second", 1);
  accept("i1", "senior", 2);
  EXPECT_THAT(offers(check(engine_.transferToQueue("i1", "second", at(3)))),
              ElementsAre("i1>junior"));
  // Only that first attempt skips the senior agent.
  EXPECT_THAT(offers(check(engine_.decline("i1", "junior", "", at(4)))), ElementsAre("i1>senior"));
}

TEST_F(LifecycleTest, TransferToQueueGoesBackWhenNobodyElseCanTakeIt) {
  addReady("a", {}, 0);
  submit("i1", "q", 1);
  accept("i1", "a", 2);
  EXPECT_THAT(offers(check(engine_.transferToQueue("i1", "q", at(3)))), ElementsAre("i1>a"));
}

TEST_F(LifecycleTest, TransferToAgentWaitsForThatAgent) {
  addReady("a", {}, 0);
  addReady("b", {}, 1);
  addReady("c", {}, 2);
  submit("busy", "q", 3);
  accept("busy", "a", 3);
  submit("i1", "q", 4);
  accept("i1", "b", 5);
  EXPECT_THAT(offers(check(engine_.transferToAgent("i1", "a", at(6)))), IsEmpty());
  EXPECT_THAT(offers(complete("busy", 8)), ElementsAre("i1>a"));
}

TEST_F(LifecycleTest, MaxWaitAbandonsOrMovesAsConfigured) {
  auto leave = queueSpec("leave");
  leave.maxWait = std::chrono::seconds(60);
  addQueue(leave);
  auto overflow = queueSpec("overflow", "agent.backup == 'yes'");
  addQueue(overflow);
  auto move = queueSpec("move");
  move.maxWait = std::chrono::seconds(60);
  move.maxWaitOutcome = MaxWaitOutcome::MoveQueue;
  move.maxWaitQueue = "overflow";
  addQueue(move);
  auto backup = agentSpec("backup");
  backup.attributes = {AttributeSpec::scalar("backup", "yes")};
  check(engine_.upsertAgent(backup, at(0)));
  submit("i1", "leave", 0);
  submit("i2", "move", 0);
  check(engine_.setAgentState("backup", AgentState::NotReady, "lunch", at(0)));
  auto events = advance(60);
  EXPECT_FALSE(engine_.item("i1").has_value());
  const bool abandoned = std::any_of(events.begin(), events.end(), [](const Event& e) {
    return e.item == "i1" && e.itemState == WorkItemState::Abandoned && e.cause == "maxWait";
  });
  EXPECT_TRUE(abandoned);
  EXPECT_EQ(engine_.item("i2")->queueId, "overflow");
  EXPECT_THAT(offers(check(engine_.setAgentState("backup", AgentState::Ready, "", at(61)))),
              ElementsAre("i2>backup"));
}

TEST_F(LifecycleTest, EveryTransitionIsRecordedWithTimeAndCause) {
  addReady("a", {}, 0);
  addReady("b", {}, 1);
  submit("i1", "q", 2);
  check(engine_.decline("i1", "a", "wrong language", at(3)));
  accept("i1", "b", 4);
  const auto history = engine_.item("i1")->history;
  std::vector<std::string> steps;
  for (const auto& step : history) {
    steps.push_back(std::string(toString(step.state)) + "/" + step.cause + "@" +
                    std::to_string((step.time - at(0)).count() / 1000));
  }
  EXPECT_THAT(steps, ElementsAre("new/submitted@2", "queued/classified@2", "offered/offered@2",
                                 "declined/wrong language@3", "queued/declined@3",
                                 "offered/offered@3", "accepted/accepted@4"));
  auto events = complete("i1", 9);
  EXPECT_FALSE(engine_.item("i1").has_value());
  EXPECT_EQ(events.front().itemState, WorkItemState::Completed);
}

TEST_F(LifecycleTest, WrongCallsAreRefusedAndChangeNothing) {
  addReady("a");
  submit("i1", "q", 1);
  auto wrong = engine_.accept("i1", "nobody", at(2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, RoutingErrorCode::UnknownAgent);
  addReady("b", {}, 2);
  wrong = engine_.accept("i1", "b", at(2));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, RoutingErrorCode::WrongState);
  EXPECT_EQ(engine_.submit(itemSpec("i1", "q"), at(3)).error().code,
            RoutingErrorCode::DuplicateItem);
  EXPECT_EQ(engine_.submit(itemSpec("i2", "nope"), at(3)).error().code,
            RoutingErrorCode::UnknownQueue);
  EXPECT_EQ(engine_.complete("i1", at(4)).error().code, RoutingErrorCode::WrongState);
  EXPECT_EQ(engine_.item("i1")->agentId, "a");
}

} // namespace
} // namespace switchboard::routing::testing
