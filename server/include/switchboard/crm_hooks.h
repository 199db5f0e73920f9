#pragma once

// The two places where a CRM connector takes part in a work item's life inside the core: before
// routing (enrichment: who the customer is, who served them last) and at the end (an activity
// record for the CRM). The core calls them; connectors (connectors/odbc) implement them. Neither
// may make the core wait on the CRM: enrichment runs outside the core's lock and bounds its own
// time; the end observer only takes note and does its I/O on a thread of its own.

#include "switchboard/message.h"
#include "switchboard/timestamp.h"

#include <optional>
#include <string>

namespace switchboard {

/// Adds what the CRM knows to a new work item before it is routed.
class WorkItemEnricher {
 public:
  virtual ~WorkItemEnricher() = default;

  /// Called once for every new (not duplicate) arrival, once the item has its id (item.id is
  /// set: committed, or reserved for an item stored with its routing steps, decision 0014) and
  /// before it is routed, on the arriving thread, outside the core's lock. Sets the
  /// customer's reference, name, language, tier and previous agent and adds attributes to
  /// `item`. When the CRM cannot answer in time it marks the item so (an attribute) and returns:
  /// it must return within its own timeout and never throw. Returns the text of the history step
  /// that records the change ("crm: customer c-1001 ..."), or nothing when `item` is unchanged.
  virtual std::optional<std::string> enrich(WorkItem& item) = 0;
};

/// A work item that reached its end: completed by its agent, or abandoned.
struct EndedWorkItem {
  std::string workItemId;
  WorkItemState state = WorkItemState::Completed;
  Timestamp time{};
  std::optional<std::string> agentId; ///< the agent who held it last
  std::optional<std::string> queueId;
  std::optional<std::string> disposition; ///< as given to complete
  std::optional<std::string> notes;
  std::string cause; ///< the engine's cause of the last step ("completed", "maxWait" ...)
};

/// Told of every work item that ends (Completed or Abandoned).
class WorkItemEndObserver {
 public:
  virtual ~WorkItemEndObserver() = default;

  /// Called with the core's lock held, in the order the items ended: it must not block or call
  /// back into the server, only take note (queue) and return. Never throws.
  virtual void workItemEnded(const EndedWorkItem& ended) noexcept = 0;
};

} // namespace switchboard
