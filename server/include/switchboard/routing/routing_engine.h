#pragma once

// The routing engine: agents, queues, classification rules and work items, matched by target
// expressions and orderings. It does no I/O and keeps no clock: every call takes the current
// time, and advance() fires what is due (offer expiry, escalation, wrap-up end, maximum wait).
// It has no threads; the caller serialises access, for const calls too (explain() tidies the
// indexes it walks). The same calls with the same times give the same actions.
//
// Every mutating call returns the actions it caused (offers, item and agent state changes) as
// values valid until the next call on the engine; errors (unknown ids, wrong state, bad
// configuration) come back as a RoutingError and change nothing.

#include "switchboard/message.h"
#include "switchboard/result.h"
#include "switchboard/routing/actions.h"
#include "switchboard/routing/routing_config.h"
#include "switchboard/routing/trace.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

/// An agent as the engine sees it now.
struct AgentView {
  std::string id;
  std::string site;
  AgentState state = AgentState::LoggedOut;
  std::string reason;
  Timestamp idleSince{};
  int contactsToday = 0;
  int missedOffersInRow = 0;
  std::vector<Capacity> capacity; ///< per medium: the largest max of any mix, and items held
};

/// One recorded step of an item's life.
struct Transition {
  Timestamp time{};
  WorkItemState state = WorkItemState::New;
  std::string cause;
  std::string queueId;
  std::string agentId;
};

/// A work item the engine still holds (completed, abandoned and failed items are dropped once
/// their last action has been returned).
struct ItemView {
  std::string id;
  std::string medium;
  int priority = 0;
  WorkItemState state = WorkItemState::New;
  std::string queueId;
  std::string agentId;
  int stage = 0;
  Timestamp arrival{};
  std::vector<Transition> history;
  /// The item's attributes as routing sees them: those it arrived with, and those classification
  /// rules set.
  std::vector<AttributeSpec> attributes;
};

using Outcome = Result<Actions, RoutingError>;

/// Agents of a queue (see RoutingEngine::queueAgents). An agent can count as both: ready with
/// room for more while it holds an item.
struct QueueAgents {
  std::size_t ready = 0; ///< state ready, not wrapping up, room for one more item of some medium
  std::size_t busy = 0;  ///< holding at least one offered or accepted item
};

class RoutingEngine {
 public:
  explicit RoutingEngine(EngineOptions options = {});
  ~RoutingEngine();
  RoutingEngine(const RoutingEngine&) = delete;
  RoutingEngine& operator=(const RoutingEngine&) = delete;

  // ---------------------------------------------------------------------------- configuration

  /// Adds a queue or replaces the one with the same id (its waiting items stay and keep their
  /// wait). Fails with BadConfig naming the setting and column when an expression does not
  /// compile or an escalation names an unknown queue (queues may name queues added later only
  /// through maxWaitQueue / MoveQueue steps once those exist: add targets first).
  Outcome upsertQueue(const QueueSpec& spec, Timestamp now);

  /// Replaces the classification rules. Fails with BadConfig (rule name, column) and keeps the
  /// previous rules when one does not compile or names an unknown queue.
  Result<bool, RoutingError> setRules(const std::vector<RuleSpec>& rules);

  /// Adds an agent (logged out) or updates one's profile: name, site, skills, attributes,
  /// capacity. State, held items and counters are kept.
  Outcome upsertAgent(const AgentSpec& spec, Timestamp now);

  // ----------------------------------------------------------------------------------- agents

  /// Sets an agent logged out, not ready (with a reason code) or ready. Other states are the
  /// engine's to set (WrongState). Leaving ready withdraws pending offers, which are re-routed
  /// at once; becoming ready routes waiting items to the agent at once.
  Outcome setAgentState(std::string_view agentId, AgentState state, std::string_view reason,
                        Timestamp now);

  // ------------------------------------------------------------------------------------ items

  /// Classifies the item, queues it and offers it at once when a suitable agent is free.
  Outcome submit(const ItemSpec& item, Timestamp now);
  Outcome accept(std::string_view itemId, std::string_view agentId, Timestamp now);
  /// Re-routes the item at once, never again to this agent.
  Outcome decline(std::string_view itemId, std::string_view agentId, std::string_view reason,
                  Timestamp now);
  /// Ends an accepted item; the agent wraps up for the queue's wrap-up time, then takes more.
  Outcome complete(std::string_view itemId, Timestamp now);
  /// Ends an item in any live state (the customer hung up, the chat closed ...).
  Outcome abandon(std::string_view itemId, std::string_view reason, Timestamp now);
  /// Puts back an item that `agentId` had accepted before a restart, in `item.queue`, without
  /// routing it: the item is Accepted and held by the agent (it counts against the agent's
  /// capacity) and complete(), abandon() and the transfers work on it as on any accepted item.
  /// The agent may be logged out or not ready; its presence is not changed (an agent that is not
  /// logged out is reported Busy while it holds the item, as always). Classification rules set
  /// attributes as in submit(), but the queue stays `item.queue`. Returns one ItemChanged to
  /// Accepted with cause "restored" (and the agent's AgentChanged when its reported state
  /// changes). Fails with UnknownAgent, UnknownQueue (also when `item.queue` is empty),
  /// DuplicateItem, or BadConfig for a ninth medium.
  Outcome restore(const ItemSpec& item, std::string_view agentId, Timestamp now);
  /// Moves an accepted item to another queue, where it waits and is routed anew. The first
  /// routing attempt there skips the agent who transferred it; when nobody else can take the
  /// item then, that agent may get it back.
  Outcome transferToQueue(std::string_view itemId, std::string_view queueId, Timestamp now);
  /// Moves an accepted item to an agent: offered at once when the agent can take it, otherwise
  /// held for that agent in the item's queue up to the queue's stickyMaxWait.
  Outcome transferToAgent(std::string_view itemId, std::string_view agentId, Timestamp now);

  // ------------------------------------------------------------------------------------ clock

  /// Fires every timer due at or before `now`, each at its own time, in time order.
  Actions advance(Timestamp now);
  /// When the next timer is due, if any (advance() may then find it stale and do nothing).
  std::optional<Timestamp> nextDue() const;

  // ---------------------------------------------------------------------------------- queries

  std::optional<AgentView> agent(std::string_view agentId) const;
  std::optional<ItemView> item(std::string_view itemId) const;
  /// Only the state of a live item, without building its view; nothing for an unknown one.
  std::optional<WorkItemState> itemState(std::string_view itemId) const;
  /// Items waiting in a queue, in the order they would be served.
  std::vector<std::string> waiting(std::string_view queueId) const;
  /// A full trace of what routing the item would decide now, without changing anything.
  std::optional<Trace> explain(std::string_view itemId, Timestamp now) const;

  /// How many of the agents that the queue's target selects at stage 0 (its agent-only part and
  /// allowed sites) are ready and how many are busy; nothing when the queue is unknown. Walks the
  /// queue's list of qualifying agents: cheap enough to call for every queue per request.
  std::optional<QueueAgents> queueAgents(std::string_view queueId) const;

  /// Routing attempts made so far (offers made plus attempts that left the item waiting).
  std::uint64_t decisions() const;
  std::uint64_t offers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace switchboard::routing
