#pragma once

// A write waiting for the committer: its column values, prepared on the caller's thread so that
// the committer only binds and executes, and the promise its caller waits on.

#include "switchboard/store.h"

#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace switchboard::store {

struct HistoryRow {
  std::int64_t timeMs = 0;
  std::optional<std::string> state;
  std::string cause;
  std::optional<std::string> actorId;
};

struct ArrivalWrite {
  /// The item's number: reserved before the commit, or taken by the committer (and kept, so that
  /// a retried write keeps its id).
  std::optional<std::int64_t> number;
  std::string source;
  std::optional<std::string> sourceKey;
  std::string medium;
  std::string state;
  int priority = 50;
  std::optional<std::string> queueId;
  std::optional<std::string> agentId;
  std::optional<std::string> customerRef;
  std::int64_t createdMs = 0;
  std::optional<std::int64_t> offerExpiresMs;
  std::string record;
  std::vector<HistoryRow> history; ///< the item's own history, its arrival, its routing steps
  ArrivalOutcome outcome;          ///< set by the committer
  std::promise<ArrivalOutcome> done;
  Store::ArrivalDone callback; ///< when set, completes the write instead of `done`
};

struct ChangeWrite {
  std::string workItemId;
  /// The row the id names (ids are made from it); none for an id the store never handed out.
  std::optional<std::int64_t> seq;
  std::string state;
  bool setQueue = false;
  std::optional<std::string> queueId; ///< nothing clears it
  bool setAgent = false;
  std::optional<std::string> agentId; ///< nothing clears it
  std::optional<std::int64_t> offerExpiresMs;
  std::optional<std::string> record; ///< with the columns it carries:
  std::optional<std::string> medium;
  std::optional<int> priority;
  bool setCustomerRef = false;
  std::optional<std::string> customerRef;
  std::int64_t updatedMs = 0;
  HistoryRow entry;
  std::promise<void> done;
};

struct AgentWrite {
  std::string id;
  std::optional<std::string> state;
  int loggedIn = 0;
  std::int64_t updatedMs = 0;
  std::string record;
  bool stateChanged = false; ///< also append (state, reason) to agent_transitions
  std::optional<std::string> reason;
  std::promise<void> done;
};

struct CursorWrite {
  std::string name;
  std::int64_t value = 0;
  std::int64_t updatedMs = 0;
  std::promise<void> done;
};

struct DeadLetterWrite {
  std::int64_t timeMs = 0;
  std::string source;
  std::string reason;
  std::string document; ///< cut to the store's limit
  std::int64_t originalSize = 0;
  std::int64_t id = 0; ///< set by the committer
  std::promise<std::int64_t> done;
};

struct ResponseWrite {
  std::string key;
  std::string requestHash;
  int status = 0;
  std::string contentType;
  std::string body;
  std::int64_t timeMs = 0;
  std::promise<void> done;
  Store::WriteDone callback; ///< when set, completes the write instead of `done`
};

/// Writes nothing; completes when everything queued before it has.
struct FlushWrite {
  std::promise<void> done;
};

struct PendingWrite {
  std::variant<ArrivalWrite, ChangeWrite, AgentWrite, DeadLetterWrite, ResponseWrite, CursorWrite,
               FlushWrite>
      body;
  /// Set by the committer when this write alone was refused (a change to an unknown item); the
  /// rest of its transaction still commits.
  std::optional<std::string> refusal;

  bool isFlush() const { return std::holds_alternative<FlushWrite>(body); }
  /// Completes the caller's promise: the refusal, or the write's result.
  void succeed();
  /// Completes the caller's promise with StoreError(reason).
  void fail(const std::string& reason);
};

} // namespace switchboard::store
