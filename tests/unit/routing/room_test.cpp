// Agents without room for an item's medium: a Summary trace counts them instead of naming them,
// a Full trace still names them, and walks pass over ready-index chunks whose agents have no
// room for the medium without losing an agent whose room comes back.

#include "engine_fixture.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace switchboard::routing::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// One call, or one chat and one email: an agent holding a chat has room for an email only.
AgentSpec narrowAgent(const std::string& id, const std::string& language) {
  AgentSpec spec;
  spec.id = id;
  spec.attributes = {AttributeSpec::list("languages", {language})};
  spec.capacity = {CapacityMix{{{"voice", 1}}}, CapacityMix{{{"chat", 1}, {"email", 1}}}};
  return spec;
}

std::string offerTrace(const std::vector<Event>& events) {
  for (const auto& e : events) {
    if (e.kind == Event::Kind::Offer) {
      return e.trace;
    }
  }
  return "";
}

class TraceCountTest : public EngineTest {};

TEST_F(TraceCountTest, SummaryCountsAgentsWithoutRoomAndFullNamesThem) {
  addQueue(queueSpec("q", "item.language in agent.languages"));
  addReady(narrowAgent("c1", "fr"), 0);
  addReady(narrowAgent("german", "de"), 0.5);
  addReady(narrowAgent("c2", "fr"), 1);
  addReady(narrowAgent("free", "fr"), 2);
  ASSERT_EQ(offers(submit(frenchItem("chat1", "chat"), 3)), std::vector<std::string>{"chat1>c1"});
  accept("chat1", "c1", 3);
  ASSERT_EQ(offers(submit(frenchItem("chat2", "chat"), 4)), std::vector<std::string>{"chat2>c2"});
  accept("chat2", "c2", 4);

  // c1 and c2 come first in the queue's order but hold a chat: no room for a call.
  const auto call = submit(frenchItem("call", "voice"), 5);
  ASSERT_EQ(offers(call), std::vector<std::string>{"call>free"});
  const std::string summary = offerTrace(call);
  EXPECT_THAT(summary, HasSubstr("  excluded: german (conditionFalse), 2 more with no room for "
                                 "voice\n"));
  EXPECT_THAT(summary, Not(HasSubstr("c1")));
  EXPECT_THAT(summary, Not(HasSubstr("noCapacity")));

  // Nobody has room for a second call: a Summary trace would only count; explain names them.
  EXPECT_TRUE(offers(submit(frenchItem("call2", "voice"), 6)).empty());
  const auto full = engine_.explain("call2", at(6));
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->level, TraceLevel::Full);
  EXPECT_EQ(full->skipped[static_cast<std::size_t>(Exclusion::NoCapacity)], 0u);
  const std::string text = formatTrace(*full);
  EXPECT_THAT(text, HasSubstr("c1 (noCapacity)"));
  EXPECT_THAT(text, HasSubstr("c2 (noCapacity)"));
  EXPECT_THAT(text, HasSubstr("free (noCapacity)"));
  EXPECT_THAT(text, HasSubstr("german (conditionFalse)"));
  EXPECT_THAT(text, Not(HasSubstr("more with no room")));
}

TEST(TraceFormatTest, CountsAloneAndAfterNames) {
  Trace trace;
  trace.itemId = "m1";
  trace.queueId = "q";
  trace.medium = "voice";
  trace.skipped[static_cast<std::size_t>(Exclusion::NoCapacity)] = 12;
  EXPECT_THAT(formatTrace(trace), HasSubstr("  excluded: 12 with no room for voice\n"));
  trace.excluded.push_back({"a3", Exclusion::NotInTarget});
  EXPECT_THAT(formatTrace(trace),
              HasSubstr("  excluded: a3 (notInTarget), 12 more with no room for voice\n"));
  trace.passedOver = true;
  EXPECT_THAT(formatTrace(trace),
              HasSubstr("  excluded: a3 (notInTarget), 12 more with no room for voice, others "
                        "with no room for voice passed over\n"));
  trace.skipped = {};
  trace.excluded.clear();
  EXPECT_THAT(formatTrace(trace),
              HasSubstr("  excluded: agents with no room for voice passed over\n"));
  trace.passedOver = false;
  trace.excluded.push_back({"a3", Exclusion::NotInTarget});
  EXPECT_THAT(formatTrace(trace), HasSubstr("  excluded: a3 (notInTarget)\n"));
  trace.excluded.clear();
  EXPECT_THAT(formatTrace(trace), HasSubstr("  excluded: none\n"));
}

class RoomSummaryEngineTest : public EngineTest {
 protected:
  /// `count` agents who each hold an accepted chat (room for an email only), filed in queue q.
  void fillWithChatters(int count, double time) {
    for (int a = 0; a < count; ++a) {
      const std::string id = "agent" + std::to_string(a);
      auto spec = narrowAgent(id, "fr");
      spec.seniority = 100 - a;
      addReady(spec, time);
    }
    for (int a = 0; a < count; ++a) {
      const std::string chat = "chat" + std::to_string(a);
      const auto events = submit(frenchItem(chat, "chat"), time + 1);
      const std::string agent = offeredTo(events, chat);
      ASSERT_FALSE(agent.empty()) << chat;
      accept(chat, agent, time + 1);
      holders_[chat] = agent;
    }
  }
  /// A call nobody can take: its walk reads every chunk of the index and notes that none of
  /// their agents has room for a call. It is abandoned so that nothing waits.
  void callNobodyTakes(const std::string& id, double time) {
    EXPECT_TRUE(offers(submit(frenchItem(id, "voice"), time)).empty());
    check(engine_.abandon(id, "test", at(time)));
  }
  std::map<std::string, std::string> holders_; ///< chat -> the agent holding it
};

TEST_F(RoomSummaryEngineTest, AnAgentWhoFinishesItsChatGetsTheNextCall) {
  // Round-robin keys do not change when a contact ends, so the agent stays where it was filed,
  // in a chunk walks had found without room for calls.
  addQueue(queueSpec("q", "", {OrderKey::RoundRobin}));
  fillWithChatters(70, 0);
  callNobodyTakes("call1", 10);
  complete("chat37", 11);
  const auto events = submit(frenchItem("call2", "voice"), 12);
  // The agent who held chat37 is the only one with room for a call; of the 37 agents before it
  // in the round-robin order, those in the chunk the walk read are counted, the chunks before
  // it were passed over unread.
  EXPECT_EQ(offers(events), std::vector<std::string>{"call2>" + holders_["chat37"]});
  EXPECT_THAT(offerTrace(events),
              HasSubstr("  excluded: 11 with no room for voice, others with no room for voice "
                        "passed over\n"));
}

TEST_F(RoomSummaryEngineTest, AnAgentWhoDeclinesAChatGetsTheNextCall) {
  // Seniority keys do not change with offers, declines or completions.
  addQueue(queueSpec("q", "", {OrderKey::Seniority}));
  fillWithChatters(70, 0);
  auto idle = narrowAgent("idle", "fr");
  idle.seniority = 50; // in the middle of the order
  addReady(idle, 5);
  ASSERT_EQ(offers(submit(frenchItem("chatX", "chat"), 6)), std::vector<std::string>{"chatX>idle"});
  callNobodyTakes("call1", 7); // "idle" holds an offered chat: no room for a call either
  check(engine_.decline("chatX", "idle", "busy", at(8)));
  const auto events = submit(frenchItem("call2", "voice"), 9);
  EXPECT_EQ(offers(events), std::vector<std::string>{"call2>idle"});
}

TEST_F(RoomSummaryEngineTest, AnAgentWhoDeclinesAChatGetsTheNextCallUnderAThreeKeyOrdering) {
  // As above, with a key of three parts: the third (idle since) is kept beside the agent's
  // memberships, and the room summary is widened at the key the agent was last filed under,
  // which its completion of chatW changed from the one it was first filed under.
  addQueue(
      queueSpec("q", "", {OrderKey::Seniority, OrderKey::FewestContacts, OrderKey::LongestIdle}));
  fillWithChatters(70, 0);
  auto idle = narrowAgent("idle", "fr");
  idle.seniority = 50;
  addReady(idle, 5);
  ASSERT_EQ(offers(submit(frenchItem("chatW", "chat"), 5.5)),
            std::vector<std::string>{"chatW>idle"});
  accept("chatW", "idle", 5.6);
  complete("chatW", 5.8);
  ASSERT_EQ(offers(submit(frenchItem("chatX", "chat"), 6)), std::vector<std::string>{"chatX>idle"});
  callNobodyTakes("call1", 7);
  check(engine_.decline("chatX", "idle", "busy", at(8)));
  const auto events = submit(frenchItem("call2", "voice"), 9);
  EXPECT_EQ(offers(events), std::vector<std::string>{"call2>idle"});
}

TEST_F(RoomSummaryEngineTest, AnAgentWithRoomOnlyForEmailIsNeverOfferedACall) {
  addQueue(queueSpec("q"));
  AgentSpec mailer;
  mailer.id = "mailer";
  mailer.capacity = {CapacityMix{{{"email", 5}}}};
  addReady(mailer, 0);
  EXPECT_TRUE(offers(submit(frenchItem("call", "voice"), 1)).empty());
  EXPECT_TRUE(offers(submit(frenchItem("chat", "chat"), 2)).empty());
  EXPECT_EQ(offers(submit(frenchItem("mail", "email"), 3)),
            std::vector<std::string>{"mail>mailer"});
  const auto full = engine_.explain("call", at(4));
  ASSERT_TRUE(full.has_value());
  EXPECT_THAT(formatTrace(*full), HasSubstr("mailer (noCapacity)"));
}

} // namespace
} // namespace switchboard::routing::testing
