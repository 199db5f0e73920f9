#pragma once

// A compiled queue: its ordering, timeouts and the stages an item passes through while it
// waits. Each stage is the target as it stands after the escalation steps and site overflow due
// by then, with the items waiting at that stage (ordered by aged priority, then arrival). The
// queue's stages share its ordering, so they share its ready indexes (the agents who can take
// work now, ordered by the queue's ordering, each entry marked with the stages whose agent-only
// conditions its agent meets): one for the agents who meet stage 0, one for those who meet only
// later stages. An agent is filed once per queue, not once per stage.

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
  explicit Stage(std::pmr::memory_resource* resource) : waiting(resource) {}

  std::int64_t startsAfter = 0; ///< ms waited in the queue before this stage applies
  SplitTarget target;
  std::vector<Symbol> sites;       ///< allowed sites; empty: all
  QueueIndex moveTo = kNone;       ///< a stage that moves its items to another queue
  std::vector<AgentIndex> members; ///< every agent whose agent-only conditions hold (Indexed)
  /// The engine's ValueSets of target.setAgentAttribute, or kNone.
  std::uint32_t valueSets = kNone;
  std::pmr::set<WaitKey> waiting;
};

struct QueueRecord {
  // The first cache line: what computing an agent's key in the queue's ready indexes reads
  // (refiling does for every queue of the agent, and walks for every entry they check).
  /// The ordering without PreviousAgent, inline: the keys an agent is filed under.
  std::array<OrderKey, kMaxOrderKeys> keyOrder{};
  std::uint8_t keyCount = 0;
  std::uint8_t keyInputs = 0; ///< kIdleInput | kContactsInput | kTurnInput: what keys read
  bool sticky = false;        ///< ordering starts with PreviousAgent
  bool scanOrdering = false;  ///< a key depends on the item: scan the stage's agents per decision
  Symbol skill = kNoSymbol;
  /// Items waiting in all stages: backfill skips the queue when there are none.
  std::uint32_t waitingCount = 0;
  std::vector<std::uint64_t> roundRobinTurn; ///< per agent: the counter at its last offer
  /// The agents that can take work and meet stage 0, marked with every stage they meet
  /// (Indexed); next, for the cache (an index's first cache line is what filing touches).
  ReadyIndex ready{ReadyIndex::Layout::Sorted, static_cast<const std::vector<AgentHot>*>(nullptr)};
  /// The agents that can take work and meet only later stages (escalation, overflow), so that
  /// stage 0 walks never pass over them.
  ReadyIndex lateReady{ReadyIndex::Layout::Sorted,
                       static_cast<const std::vector<AgentHot>*>(nullptr)};
  std::string id;
  Symbol idSymbol = kNoSymbol;
  QueueSpec spec;
  std::vector<OrderKey> ordering;
  /// The engine's ValueSets whose bits the ready-index entries carry (stage 0's), or kNone.
  std::uint32_t entryValueSets = kNone;
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
