#pragma once

// A compiled queue: its ordering, timeouts and the stages an item passes through while it
// waits. Each stage is the target as it stands after the escalation steps and site overflow due
// by then, with two indexes: the agents whose agent-only conditions hold at that stage and who
// can take work now (ordered by the queue's ordering), and the items waiting at that stage
// (ordered by aged priority, then arrival).

#include "agent_record.h"
#include "compiled_expression.h"
#include "item_record.h"
#include "ready_index.h"

#include "switchboard/routing/routing_config.h"

#include <array>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <set>
#include <string>
#include <vector>

namespace switchboard::routing {

/// What an agent's ready-index keys are computed from, besides its profile (see keyInputs).
inline constexpr std::uint8_t kIdleInput = 1;
inline constexpr std::uint8_t kContactsInput = 2;
inline constexpr std::uint8_t kTurnInput = 4;

struct Stage {
  Stage(std::pmr::memory_resource* resource, ReadyIndex::Layout layout,
        const std::vector<std::uint32_t>* agentVersions)
      : agents(layout, agentVersions), waiting(resource) {}

  ReadyIndex agents;            ///< members that can take work (Indexed); first, for the cache
  std::int64_t startsAfter = 0; ///< ms waited in the queue before this stage applies
  SplitTarget target;
  std::vector<Symbol> sites;       ///< allowed sites; empty: all
  QueueIndex moveTo = kNone;       ///< a stage that moves its items to another queue
  std::vector<AgentIndex> members; ///< every agent whose agent-only conditions hold (Indexed)
  std::pmr::set<WaitKey> waiting;
};

struct QueueRecord {
  std::string id;
  Symbol idSymbol = kNoSymbol;
  QueueSpec spec;
  std::vector<OrderKey> ordering;
  /// The ordering without PreviousAgent, inline: the keys an agent is filed under.
  std::array<OrderKey, kMaxOrderKeys> keyOrder{};
  std::uint8_t keyCount = 0;
  std::uint8_t keyInputs = 0; ///< kIdleInput | kContactsInput | kTurnInput: what keys read
  bool sticky = false;        ///< ordering starts with PreviousAgent
  bool scanOrdering = false;  ///< a key depends on the item: scan the stage's agents per decision
  Symbol skill = kNoSymbol;
  Symbol skillAttribute = kNoSymbol;
  Symbol weightAttribute = kNoSymbol;
  std::int64_t stickyMaxWait = 0;
  std::int64_t offerTimeout = 0;
  std::int64_t wrapUp = 0;
  std::int64_t maxWait = 0;
  MaxWaitOutcome maxWaitOutcome = MaxWaitOutcome::Abandon;
  QueueIndex maxWaitQueue = kNone;
  double ageingPerMs = 0.0;
  int priority = 0;
  std::vector<std::unique_ptr<Stage>> stages;
  std::uint64_t roundRobinCounter = 0;
  std::vector<std::uint64_t> roundRobinTurn; ///< per agent: the counter at its last offer

  /// The stage that applies after `waited` ms in the queue.
  std::uint32_t stageFor(std::int64_t waited) const {
    std::uint32_t stage = 0;
    for (std::uint32_t s = 1; s < stages.size(); ++s) {
      if (stages[s]->startsAfter <= waited) {
        stage = s;
      }
    }
    return stage;
  }
};

struct CompiledRule {
  std::string name;
  CompiledExpression when;
  std::vector<AttributeSlot> set;
  std::vector<Value> listStore;
  QueueIndex queue = kNone;
};

} // namespace switchboard::routing
