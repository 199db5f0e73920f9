// Same inputs and clock, same decisions; the indexed engine decides exactly as a scan of every
// agent would; every decision can be explained.

#include "engine_fixture.h"

#include <gmock/gmock.h>

#include <random>

namespace switchboard::routing::testing {
namespace {

using ::testing::HasSubstr;

/// A random but seeded workload over several queues, orderings, media and sites, with declines,
/// timeouts, state changes and escalation. Returns every action as text.
std::vector<std::string> runWorkload(Matcher matcher, std::uint32_t seed, int agentCount = 40,
                                     int steps = 3000, int queueCount = 8, int skillsPerAgent = 3) {
  EngineOptions options;
  options.matcher = matcher;
  options.seed = 99;
  RoutingEngine engine(options);
  std::mt19937 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<std::uint32_t>(n)); };
  std::vector<std::string> log;
  auto record = [&](Actions actions) {
    for (const auto& event : copy(actions)) {
      log.push_back(std::to_string(static_cast<int>(event.kind)) + " " + event.item + " " +
                    event.agent + " " + event.queue + " " + event.cause + " " +
                    std::to_string(static_cast<int>(event.itemState)) + " " +
                    std::to_string(static_cast<int>(event.agentState)));
    }
  };
  const std::vector<std::vector<OrderKey>> orderings{
      {OrderKey::LongestIdle},
      {OrderKey::Seniority, OrderKey::LongestIdle},
      {OrderKey::FewestContacts, OrderKey::RoundRobin},
      {OrderKey::RoundRobin},
      {OrderKey::HighestSkill, OrderKey::LongestIdle},
      {OrderKey::WeightedRandom},
      {OrderKey::PreviousAgent, OrderKey::LongestIdle},
      // Three keys: the filed keys' third parts live beside the memberships (filedRest).
      {OrderKey::Seniority, OrderKey::FewestContacts, OrderKey::LongestIdle},
      {OrderKey::FewestContacts, OrderKey::Seniority, OrderKey::RoundRobin}};
  const std::vector<std::string> languages{"en", "fr", "de"};
  for (int q = 0; q < queueCount; ++q) {
    QueueSpec queue;
    queue.id = "q" + std::to_string(q);
    queue.target =
        "agent.skills.s" + std::to_string(q) + " >= 5 and item.language in agent.languages";
    queue.ordering = orderings[static_cast<std::size_t>(q) % orderings.size()];
    queue.offerTimeout = std::chrono::seconds(15);
    queue.wrapUp = std::chrono::seconds(q % 3);
    queue.ageingPerMinute = q % 2 == 0 ? 0.0 : 5.0;
    queue.priority = q;
    queue.escalation = {{std::chrono::seconds(40), EscalationKind::LowerLevel, "", 3, "", ""}};
    if (q % 4 == 1) {
      queue.preferredSite = "s0";
      queue.overflowAfter = std::chrono::seconds(20);
    }
    record(engine.upsertQueue(queue, at(0)).value());
  }
  for (int a = 0; a < agentCount; ++a) {
    AgentSpec agent;
    agent.id = "a" + std::to_string(a);
    agent.site = "s" + std::to_string(a % 3);
    agent.seniority = pick(10);
    for (int s = 0; s < skillsPerAgent; ++s) {
      agent.skills.push_back({"s" + std::to_string(pick(queueCount)), 1 + pick(10)});
    }
    agent.attributes = {
        AttributeSpec::list("languages", {languages[static_cast<std::size_t>(pick(3))], "en"}),
        AttributeSpec::scalar("weight", std::to_string(1 + pick(4)))};
    agent.capacity = {CapacityMix{{{"voice", 1}}}, CapacityMix{{{"chat", 2}, {"email", 3}}}};
    record(engine.upsertAgent(agent, at(0)).value());
    record(engine.setAgentState(agent.id, AgentState::Ready, "", at(a * 0.1)).value());
  }
  std::vector<std::string> live;
  const std::vector<std::string> media{"voice", "chat", "email"};
  double now = 10;
  for (int step = 0; step < steps; ++step) {
    now += 0.25 + pick(4) * 0.5;
    record(engine.advance(at(now)));
    const int what = pick(10);
    if (what < 4) {
      ItemSpec item;
      item.id = "i" + std::to_string(step);
      item.queue = "q" + std::to_string(pick(queueCount));
      item.medium = media[static_cast<std::size_t>(pick(3))];
      item.priority = 10 * pick(10);
      item.customerId = "c" + std::to_string(pick(30));
      item.attributes = {
          AttributeSpec::scalar("language", languages[static_cast<std::size_t>(pick(3))]),
          AttributeSpec::scalar("topic", "s" + std::to_string(pick(queueCount)))};
      record(engine.submit(item, at(now)).value());
      live.push_back(item.id);
    } else if (!live.empty()) {
      const std::string id = live[static_cast<std::size_t>(pick(static_cast<int>(live.size())))];
      const auto item = engine.item(id);
      if (!item) {
        continue;
      }
      if (item->state == WorkItemState::Offered) {
        if (what < 8) {
          record(engine.accept(id, item->agentId, at(now)).value());
        } else if (what == 8) {
          record(engine.decline(id, item->agentId, "", at(now)).value());
        }
      } else if (item->state == WorkItemState::Accepted && what < 8) {
        record(engine.complete(id, at(now)).value());
      } else if (item->state == WorkItemState::Queued && what == 9) {
        record(engine.abandon(id, "hungUp", at(now)).value());
      }
    }
    if (step % 97 == 0) {
      const std::string agent = "a" + std::to_string(pick(agentCount));
      const AgentState state = pick(3) == 0 ? AgentState::NotReady : AgentState::Ready;
      record(engine.setAgentState(agent, state, "break", at(now)).value());
    }
  }
  log.push_back("decisions " + std::to_string(engine.decisions()) + " offers " +
                std::to_string(engine.offers()));
  return log;
}

TEST(DeterminismTest, SameInputsSameDecisions) {
  const auto first = runWorkload(Matcher::Indexed, 5);
  EXPECT_GT(first.size(), 3000u);
  EXPECT_EQ(runWorkload(Matcher::Indexed, 5), first);
}

TEST(DeterminismTest, IndexedEngineDecidesExactlyAsAScanOfEveryAgent) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const auto indexed = runWorkload(Matcher::Indexed, seed);
    const auto scanned = runWorkload(Matcher::Scan, seed);
    ASSERT_EQ(indexed.size(), scanned.size()) << "seed " << seed;
    for (std::size_t i = 0; i < indexed.size(); ++i) {
      ASSERT_EQ(indexed[i], scanned[i]) << "seed " << seed << ", action " << i;
    }
  }
}

// Enough agents and churn that the ready indexes split chunks, drop stale entries and compact.
TEST(DeterminismTest, IndexedEngineDecidesAsAScanWithAgentsInManyQueues) {
  // Agents in nine to fourteen queues: refiling reads the first eight memberships through the
  // agent's masks and the others directly.
  for (std::uint32_t seed = 1; seed <= 3; ++seed) {
    const auto indexed = runWorkload(Matcher::Indexed, seed, 40, 3000, 14, 24);
    const auto scanned = runWorkload(Matcher::Scan, seed, 40, 3000, 14, 24);
    ASSERT_EQ(indexed.size(), scanned.size()) << "seed " << seed;
    for (std::size_t i = 0; i < indexed.size(); ++i) {
      ASSERT_EQ(indexed[i], scanned[i]) << "seed " << seed << ", action " << i;
    }
  }
}

TEST(DeterminismTest, IndexedEngineDecidesAsAScanAtScale) {
  const auto indexed = runWorkload(Matcher::Indexed, 7, 900, 12000);
  const auto scanned = runWorkload(Matcher::Scan, 7, 900, 12000);
  ASSERT_EQ(indexed.size(), scanned.size());
  for (std::size_t i = 0; i < indexed.size(); ++i) {
    ASSERT_EQ(indexed[i], scanned[i]) << "action " << i;
  }
}

/// One queue per ordering whose sites open one by one, 40 stages in all (stages from 31 on share
/// one mark in the ready index), with agents spread over 40 sites who take, hold and finish
/// calls. Returns the offers.
std::vector<std::string> runManyStages(Matcher matcher) {
  EngineOptions options;
  options.matcher = matcher;
  RoutingEngine engine(options);
  std::vector<std::string> log;
  auto record = [&](Actions actions) {
    for (const auto& offer : offers(copy(actions))) {
      log.push_back(offer);
    }
  };
  const std::vector<std::vector<OrderKey>> orderings{{OrderKey::LongestIdle},
                                                     {OrderKey::Seniority, OrderKey::LongestIdle},
                                                     {OrderKey::RoundRobin}};
  for (std::size_t q = 0; q < orderings.size(); ++q) {
    QueueSpec queue;
    queue.id = "q" + std::to_string(q);
    queue.target = "agent.skills.phone >= " + std::to_string(q + 1);
    queue.ordering = orderings[q];
    queue.sites = {"s0"};
    for (int k = 1; k < 40; ++k) {
      queue.escalation.push_back(
          {std::chrono::seconds(k), EscalationKind::AddSite, "", 0, "s" + std::to_string(k), ""});
    }
    record(engine.upsertQueue(queue, at(0)).value());
  }
  for (int a = 0; a < 80; ++a) {
    AgentSpec agent;
    agent.id = "a" + std::to_string(a);
    agent.site = "s" + std::to_string((a * 7) % 40);
    agent.seniority = a % 5;
    agent.skills = {{"phone", 1 + a % 3}};
    agent.capacity = {CapacityMix{{{"voice", 1}}}};
    record(engine.upsertAgent(agent, at(0)).value());
    record(engine.setAgentState(agent.id, AgentState::Ready, "", at(0.01 * a)).value());
  }
  std::mt19937 random(11);
  std::vector<std::pair<std::string, std::string>> offered; ///< item, agent
  std::vector<std::string> accepted;
  auto run = [&](const Outcome& outcome) {
    ASSERT_TRUE(outcome.ok());
    for (const auto& event : copy(outcome.value())) {
      if (event.kind == Event::Kind::Offer) {
        log.push_back(event.item + ">" + event.agent);
        offered.emplace_back(event.item, event.agent);
      }
    }
  };
  double now = 1;
  for (int step = 0; step < 1500; ++step) {
    now += 0.2;
    run(Outcome(engine.advance(at(now))));
    ItemSpec item;
    item.id = "i" + std::to_string(step);
    item.queue = "q" + std::to_string(random() % 3);
    item.medium = "voice";
    run(engine.submit(item, at(now)));
    if (!offered.empty() && random() % 2 == 0) {
      const auto [id, agent] = offered.front();
      offered.erase(offered.begin());
      // An offer may have expired meanwhile (the engine then routed the item again).
      if (auto accept = engine.accept(id, agent, at(now)); accept.ok()) {
        accepted.push_back(id);
      }
    }
    if (!accepted.empty() && random() % 3 == 0) {
      const std::size_t k = random() % accepted.size();
      run(engine.complete(accepted[k], at(now)));
      accepted.erase(accepted.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  log.push_back("decisions " + std::to_string(engine.decisions()));
  return log;
}

TEST(DeterminismTest, QueuesOfManyStagesDecideAsAScan) {
  const auto indexed = runManyStages(Matcher::Indexed);
  const auto scanned = runManyStages(Matcher::Scan);
  EXPECT_GT(indexed.size(), 400u);
  // Some calls waited long enough to reach the agents of sites s31 and later.
  const auto lateSite = [](const std::string& offer) {
    const auto agent = offer.find(">a");
    return agent != std::string::npos && (std::stoi(offer.substr(agent + 2)) * 7) % 40 >= 31;
  };
  EXPECT_GT(std::count_if(indexed.begin(), indexed.end(), lateSite), 0);
  ASSERT_EQ(indexed.size(), scanned.size());
  for (std::size_t i = 0; i < indexed.size(); ++i) {
    ASSERT_EQ(indexed[i], scanned[i]) << "offer " << i;
  }
}

class TraceTest : public EngineTest {
 protected:
  TraceTest() : EngineTest(fullTraces()) {}
  static EngineOptions fullTraces() {
    EngineOptions options;
    options.trace = TraceLevel::Full;
    return options;
  }
};

TEST_F(TraceTest, EveryOfferCarriesItsExplanation) {
  addQueue(queueSpec("billing", "agent.skills.billing >= 3 and item.language in agent.languages",
                     {OrderKey::LongestIdle, OrderKey::Seniority}));
  auto fluent = agentSpec("a1", {{"billing", 5}});
  fluent.attributes = {AttributeSpec::list("languages", {"fr", "en"})};
  auto english = agentSpec("a2", {{"billing", 9}});
  english.attributes = {AttributeSpec::list("languages", {"en"})};
  auto novice = agentSpec("a3", {{"billing", 1}});
  auto resting = agentSpec("a4", {{"billing", 7}});
  resting.attributes = fluent.attributes;
  addReady(fluent, 0);
  addReady(english, 0);
  addReady(novice, 0);
  check(engine_.upsertAgent(resting, at(0)));
  auto item = itemSpec("m1", "billing", "email");
  item.attributes = {AttributeSpec::scalar("language", "fr")};
  const auto events = submit(item, 60);
  const Event* offer = firstOffer(events);
  ASSERT_NE(offer, nullptr);
  EXPECT_EQ(offer->trace,
            "item m1 in queue billing (stage 0) at 2026-01-05T08:01:00Z: offered to a1\n"
            "  ordering: longestIdle, seniority\n"
            "  eligible: a1 [longestIdle=60000 seniority=0] (winner)\n"
            "  excluded: a2 (conditionFalse), a3 (notInTarget), a4 (loggedOut)\n");
}

TEST_F(TraceTest, ExplainShowsWhyAnItemWaits) {
  addQueue(queueSpec("q", "agent.skills.billing >= 3"));
  addReady("a1", {{"billing", 5}});
  submit("busy", "q", 1);
  accept("busy", "a1", 2);
  submit("i1", "q", 3);
  const auto trace = engine_.explain("i1", at(4));
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->outcome, TraceOutcome::NoAgent);
  EXPECT_THAT(formatTrace(*trace), HasSubstr("excluded: a1 (noCapacity)"));
}

TEST(SummaryTraceTest, LaterStagesListTheAgentsPassedOverInOrder) {
  // At stage 1 the candidates come from the agents who meet stage 0 (site s0) and from those who
  // meet only stage 1 (site s1); the trace lists the agents passed over in the queue's order.
  RoutingEngine engine;
  QueueSpec queue;
  queue.id = "q";
  queue.target = "item.language in agent.languages";
  queue.ordering = {OrderKey::LongestIdle};
  queue.preferredSite = "s0";
  queue.overflowAfter = std::chrono::seconds(10);
  ASSERT_TRUE(engine.upsertQueue(queue, at(0)).ok());
  auto addAgent = [&](const std::string& id, const std::string& site, const std::string& language,
                      double readyAt) {
    AgentSpec spec;
    spec.id = id;
    spec.site = site;
    spec.attributes = {AttributeSpec::list("languages", {language})};
    spec.capacity = {CapacityMix{{{"voice", 1}}}, CapacityMix{{{"chat", 3}}}};
    ASSERT_TRUE(engine.upsertAgent(spec, at(0)).ok());
    ASSERT_TRUE(engine.setAgentState(id, AgentState::Ready, "", at(readyAt)).ok());
  };
  addAgent("chatting", "s0", "fr", 1); // longest idle; will hold a chat, so no room for a call
  addAgent("german", "s1", "de", 2);
  addAgent("spanish", "s0", "es", 2.5);
  addAgent("french", "s1", "fr", 3);
  const auto item = frenchItem;
  const auto chat = engine.submit(item("chat1", "chat"), at(4));
  ASSERT_TRUE(chat.ok());
  ASSERT_EQ(offers(copy(chat.value())), std::vector<std::string>{"chat1>chatting"});
  ASSERT_TRUE(engine.accept("chat1", "chatting", at(4)).ok());
  // Nobody of s0 can take the call: it waits for the overflow.
  const auto call = engine.submit(item("call", "voice"), at(5));
  ASSERT_TRUE(call.ok());
  EXPECT_TRUE(offers(copy(call.value())).empty());
  const auto events = copy(engine.advance(at(15)));
  ASSERT_EQ(offers(events), std::vector<std::string>{"call>french"});
  const Event* offer = firstOffer(events);
  EXPECT_THAT(offer->trace, HasSubstr("(stage 1)"));
  // The agent without room for a call is counted, not named.
  EXPECT_THAT(offer->trace,
              HasSubstr("excluded: german (conditionFalse), spanish (conditionFalse), "
                        "1 more with no room for voice\n"));
}

TEST(SummaryTraceTest, TheWinnersKeysAreItsKeysWhenChosen) {
  // A summary trace (the default) gives the winner's ordering keys as they were when it was
  // chosen: idle time at the decision and seniority, for indexed orderings of one and two keys.
  RoutingEngine engine;
  for (const auto& [id, ordering] :
       {std::pair<std::string, std::vector<OrderKey>>{"idle", {OrderKey::LongestIdle}},
        {"senior", {OrderKey::Seniority, OrderKey::LongestIdle}}}) {
    QueueSpec queue;
    queue.id = id;
    queue.target = "item.language in agent.languages";
    queue.ordering = ordering;
    ASSERT_TRUE(engine.upsertQueue(queue, at(0)).ok());
  }
  auto addAgent = [&](const std::string& id, int seniority, double readyAt) {
    AgentSpec spec;
    spec.id = id;
    spec.seniority = seniority;
    spec.attributes = {AttributeSpec::list("languages", {"fr"})};
    spec.capacity = {CapacityMix{{{"voice", 1}}}};
    ASSERT_TRUE(engine.upsertAgent(spec, at(0)).ok());
    ASSERT_TRUE(engine.setAgentState(id, AgentState::Ready, "", at(readyAt)).ok());
  };
  addAgent("first", 2, 1);
  addAgent("second", 7, 3);
  auto submitted = [&](const std::string& id, const std::string& queue, double when) {
    ItemSpec item = frenchItem(id, "voice");
    item.queue = queue;
    const auto outcome = engine.submit(item, at(when));
    EXPECT_TRUE(outcome.ok());
    const auto events = copy(outcome.value());
    const Event* offer = firstOffer(events);
    return offer == nullptr ? std::string() : offer->trace;
  };
  EXPECT_THAT(submitted("call1", "idle", 10),
              HasSubstr("eligible: first [longestIdle=9000] (winner)"));
  EXPECT_THAT(submitted("call2", "senior", 12),
              HasSubstr("eligible: second [seniority=7 longestIdle=9000] (winner)"));
}

} // namespace
} // namespace switchboard::routing::testing
