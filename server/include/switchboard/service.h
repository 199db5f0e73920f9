#pragma once

// What the communication server offers to its front ends (the REST API, agent push, external
// drivers): agents, work items, queues and the message exchange. The REST layer translates HTTP
// to these calls and their errors to HTTP statuses; it holds no state of its own beyond what
// authentication needs.
//
// Thread-safety: every member function may be called from any thread at any time. Calls that
// change state return once the change is durable (persist first, then acknowledge).

#include "switchboard/message.h"
#include "switchboard/result.h"
#include "switchboard/store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// Kinds of failure a front end must tell apart. The REST layer maps each to one HTTP status
/// (in one place): BadRequest 400, NotFound 404, Conflict 409, Unavailable 503, Internal 500.
enum class ServiceErrorCode { BadRequest, NotFound, Conflict, Unavailable, Internal };

struct ServiceError {
  ServiceErrorCode code = ServiceErrorCode::Internal;
  std::string title;  ///< short, stable: "unknown work item", "offer expired"
  std::string detail; ///< for this occurrence: "no work item wi-000999"
};

template <class T>
using ServiceResult = Result<T, ServiceError>;

/// A work item with what an integrator asks about it.
struct WorkItemDetails {
  StoredWorkItem stored;            ///< with its history
  std::optional<std::string> trace; ///< the last routing decision, explained, as text
};

/// Real-time figures of one queue.
struct QueueStatus {
  std::string id;
  std::size_t waiting = 0;
  std::chrono::milliseconds oldestWait{0};
  std::size_t agentsReady = 0; ///< ready agents the queue's target selects
  std::size_t agentsBusy = 0;  ///< selected agents holding items
  /// Share of the items answered (accepted) today that waited at most the queue's service-level
  /// threshold; 1.0 when none were answered yet.
  double serviceLevel = 1.0;
  std::uint64_t answeredToday = 0;
  std::uint64_t abandonedToday = 0;
};

struct TransferRequest {
  std::string workItemId;
  std::optional<std::string> agentId; ///< the agent handing it over
  TransferTarget targetType = TransferTarget::Queue;
  std::string target;
  std::optional<std::string> reason;
};

struct CompleteRequest {
  std::string workItemId;
  std::optional<std::string> agentId;
  std::optional<std::string> disposition;
  std::optional<std::string> notes;
};

class Service {
 public:
  virtual ~Service() = default;

  // ------------------------------------------------------------------------------------ agents
  virtual std::vector<Agent> agents() = 0;
  virtual ServiceResult<Agent> agent(const std::string& id) = 0;
  /// Creates an agent or updates its profile (name, site, seniority, skills, capacity,
  /// attributes); its state is kept. Returns the agent as stored.
  virtual ServiceResult<Agent> upsertAgent(const Agent& profile) = 0;
  /// Logs in (NotReady, reason "login"), sets Ready or NotReady with a reason, or logs out.
  /// Reserved, Busy and WrapUp are the server's to set: BadRequest.
  virtual ServiceResult<Agent> setAgentState(const std::string& id, AgentState state,
                                             const std::optional<std::string>& reason) = 0;

  // -------------------------------------------------------------------------------- work items
  virtual ServiceResult<std::vector<StoredWorkItem>> workItems(const WorkItemFilter& filter) = 0;
  /// How fresh a read of a work item must be.
  enum class Freshness {
    /// Never older than what the server has pushed to an agent: the routing changes are written
    /// behind the decisions, so the read may wait for the writes in flight (about one commit).
    Pushed,
    /// As the store has it now, without waiting: for readers that want the item's content only.
    Stored,
  };
  virtual ServiceResult<WorkItemDetails> workItem(const std::string& id,
                                                  Freshness freshness = Freshness::Pushed) = 0;
  /// Creates a work item (web forms, callbacks ...) from `source`; routes it at once.
  /// item.sourceKey, when set, makes the call idempotent: the same key returns the same item.
  virtual ServiceResult<ArrivalOutcome> createWorkItem(const WorkItem& item,
                                                       const std::string& source) = 0;
  /// Runs a task later on the caller's own threads (an HTTP worker, say).
  using Post = std::function<void(std::function<void()>)>;
  /// As createWorkItem(), without holding the calling thread while the item is committed: `done`
  /// is called exactly once with what createWorkItem() would return, through `post` (or, in
  /// this default, on the calling thread before the call returns). `done` must not throw.
  virtual void createWorkItemAsync(const WorkItem& item, const std::string& source,
                                   const Post& post,
                                   std::function<void(ServiceResult<ArrivalOutcome>)> done) {
    (void)post;
    done(createWorkItem(item, source));
  }
  virtual ServiceResult<StoredWorkItem> accept(const std::string& workItemId,
                                               const std::string& agentId) = 0;
  virtual ServiceResult<StoredWorkItem> decline(const std::string& workItemId,
                                                const std::string& agentId,
                                                const std::optional<std::string>& reason) = 0;
  virtual ServiceResult<StoredWorkItem> transfer(const TransferRequest& request) = 0;
  virtual ServiceResult<StoredWorkItem> complete(const CompleteRequest& request) = 0;
  /// Hands a sendReply command to the item's driver; returns once the driver has taken it (its
  /// outbox holds it durably) or refused it.
  virtual ServiceResult<StoredWorkItem> reply(const SendReply& reply) = 0;

  // ------------------------------------------------------------------------------------ queues
  virtual std::vector<QueueStatus> queues() = 0;

  // ---------------------------------------------------------------------------------- messages
  /// Handles one message document (a command or request, or a driver's notification) from
  /// `caller` and returns the response document. A document that is not a valid message gets no
  /// response message (its ids cannot be trusted): BadRequest, whose detail is the codec's
  /// "LINE:COLUMN: reason"; the server keeps it as a dead letter.
  virtual ServiceResult<std::string> exchange(std::string_view document, const Party& caller) = 0;

  // ------------------------------------------------------------------------- operations, misc
  virtual std::vector<DeadLetter> deadLetters(std::size_t limit) = 0;
  /// Stored answers to POSTs with an Idempotency-Key (see StoredResponse).
  virtual std::optional<StoredResponse> storedResponse(const std::string& key) = 0;
  virtual void storeResponse(const StoredResponse& response) = 0;
  /// As storeResponse(), without holding the calling thread: `done` gets nothing once the answer
  /// is durable, or the reason it is not, through `post` (in this default, on the calling thread
  /// before the call returns). `done` must not throw.
  virtual void storeResponseAsync(const StoredResponse& response, const Post& post,
                                  std::function<void(const std::optional<std::string>&)> done) {
    (void)post;
    std::optional<std::string> failure;
    try {
      storeResponse(response);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    done(failure);
  }
  /// True once recovery is done and the store is reachable.
  virtual bool ready() = 0;
};

} // namespace switchboard
