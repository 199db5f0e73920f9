#pragma once

// The state behind RoutingEngine and the operations its calls are made of. The implementation
// is split by concern: engine_config.cpp (agents, queues, rules as configured),
// engine_agents.cpp (agent state, indexes, backfill), engine_items.cpp (item lifecycle and
// timers), engine_matching.cpp (choosing an agent, ordering keys, traces).

#include "agent_record.h"
#include "compiled_expression.h"
#include "id_table.h"
#include "item_record.h"
#include "queue_record.h"
#include "symbol_table.h"
#include "timer_queue.h"

#include "switchboard/routing/routing_engine.h"

#include <array>
#include <deque>
#include <functional>
#include <memory_resource>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace switchboard::routing {

/// Cancelled: a timer that can no longer apply (an offer's expiry once it is accepted), marked
/// in its lane so that it fires without a look at its item.
enum class TimerKind : std::uint8_t {
  OfferExpiry,
  Escalate,
  MaxWait,
  StickyEnd,
  WrapUpEnd,
  Cancelled
};

struct Timer {
  std::int64_t at = 0;
  std::uint64_t sequence = 0;
  TimerKind kind = TimerKind::OfferExpiry;
  std::uint32_t target = 0; ///< item or agent
  std::uint32_t epoch = 0;
  std::uint32_t stage = 0; ///< Escalate: the stage it leads to
  bool operator>(const Timer& other) const {
    return at != other.at ? at > other.at : sequence > other.sequence;
  }
};

/// What routing one item would do now.
struct Choice {
  AgentIndex winner = kNone;
  TraceOutcome outcome = TraceOutcome::NoAgent;
  bool sticky = false;     ///< the winner is the agent the item was held for
  bool dropSticky = false; ///< the hold has ended: stop waiting for that agent
};

using FullKey = std::array<double, kMaxOrderKeys>;

/// The values of one agent attribute that targets test with `item.X in agent.Y` (Y here), as
/// bit sets: a candidate check then reads one word per agent instead of the agent's record and
/// its attribute blocks. The values seen get bits 0 to 62 in order of appearance; bit 63
/// (kUnsure) marks an agent whose values the bits cannot stand for (a number, which compares as
/// a number, or a value past the 63rd), whose test is evaluated as written.
struct ValueSets {
  static constexpr std::uint64_t kUnsure = 1ULL << 63;
  static constexpr std::uint8_t kNoBit = 0xff;
  Symbol attribute = kNoSymbol;
  std::vector<std::uint8_t> bitOf; ///< by value symbol; kNoBit when it has none
  std::uint8_t used = 0;
  std::vector<std::uint64_t> agents; ///< per agent: the bits of its values
};

struct RoutingEngine::Impl {
  explicit Impl(EngineOptions engineOptions);

  // ------------------------------------------------------------------------------- engine_*.cpp
  void beginCall(std::int64_t now);
  Outcome done() { return Actions(actions); }
  static Outcome fail(RoutingErrorCode code, std::string message) {
    return RoutingError{code, std::move(message)};
  }

  // config
  Result<bool, RoutingError> buildQueue(const QueueSpec& spec, QueueRecord& queue);
  Result<bool, RoutingError> buildRules(const std::vector<RuleSpec>& specs,
                                        std::vector<CompiledRule>& out);
  void buildAgentProfile(const AgentSpec& spec, AgentRecord& agent);
  void computeMemberships(AgentIndex agent);
  /// Sets the agent's idleMembers, contactsMembers and turnMembers from its memberships.
  static void updateMemberMasks(AgentRecord& agent);
  /// A membership (queue and stages) with the whole key it is to be filed under.
  struct Filed {
    Membership membership;
    IndexKey key;
  };
  /// The agent's membership of queue `q` (adding it to the stages' members), or nullopt when
  /// it meets no stage of it.
  std::optional<Filed> membershipOf(AgentIndex agent, QueueIndex q);
  /// Adds a membership to the agent's, filed under `filed.key`.
  static void addMembership(AgentRecord& agent, const Filed& filed) {
    agent.memberships.push_back(filed.membership);
    agent.filedRest.emplace_back();
    setFiledKey(agent, agent.memberships.size() - 1, filed.key);
  }
  /// Removes the agent's membership of `queue`, if it has one.
  static void removeMembership(AgentRecord& agent, const QueueRecord* queue) {
    for (std::size_t m = 0; m < agent.memberships.size(); ++m) {
      if (agent.memberships[m].queueRecord == queue) {
        agent.memberships.eraseAt(m);
        agent.filedRest.erase(agent.filedRest.begin() + static_cast<std::ptrdiff_t>(m));
        return;
      }
    }
  }
  /// The key the agent's membership `m` is filed under.
  static IndexKey filedKey(const AgentRecord& agent, AgentIndex index, std::size_t m) {
    const Membership& membership = agent.memberships[m];
    IndexKey key;
    key.agent = index;
    key.valueBits = membership.valueBits;
    key.keys[0] = membership.keys[0];
    key.keys[1] = membership.keys[1];
    if (membership.queueRecord->keyCount > 2) {
      const FiledRest& rest = agent.filedRest[m];
      std::copy(rest.begin(), rest.end(), key.keys.begin() + 2);
    }
    return key;
  }
  /// Files the agent's membership `m` under `key` (what filedKey() then gives).
  static void setFiledKey(AgentRecord& agent, std::size_t m, const IndexKey& key) {
    Membership& membership = agent.memberships[m];
    membership.keys[0] = key.keys[0];
    membership.keys[1] = key.keys[1];
    membership.valueBits = key.valueBits;
    if (membership.queueRecord->keyCount > 2) {
      std::copy(key.keys.begin() + 2, key.keys.end(), agent.filedRest[m].begin());
    }
  }
  bool staticEligible(const AgentRecord& agent, const Stage& stage) const;
  bool siteAllowed(const AgentRecord& agent, const Stage& stage) const;

  // agents
  void refreshAgent(AgentIndex agent, std::int64_t now);
  /// Starts loading what refiling the agent reads (its record, its memberships and their ready
  /// indexes), so that the misses overlap with the work of the call before refreshAgent().
  void prefetchFiling(AgentIndex agent) const {
    const AgentRecord& record = agents[agent];
    for (const Membership& membership : record.memberships) {
      __builtin_prefetch(&readyOf(membership));
    }
  }
  /// Starts loading the lines of the agent's record that an offer, an accept or a completion
  /// reads and writes (the first four: state, filed keys and capacity mixes,
  /// the offered items; see AgentRecord) and its AgentHot, all at once: read one after the
  /// other as the call needs them, each was a cache miss of its own in a row.
  void prefetchAgent(AgentIndex agent) const {
    const auto* record = reinterpret_cast<const char*>(&agents[agent]);
    for (std::size_t line = 0; line < 4 * 64; line += 64) {
      __builtin_prefetch(record + line, 1);
    }
    __builtin_prefetch(&agentHot[agent], 1);
  }
  /// Starts loading the lines of the agent's record that hold its count of memberships and the
  /// first five of them, for a call that refiles the agent or backfills from its queues.
  void prefetchMemberships(AgentIndex agent) const {
    const auto* first = reinterpret_cast<const char*>(&agents[agent].memberships);
    for (std::size_t line = 0; line < 3 * 64; line += 64) {
      __builtin_prefetch(first + line, 1);
    }
  }
  void unindexAgent(AgentIndex agent);
  void updateReported(AgentIndex agent, std::int64_t now);
  void setPresence(AgentIndex agent, Presence presence, Symbol reason, std::int64_t now);
  void backfill(AgentIndex agent, std::int64_t now);
  void releaseOffer(ItemIndex item);
  void releaseAccepted(ItemRecord& item, std::int64_t now);
  /// Key `n` of the agent in the queue's ready index (n < queue.keyCount, not a scan ordering).
  std::int64_t indexKeyPart(AgentIndex index, const QueueRecord& queue, std::size_t n) const {
    const AgentHot& inputs = agentHot[index];
    switch (queue.keyOrder[n]) {
    case OrderKey::LongestIdle:
      return inputs.idleSince;
    case OrderKey::Seniority:
      return -inputs.seniority;
    case OrderKey::FewestContacts:
      return inputs.contactsToday;
    case OrderKey::RoundRobin:
      return static_cast<std::int64_t>(
          index < queue.roundRobinTurn.size() ? queue.roundRobinTurn[index] : 0);
    case OrderKey::HighestSkill:
      return -skillLevel(agents[index], queue.skill);
    case OrderKey::PreviousAgent:
    case OrderKey::WeightedRandom:
      break;
    }
    return 0;
  }
  /// The agent's key in the queue's ready index (defined here so that refiling and walks inline
  /// it).
  IndexKey indexKey(AgentIndex index, const QueueRecord& queue) const {
    IndexKey key;
    key.agent = index;
    if (queue.scanOrdering) {
      return key;
    }
    for (std::size_t n = 0; n < queue.keyCount; ++n) {
      key.keys[n] = indexKeyPart(index, queue, n);
    }
    return key;
  }
  /// indexKey(key.agent, queue) == key, key by key without building the whole key: walks ask
  /// it of every entry they pass.
  /// Only the queue's own parts are compared: the others are zero in every key the queue's
  /// indexes hold, since indexKey() made them all.
  bool keyCurrent(const IndexKey& key, const QueueRecord& queue) const {
    if (queue.scanOrdering) {
      return true;
    }
    for (std::size_t n = 0; n < queue.keyCount; ++n) {
      if (key.keys[n] != indexKeyPart(key.agent, queue, n)) {
        return false;
      }
    }
    return true;
  }
  /// The ready index of the queue that files the agent of `membership`.
  static ReadyIndex& readyOf(const Membership& membership) {
    return (membership.stages & 1U) != 0 ? membership.queueRecord->ready
                                         : membership.queueRecord->lateReady;
  }
  /// Whether a ready-index entry of `queue` still carries its agent's key.
  auto currentKey(const QueueRecord& queue) const {
    return [this, &queue](const IndexKey& key) { return keyCurrent(key, queue); };
  }

  // items
  void enqueue(ItemIndex item, QueueIndex queue, std::int64_t now, std::string_view cause,
               bool freshWait);
  void fileWaiting(ItemIndex item, std::int64_t now);
  void unfileWaiting(ItemRecord& item);
  bool routeItem(ItemIndex item, std::int64_t now);
  void offer(ItemIndex item, AgentIndex agent, std::int64_t now, Trace* trace);
  void applyMaxWait(ItemIndex item, std::int64_t now);
  void retire(ItemIndex item);
  void clearSticky(ItemIndex item);
  void transition(ItemIndex item, WorkItemState state, std::string_view cause, std::int64_t now,
                  AgentIndex agent = kNone);
  /// Sets a timer at `at`, `delay` ms after the time it counts from (TimerQueue::kNoDelay when
  /// there is no fixed delay).
  TimerQueue<Timer>::Handle schedule(std::int64_t at, std::int64_t delay, TimerKind kind,
                                     std::uint32_t target, std::uint32_t epoch,
                                     std::uint32_t stage = 0);
  void fire(const Timer& timer);
  ItemIndex findItem(std::string_view id) const;
  AgentIndex lastAgentOf(std::string_view customer) const;
  void rememberAgent(std::string_view customer, AgentIndex agent) {
    rememberAgent(customer, IdTable::hashOf(customer), agent);
  }
  /// rememberAgent() with the customer's IdTable::hashOf() already known.
  void rememberAgent(std::string_view customer, std::uint32_t hash, AgentIndex agent);
  AgentIndex findAgent(std::string_view id) const;
  QueueIndex findQueue(std::string_view id) const;
  /// Runs the rules on `item`; `body` is what item.body reads (the spec's, not kept).
  void classify(ItemRecord& item, QueueIndex& queue, std::string_view body);
  /// A live item built from the spec (no transition yet, not in itemById); `queue` is the
  /// spec's queue or kNone.
  Result<ItemIndex, RoutingError> createItem(const ItemSpec& spec, QueueIndex& queue,
                                             std::int64_t now);
  /// The item offered to the agent, or why the call cannot apply to it.
  Result<std::pair<ItemIndex, AgentIndex>, RoutingError> offeredItem(std::string_view itemId,
                                                                     std::string_view agentId);
  Result<ItemIndex, RoutingError> acceptedItem(std::string_view itemId);

  // matching
  EvalContext context(const AgentRecord* agent, const ItemRecord* item, std::int64_t now) const {
    return EvalContext{agent, item, now, &symbols, &stateValues};
  }
  Choice chooseAgent(const ItemRecord& item, std::int64_t now, Trace* trace) const;
  std::optional<Exclusion> dynamicExclusion(const AgentRecord& agent, AgentIndex index,
                                            const ItemRecord& item, const Stage& stage,
                                            std::int64_t now) const;
  bool heldForOther(const ItemRecord& item, AgentIndex agent, std::int64_t now) const;
  bool takes(const ItemRecord& item, AgentIndex agent, std::int64_t now) const;
  FullKey fullKey(AgentIndex agent, const ItemRecord& item, const QueueRecord& queue) const;
  void fillFullTrace(const ItemRecord& item, std::int64_t now, Trace& trace) const;
  /// The ValueSets of agent attribute `attribute`, made (and filled for every agent) when new;
  /// kNone when kMaxValueSets are in use already.
  std::uint32_t valueSetsFor(Symbol attribute);
  /// Sets the agent's bits in every ValueSets from its attributes.
  void fillValueSets(AgentIndex agent);
  /// The bits of the item's value of the stage's `item.X in agent.Y` test, or kUnsure when the
  /// test must be evaluated (no such test, or the item's value is not plain text).
  std::uint64_t itemValueBits(const ItemRecord& item, const Stage& stage) const;
  Trace* newTrace(const ItemRecord& item, std::int64_t now);
  void traceCandidate(Trace& trace, AgentIndex agent, const FullKey& key, std::int64_t now) const;

  EngineOptions options;
  SymbolTable symbols;
  MediaTable media{kMaxMedia};
  std::array<Value, 6> stateValues;
  std::pmr::unsynchronized_pool_resource pool;

  std::vector<AgentRecord> agents;
  /// Per agent, beside the records so that walks read them from cache: version, room mask,
  /// queueAgents() flags (kRoutableFlag, kBusyFlag) and ordering-key inputs (see AgentHot).
  std::vector<AgentHot> agentHot;
  /// Per agent, its id (interned, so the view is stable), for actions and traces.
  std::vector<std::string_view> agentIds;
  static constexpr std::uint8_t kRoutableFlag = 1;
  static constexpr std::uint8_t kBusyFlag = 2;
  IdTable agentById;
  std::vector<std::unique_ptr<QueueRecord>> queues;
  /// Per queue, its id (interned, so the view is stable), beside the records for the actions.
  std::vector<std::string_view> queueIds;
  /// Queues by id, with their ids in a small array of their own: every submit finds its queue,
  /// and through the symbol table (the hash slot, then the text among thousands of names) that
  /// was a cache miss or two; a hundred queues' slots and ids stay in the cache.
  IdTable queueById;
  std::vector<std::string> queueNames;
  std::vector<CompiledRule> rules;
  QueueIndex defaultQueue = kNone;
  static constexpr std::size_t kMaxValueSets = 4;
  std::vector<ValueSets> valueSets;

  std::vector<ItemRecord> items;
  std::vector<ItemIndex> freeItems;
  std::vector<ItemIndex> retired; ///< freed at the start of the next call
  IdTable itemById;
  /// The customer's last agent. Id and agent side by side: an accept reads and writes both, and
  /// with 50,000 customers each array was a cache miss of its own.
  struct CustomerRecord {
    std::string id;
    AgentIndex lastAgent = kNone;
  };
  IdTable customerIndex;
  std::vector<CustomerRecord> customers;

  TimerQueue<Timer> timers;
  std::uint64_t timerSequence = 0;
  std::uint64_t itemSequence = 0;
  std::int64_t currentDay = -1;

  std::vector<Action> actions;
  std::deque<Trace> traces;
  std::size_t tracesUsed = 0;
  std::uint64_t decisionCount = 0;
  std::uint64_t offerCount = 0;
};

inline std::int64_t toMs(Timestamp time) {
  return time.time_since_epoch().count();
}
inline Timestamp fromMs(std::int64_t ms) {
  return Timestamp(std::chrono::milliseconds(ms));
}

} // namespace switchboard::routing
