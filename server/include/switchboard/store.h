#pragma once

// The durable store: work items, their transitions, agents and their states, idempotency keys,
// dead letters and idempotent API responses. SQLite (WAL) is the embedded default; PostgreSQL is
// the store for larger installations.
//
// Durability rule: persist first, then acknowledge. Writes that someone outside waits on
// (a driver's acknowledgement upstream, an HTTP 2xx) return only once their transaction has
// committed. Writes from many threads share transactions (group commit), so the cost of an fsync
// is spread over every write that arrived while the previous commit ran.
//
// Thread-safety: every member function may be called from any thread at any time.

#include "switchboard/message.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard {

/// Thrown when the store cannot do what was asked: the database is unreachable, full, or
/// corrupt. The message names the cause; it never contains credentials.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StoreOptions {
  enum class Kind { Sqlite, Postgresql };
  Kind kind = Kind::Sqlite;
  /// SQLite: the database file (created with its folder when missing).
  /// PostgreSQL: a libpq connection string ("host=127.0.0.1 port=5432 dbname=sb user=sb").
  std::string location;
  /// Group commit: a transaction takes whatever writes are waiting, up to this many.
  std::size_t maxBatch = 1000;
  /// Group commit: how long the committer may wait for more writes to join a transaction when
  /// fewer than maxBatch are waiting. Zero commits as soon as the previous commit ends.
  std::chrono::microseconds maxDelay{0};
};

/// A work item as a driver or the REST API hands it in, before it has an id.
struct NewWorkItem {
  std::string source;   ///< the driver's name, or "api"; scopes item.sourceKey
  WorkItem item;        ///< item.id is ignored; item.sourceKey, when set, is the idempotency key;
                        ///< item.history, if any, is kept, and the store appends the arrival
                        ///< step (cause "arrived", actor `source`); item.state, queueId and
                        ///< agentId are stored as they are (state new when unset)
  Timestamp receivedAt; ///< becomes item.created (now, when left unset)
  /// An id from Store::reserveWorkItemId(): the item is committed under it. Unset: the store
  /// numbers the item in the committing transaction.
  std::optional<std::string> reservedId{};
  /// Routing steps taken before the commit (an item routed under its reserved id): stored after
  /// the arrival step, in order.
  std::vector<HistoryEntry> steps{};
  std::optional<Timestamp> offerExpires{}; ///< of the offer among `steps`, if any
};

struct ArrivalOutcome {
  std::string workItemId; ///< "wi-" and the item's number, at least six digits: wi-000123
  bool duplicate = false; ///< the same source and sourceKey were committed before
};

/// A work item as stored: the record with its id, current state, queue and agent.
struct StoredWorkItem {
  WorkItem item; ///< with id, state, priority, queueId, agentId, created; history when asked
  std::string source;
  std::optional<Timestamp> offerExpires; ///< while state is Offered
  Timestamp updated{};
};

/// One step in a work item's life. Fields left empty keep their stored value.
struct WorkItemChange {
  std::string workItemId;
  WorkItemState state = WorkItemState::Queued;
  std::optional<std::string> queueId;    ///< an empty string clears the stored queue
  std::optional<std::string> agentId;    ///< an empty string clears the stored agent
  std::optional<Timestamp> offerExpires; ///< kept only when `state` is Offered
  HistoryEntry entry; ///< time (now when unset), cause and actor of the step; entry.state is
                      ///< set to `state`
  /// The whole record, when more than the state changed (attributes set by classification, a
  /// new message in the thread). Its id must be workItemId or absent. Its medium, priority and
  /// customer reference replace the stored ones; its state, queue and agent are ignored.
  std::optional<WorkItem> record;
};

/// An agent's profile (from configuration, the CRM or the REST API) and its current state.
struct StoredAgent {
  Agent agent; ///< profile: id, name, site, seniority, skills, capacity, attributes; and state
  bool loggedIn = false;
  Timestamp updated{};
  /// This save records a change of the agent's state: the store also appends it (state, reason,
  /// time `updated`) to the agents' event log, which events() reads.
  bool stateChanged = false;
};

/// One entry of the store's event logs, in commit order: a step of a work item's life (the
/// transitions of its history) or a change of an agent's state. Consumers that must see every
/// event (web hooks) read them with events() after a cursor they keep with saveCursor().
struct StoreEvent {
  enum class Subject { WorkItem, Agent };
  Subject subject = Subject::WorkItem;
  std::int64_t id = 0;   ///< increases in commit order, per subject
  Timestamp time{};      ///< when the step happened
  std::string subjectId; ///< the work item's or the agent's id
  std::string state;     ///< the state entered ("queued", "offered" ...; "ready", "notReady" ...)
  std::string cause;     ///< why; for an agent, the reason of its state (may be empty)
  std::optional<std::string> actorId; ///< who made a work item step
};

/// A message that could not be processed, kept with the reason.
struct DeadLetter {
  std::int64_t id = 0; ///< assigned by the store
  Timestamp time{};
  std::string source; ///< driver or endpoint it came from
  std::string reason;
  std::string document; ///< the bytes as received (may be cut to the store's limit)
};

/// The stored answer to a POST that carried an Idempotency-Key.
struct StoredResponse {
  std::string key;
  std::string requestHash; ///< a digest of method, path and body: the same key with another
                           ///< request is a conflict, not a replay
  int status = 0;
  std::string contentType;
  std::string body;
  Timestamp time{};
};

struct WorkItemFilter {
  std::optional<WorkItemState> state;
  std::optional<std::string> queueId;
  std::optional<std::string> agentId;
  std::optional<std::string> medium;
  /// Paging: items whose number is greater than this id's. Results are ordered by number, which
  /// is the order the items were committed in. An id not of the form wi-<digits> makes
  /// workItems() throw std::invalid_argument.
  std::optional<std::string> afterId;
  std::size_t limit = 100;
};

/// Figures for /metrics.
struct StoreStats {
  std::uint64_t transactions = 0;
  std::uint64_t writes = 0;            ///< writes committed, over all transactions
  std::uint64_t commitMicrosTotal = 0; ///< time spent committing, over all transactions
  std::uint64_t failures = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  /// Durably records a new work item, or recognises it as a duplicate of one committed before
  /// (same source and sourceKey), and returns its id either way. Blocks until the transaction
  /// holding it has committed. Throws StoreError.
  virtual ArrivalOutcome commitArrival(const NewWorkItem& arrival) = 0;

  /// The id of a work item yet to arrive, so that the caller can route the item before it
  /// commits it (NewWorkItem::reservedId) and store its arrival and first routing steps in one
  /// write. Each id is handed out once; one whose arrival never commits is a gap in the
  /// numbering. Nothing when this store numbers items only inside the committing transaction
  /// (PostgreSQL, which several server nodes may share): then commit first, route after. Any
  /// thread. Throws StoreError.
  virtual std::optional<std::string> reserveWorkItemId() { return std::nullopt; }

  /// Called once with the outcome of commitArrivalAsync(): `outcome` when the item committed,
  /// otherwise nothing and the StoreError's message in `failure`.
  using ArrivalDone =
      std::function<void(std::optional<ArrivalOutcome> outcome, const std::string& failure)>;

  /// As commitArrival(), without holding the calling thread: returns at once, and `done` runs
  /// when the transaction holding the item has committed or failed. In GroupCommitStore it runs
  /// on the committer thread, between transactions: it must only hand the result on (to a
  /// queue, an executor), never block or call the store. This default runs commitArrival() and
  /// then `done` on the calling thread.
  virtual void commitArrivalAsync(const NewWorkItem& arrival, ArrivalDone done) {
    try {
      ArrivalOutcome outcome = commitArrival(arrival);
      done(std::move(outcome), {});
    } catch (const std::exception& e) {
      done(std::nullopt, e.what());
    }
  }

  /// Appends a step to a work item's life. Returns at once; the future is ready when the step is
  /// durable (and holds StoreError if it failed, e.g. for an unknown work item id; other writes
  /// of the same transaction still commit). Steps are applied in call order.
  virtual std::shared_future<void> recordChange(const WorkItemChange& change) = 0;

  /// Creates or replaces an agent. The future is ready when durable.
  virtual std::shared_future<void> saveAgent(const StoredAgent& agent) = 0;

  /// Keeps a message that could not be processed; returns its id once durable. Throws StoreError.
  virtual std::int64_t recordDeadLetter(const DeadLetter& letter) = 0;

  /// Stores the answer to an idempotent POST; durable on return. A key stored before keeps its
  /// first answer. Throws StoreError.
  virtual void saveResponse(const StoredResponse& response) = 0;

  /// Called once when saveResponseAsync()'s write is durable (nothing) or failed (the reason).
  using WriteDone = std::function<void(const std::optional<std::string>& failure)>;

  /// As saveResponse(), without holding the calling thread; `done` runs as ArrivalDone does for
  /// commitArrivalAsync() (on GroupCommitStore's committer thread: hand the result on, never
  /// block). This default runs saveResponse() and then `done` on the calling thread.
  virtual void saveResponseAsync(const StoredResponse& response, WriteDone done) {
    try {
      saveResponse(response);
      done(std::nullopt);
    } catch (const std::exception& e) {
      done(std::string(e.what()));
    }
  }

  /// Blocks until every write made so far is durable.
  virtual void flush() = 0;

  virtual std::optional<StoredWorkItem> workItem(const std::string& id, bool withHistory) = 0;
  virtual std::vector<StoredWorkItem> workItems(const WorkItemFilter& filter) = 0;
  /// Every item that is not finished (new, queued, offered, accepted), oldest first: what a
  /// restarted server must take up again.
  virtual std::vector<StoredWorkItem> openWorkItems() = 0;
  virtual std::vector<StoredAgent> agents() = 0;
  /// The newest `limit` dead letters, newest first.
  virtual std::vector<DeadLetter> deadLetters(std::size_t limit) = 0;
  virtual std::optional<StoredResponse> response(const std::string& key) = 0;

  /// Up to `limit` events of `subject` whose id is greater than `afterId`, in id order.
  virtual std::vector<StoreEvent> events(StoreEvent::Subject subject, std::int64_t afterId,
                                         std::size_t limit) = 0;
  /// The id of the last event of `subject` that happened before `time` (0 when none did): the
  /// cursor from which events() reads everything from `time` on.
  virtual std::int64_t eventCursorAt(StoreEvent::Subject subject, Timestamp time) = 0;
  /// A consumer's position in an event log, as saveCursor() left it; nothing when never saved.
  virtual std::optional<std::int64_t> cursor(const std::string& name) = 0;
  /// Saves a consumer's position. The future is ready when durable.
  virtual std::shared_future<void> saveCursor(const std::string& name, std::int64_t value) = 0;

  virtual StoreStats stats() const = 0;
};

/// Opens (creating when needed) and migrates the store to the current schema version. Throws
/// StoreError, naming the location (without any password).
std::unique_ptr<Store> openStore(const StoreOptions& options);

} // namespace switchboard
