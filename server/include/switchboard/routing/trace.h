#pragma once

// The explanation of one routing decision: which agents were eligible with their ordering keys,
// which were not and why, and who won. The engine makes one per decision (see
// EngineOptions::trace) and on demand (RoutingEngine::explain); formatTrace() prints it.

#include "switchboard/message.h"
#include "switchboard/routing/routing_config.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

enum class Exclusion {
  NotInTarget,    ///< the agent-only part of the target expression is false
  SiteNotAllowed, ///< the agent's site is not (yet) allowed for this item
  ConditionFalse, ///< the part of the target that depends on the item is false
  LoggedOut,
  NotReady,
  WrapUp,
  NoCapacity,      ///< no capacity mix has room for one more item of this medium
  DeclinedBefore,  ///< the agent declined or missed this item already
  HeldForPrevious, ///< the item waits for the customer's previous agent
};

/// The number of Exclusion values (the size of Trace::skipped).
inline constexpr std::size_t kExclusionCount = 9;

std::string_view toString(Exclusion exclusion);

/// An eligible agent and its keys, in the order of the queue's ordering. Key values are what
/// the ordering compares: idle milliseconds, skill level, seniority, contacts, the round-robin
/// turn, or the weighted-random draw (smaller draws win).
struct TraceCandidate {
  std::string_view agentId;
  std::array<double, kMaxOrderKeys> keys{};
};

struct TraceExclusion {
  std::string_view agentId;
  Exclusion reason = Exclusion::NotInTarget;
};

enum class TraceOutcome {
  Offered,       ///< the winner got an offer
  NoAgent,       ///< nobody eligible is available: the item waits
  ItemCondition, ///< the item-only part of the target is false at this stage: the item waits
  Held,          ///< the item waits for the customer's previous agent
};

struct Trace {
  Timestamp time{};
  std::string_view itemId;
  std::string_view queueId;
  int stage = 0;
  TraceLevel level = TraceLevel::Summary;
  TraceOutcome outcome = TraceOutcome::NoAgent;
  std::vector<OrderKey> ordering;
  std::string_view winner; ///< empty unless outcome is Offered
  /// Summary: the candidates looked at, best first. Full: every eligible agent, best first.
  std::vector<TraceCandidate> eligible;
  std::vector<TraceExclusion> excluded;
  bool stickyWinner = false; ///< the winner is the customer's previous agent
  std::string_view medium;   ///< the item's medium
  /// Agents excluded but not named in `excluded`, counted by reason (indexed by Exclusion). A
  /// Summary trace counts the agents it read ahead of the winner (or all, when nobody won) that
  /// have no room for one more item of the medium (NoCapacity) instead of naming them. A Full
  /// trace names every agent and counts nothing here.
  std::array<std::uint32_t, kExclusionCount> skipped{};
  /// A Summary trace's walk passed over stretches of the ready index known to hold nobody with
  /// room for the medium, without reading (or counting) their agents.
  bool passedOver = false;
};

std::string_view toString(OrderKey key);

/// Prints a trace over several lines, e.g.
///   item m1 in queue billing (stage 0) at 2026-01-01T09:00:00Z: offered to a2
///     ordering: longestIdle, seniority
///     eligible: a2 [longestIdle=60000 seniority=3] (winner), a1 [longestIdle=1000 seniority=9]
///     excluded: a3 (notInTarget), 12 more with no room for voice, others passed over
/// (a Full trace names the agents without room: `a4 (noCapacity)`).
std::string formatTrace(const Trace& trace);

} // namespace switchboard::routing
