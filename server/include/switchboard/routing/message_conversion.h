#pragma once

// Between the Switchboard message types (message.h) and the routing engine's own types, so the
// server can feed the engine what drivers and the CRM send, and send back what it decides.

#include "switchboard/message.h"
#include "switchboard/result.h"
#include "switchboard/routing/actions.h"
#include "switchboard/routing/routing_config.h"
#include "switchboard/routing/routing_engine.h"

#include <optional>

namespace switchboard::routing {

/// The routing profile of a roster agent. Attribute values holding commas become lists
/// ("en, fr" -> ["en", "fr"]). Capacity: a voice entry is a mix of its own (a call blocks
/// everything else); all other media combine in one mix; entries with max 0 are left out.
/// State is not part of the profile: see presenceFromMessage().
AgentSpec agentFromMessage(const Agent& agent);

/// The state an agent message asks for, when it is one an agent sets (loggedOut, notReady,
/// ready); nothing for the states the engine derives (reserved, busy, wrapUp) or none at all.
std::optional<AgentState> presenceFromMessage(const Agent& agent);

/// A work item to submit. Fails (UnknownItem) when the item has no id yet: the server commits
/// items before it routes them. The customer's language and tier become the attributes
/// "language" and "tier" unless the item's attributes set them; its lastAgentId is the previous
/// agent; its ref is the customer id. Its subject, the customer's name and first address (from)
/// and the contact point's address become the ItemSpec's texts; the body is the text body or,
/// without one, the customer's transcript lines joined by line breaks, cut to kMaxBodyBytes.
Result<ItemSpec, RoutingError> itemFromMessage(const WorkItem& item);

/// The agent as the engine sees it: state, reason, idle start, contacts today, capacity.
Agent agentToMessage(const AgentView& view);

/// Writes the engine's view of an item into `item`: its attributes (those classification set are
/// added or replace the ones of the same name; lists are joined with spaces), state, queue,
/// agent, and history steps not yet in item.history (matched by count).
void applyToMessage(const ItemView& view, WorkItem& item);

/// The offer command for the agent's desktop.
Offer offerCommand(const OfferMade& offer);
/// The notification for an agent state change.
AgentStateChanged agentNotification(const AgentChanged& change);

} // namespace switchboard::routing
