#pragma once

// What a web hook receives for one entry of the store's event logs: the event's name
// ("workItem.accepted", "agent.stateChanged" ...) and its body, as JSON or as the XML message
// (a notification addressed to the CRM).

#include "switchboard/message_codec.h"
#include "switchboard/store.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::webhooks {

enum class PayloadFormat { Json, Xml };

/// The event names a web hook can be subscribed to, in the order of a work item's life.
inline constexpr std::string_view kEventNames[] = {
    "workItem.arrived",  "workItem.queued",    "workItem.routed",
    "workItem.accepted", "workItem.completed", "workItem.abandoned",
    "workItem.failed",   "workItem.updated",   "agent.stateChanged",
};

/// The name of `event`: work item steps by the state they enter ("offered" is
/// "workItem.routed"; a step that stays new, other than the arrival, is "workItem.updated");
/// agent state changes are "agent.stateChanged".
std::string eventName(const StoreEvent& event);

/// A stable id for the event, the same on every delivery of it, for receivers to drop
/// repeats: "<serverId>.workItem.<log id>" or "<serverId>.agent.<log id>".
std::string eventId(const StoreEvent& event, std::string_view serverId);

struct EventPayload {
  std::string name;        ///< eventName()
  std::string id;          ///< eventId()
  std::string contentType; ///< "application/json" or "application/xml"
  std::string body;
};

/// Builds the body of `event`. `item` is the work item's stored record, when the event is a work
/// item's step and the item is found: its medium, subject, customer, queue and agent go along.
/// XML bodies are Switchboard messages (docs/message.md) from the server to the CRM: the
/// workItemArrived, workItemRouted, workItemAccepted, workItemEnded, workItemAbandoned,
/// workItemUpdated or agentStateChanged notification.
EventPayload buildPayload(const StoreEvent& event, const std::optional<StoredWorkItem>& item,
                          PayloadFormat format, std::string_view serverId,
                          const MessageCodec& codec);

} // namespace switchboard::webhooks
