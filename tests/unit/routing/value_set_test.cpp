// Targets whose item-and-agent part is `item.X in agent.Y` are decided from bit sets of the
// agents' values; the decisions must be those of the expression as written (the scan matcher
// evaluates it for every agent), for every kind of value the language allows.

#include "engine_fixture.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::routing::testing {
namespace {

struct Case {
  std::string id;
  std::string queue;
  std::vector<std::string> values; ///< empty: no attribute; more than one: a list
};

/// Routes each case in its own turn (the winner accepts and completes at once) and returns
/// "item>agent" or "item waits" per case.
std::vector<std::string> route(Matcher matcher, const std::vector<Case>& cases) {
  EngineOptions options;
  options.matcher = matcher;
  RoutingEngine engine(options);
  QueueSpec languages;
  languages.id = "languages";
  languages.target = "item.language in agent.languages";
  EXPECT_TRUE(engine.upsertQueue(languages, at(0)).ok());
  QueueSpec codes;
  codes.id = "codes";
  codes.target = "agent.codes has item.code";
  EXPECT_TRUE(engine.upsertQueue(codes, at(0)).ok());
  auto addAgent = [&](const std::string& id, std::vector<AttributeSpec> attributes, double at0) {
    AgentSpec spec;
    spec.id = id;
    spec.attributes = std::move(attributes);
    spec.capacity = {CapacityMix{{{"voice", 1}}}};
    EXPECT_TRUE(engine.upsertAgent(spec, at(0)).ok());
    EXPECT_TRUE(engine.setAgentState(id, AgentState::Ready, "", at(at0)).ok());
  };
  addAgent("fr-en", {AttributeSpec::list("languages", {"fr", "en"})}, 1);
  addAgent("three", {AttributeSpec::list("languages", {"3"})}, 2); // compares as a number
  addAgent("german", {AttributeSpec::scalar("languages", "de")}, 3);
  addAgent("none", {}, 4);
  // 70 more values than the 63 bits hold: the last ones are evaluated as written.
  for (int i = 0; i < 70; ++i) {
    addAgent("x" + std::to_string(i),
             {AttributeSpec::list("languages", {"x" + std::to_string(i)}),
              AttributeSpec::list("codes", {"c" + std::to_string(i % 5), "shared"})},
             5 + i);
  }
  std::vector<std::string> out;
  double now = 100;
  for (const Case& c : cases) {
    ItemSpec item;
    item.id = c.id;
    item.queue = c.queue;
    item.medium = "voice";
    const std::string name = c.queue == "codes" ? "code" : "language";
    if (c.values.size() == 1) {
      item.attributes = {AttributeSpec::scalar(name, c.values.front())};
    } else if (!c.values.empty()) {
      item.attributes = {AttributeSpec::list(name, c.values)};
    }
    now += 1;
    const auto events = copy(engine.submit(item, at(now)).value());
    const auto offered = offers(events);
    if (offered.empty()) {
      out.push_back(c.id + " waits");
      EXPECT_TRUE(engine.abandon(c.id, "test", at(now)).ok());
      continue;
    }
    out.push_back(offered.front());
    const std::string agent = offered.front().substr(c.id.size() + 1);
    EXPECT_TRUE(engine.accept(c.id, agent, at(now)).ok());
    EXPECT_TRUE(engine.complete(c.id, at(now)).ok());
  }
  return out;
}

TEST(ValueSetEngineTest, DecidesAsTheExpressionAsWritten) {
  const std::vector<Case> cases{
      {"fr", "languages", {"fr"}},
      {"en", "languages", {"en"}},
      {"number", "languages", {"3.0"}}, // equals "3" as a number
      {"de", "languages", {"de"}},      // a scalar attribute on the agent
      {"unknown", "languages", {"zz"}},
      {"missing", "languages", {}},
      {"list", "languages", {"pt", "de"}},
      {"early", "languages", {"x10"}},
      // Bits 30 and 31 (x27, x28: fr, en and de take 0 to 2): ready-index entries carry the
      // bits below 31 only, the others are read from the per-agent bit sets.
      {"bit30", "languages", {"x27"}},
      {"bit31", "languages", {"x28"}},
      {"bit43", "languages", {"x40"}},
      {"late", "languages", {"x66"}}, // a value past the 63rd
      {"late-list", "languages", {"pt", "x69"}},
      {"code", "codes", {"c3"}},
      {"shared", "codes", {"shared"}},
      {"no-code", "codes", {"c9"}},
  };
  const auto indexed = route(Matcher::Indexed, cases);
  const auto scanned = route(Matcher::Scan, cases);
  EXPECT_EQ(indexed, scanned);
  const std::vector<std::string> expected{
      "fr>fr-en",      "en>fr-en",      "number>three", "de>german",
      "unknown waits", "missing waits", "list>german",  "early>x10",
      "bit30>x27",     "bit31>x28",     "bit43>x40",    "late>x66",
      "late-list>x69", "code>x3",       "shared>x0",    "no-code waits"};
  EXPECT_EQ(indexed, expected);
}

} // namespace
} // namespace switchboard::routing::testing
