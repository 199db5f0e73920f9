// From the message types to the engine and back.

#include "engine_fixture.h"
#include "switchboard/routing/message_conversion.h"

#include <gmock/gmock.h>

namespace switchboard::routing::testing {
namespace {

using ::testing::ElementsAre;

TEST(MessageConversionTest, RosterAgentBecomesAProfileWithListsAndVoiceOnItsOwn) {
  Agent agent;
  agent.id = "a1";
  agent.site = "lyon";
  agent.seniority = 4;
  agent.state = AgentState::Ready;
  agent.skills = {{"billing", 6}};
  agent.attributes = {{"languages", "fr, en"}, {"team", "blue"}};
  agent.capacity = {{"voice", 1, std::nullopt}, {"chat", 3, std::nullopt}, {"email", 5, 2}};
  const AgentSpec spec = agentFromMessage(agent);
  EXPECT_EQ(spec.site, "lyon");
  ASSERT_EQ(spec.attributes.size(), 2u);
  EXPECT_TRUE(spec.attributes[0].isList);
  EXPECT_THAT(spec.attributes[0].values, ElementsAre("fr", "en"));
  EXPECT_FALSE(spec.attributes[1].isList);
  ASSERT_EQ(spec.capacity.size(), 2u);
  EXPECT_EQ(spec.capacity[0].limits.size(), 1u);
  EXPECT_EQ(spec.capacity[1].limits.size(), 2u);
  EXPECT_EQ(presenceFromMessage(agent), AgentState::Ready);
  agent.state = AgentState::Busy;
  EXPECT_FALSE(presenceFromMessage(agent).has_value());
}

TEST(MessageConversionTest, WorkItemRoutesAndItsHistoryComesBack) {
  RoutingEngine engine;
  QueueSpec queue;
  queue.id = "fr";
  queue.target = "item.language in agent.languages";
  ASSERT_TRUE(engine.upsertQueue(queue, at(0)).ok());
  Agent roster;
  roster.id = "marie";
  roster.attributes = {{"languages", "fr,en"}};
  roster.capacity = {{"email", 5, std::nullopt}};
  ASSERT_TRUE(engine.upsertAgent(agentFromMessage(roster), at(0)).ok());
  ASSERT_TRUE(engine.setAgentState("marie", AgentState::Ready, "", at(0)).ok());

  WorkItem item;
  item.medium = "email";
  EXPECT_FALSE(itemFromMessage(item).ok());
  item.id = "w1";
  item.queueId = "fr";
  item.customer = Customer{};
  item.customer->ref = "crm-7";
  item.customer->language = "fr";
  auto spec = itemFromMessage(item);
  ASSERT_TRUE(spec.ok());
  const auto actions = engine.submit(spec.value(), at(5));
  ASSERT_TRUE(actions.ok());
  const OfferMade* offer = nullptr;
  for (const auto& action : actions.value()) {
    if (const auto* made = std::get_if<OfferMade>(&action)) {
      offer = made;
    }
  }
  ASSERT_NE(offer, nullptr);
  const Offer command = offerCommand(*offer);
  EXPECT_EQ(command.agentId, "marie");
  EXPECT_EQ(command.expires, at(25));

  applyToMessage(*engine.item("w1"), item);
  EXPECT_EQ(item.state, WorkItemState::Offered);
  EXPECT_EQ(item.agentId, "marie");
  ASSERT_EQ(item.history.size(), 3u);
  EXPECT_EQ(item.history[2].actorId, "marie");

  const Agent back = agentToMessage(*engine.agent("marie"));
  EXPECT_EQ(back.state, AgentState::Reserved);
  ASSERT_EQ(back.capacity.size(), 1u);
  EXPECT_EQ(back.capacity[0].active, 1);
}

} // namespace
} // namespace switchboard::routing::testing
