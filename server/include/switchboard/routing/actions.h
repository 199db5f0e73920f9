#pragma once

// What the routing engine decided, as values for the server to persist and push. Every engine
// call returns the actions it caused, in the order they happened. String views and trace
// pointers stay valid until the next call on the same engine.

#include "switchboard/message.h"
#include "switchboard/routing/trace.h"

#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace switchboard::routing {

/// An item was reserved for an agent until `expires`.
struct OfferMade {
  std::string_view itemId;
  std::string_view agentId;
  std::string_view queueId;
  Timestamp time{};
  Timestamp expires{};
  const Trace* trace = nullptr; ///< null when EngineOptions::trace is None
};

/// One step in an item's life; the engine records the same step in the item's history.
/// Causes: "submitted", "classified", "offered", "accepted", "declined", "offerTimeout",
/// "agentUnavailable", "escalated", "maxWait", "transferred", "completed", "noQueue", or the
/// reason the caller gave.
struct ItemChanged {
  std::string_view itemId;
  WorkItemState state = WorkItemState::New;
  WorkItemState previous = WorkItemState::New;
  std::string_view cause;
  std::string_view queueId;
  std::string_view agentId;
  Timestamp time{};
};

struct AgentChanged {
  std::string_view agentId;
  AgentState state = AgentState::LoggedOut;
  AgentState previous = AgentState::LoggedOut;
  std::string_view reason; ///< for NotReady: the reason code ("missed offers", "break" ...)
  Timestamp time{};
};

using Action = std::variant<OfferMade, ItemChanged, AgentChanged>;
using Actions = std::span<const Action>;

enum class RoutingErrorCode {
  UnknownAgent,
  UnknownItem,
  UnknownQueue,
  DuplicateItem,
  WrongState, ///< e.g. accepting an item that is not offered to this agent
  BadConfig,  ///< an expression that does not parse, a queue that refers to no queue ...
};

struct RoutingError {
  RoutingErrorCode code = RoutingErrorCode::BadConfig;
  std::string message;
};

} // namespace switchboard::routing
