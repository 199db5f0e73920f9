#pragma once

// The committer's side of the database: one connection, its statements prepared once, and the
// SQL that turns a batch of pending writes into one transaction.

#include "pending_write.h"
#include "sql_connection.h"

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace switchboard::store {

/// "wi-000123": the id of work item number `number`.
std::string workItemId(std::int64_t number);
/// The number in a work item id, or nothing when `id` is not one.
std::optional<std::int64_t> workItemNumber(std::string_view id);

class StoreWriter {
 public:
  /// Connects and migrates the schema. Throws StoreError.
  explicit StoreWriter(const StoreOptions& options);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  /// Applies `batch` in one transaction and commits it. A write refused on its own (a change to
  /// an unknown work item) gets its `refusal` set and the rest commits. Throws StoreError when the
  /// transaction failed: then nothing of it is committed (as far as the database has told us).
  void commit(std::span<PendingWrite* const> batch);

  /// After a failed commit: rolls back, reconnects when the connection is broken and prepares the
  /// statements again. Returns false when the database cannot be reached. Never throws.
  bool recover() noexcept;

  SqlConnection& connection() { return *connection_; }

  /// A work item number handed out before its arrival is committed
  /// (Store::reserveWorkItemId()), or nothing for a database that several servers may share,
  /// where only the committing transaction may take a number. Any thread.
  std::optional<std::int64_t> reserveNumber();

 private:
  struct Statements;

  void prepare();
  void apply(ArrivalWrite& write);
  void apply(ChangeWrite& write, PendingWrite& pending);
  void apply(AgentWrite& write);
  void apply(DeadLetterWrite& write);
  void apply(ResponseWrite& write);
  void apply(CursorWrite& write);
  void insertHistory(const std::string& id, const HistoryRow& row);
  std::int64_t nextNumber();

  std::unique_ptr<SqlConnection> connection_;
  std::unique_ptr<Statements> statements_;
  std::optional<std::int64_t> lastNumber_; ///< within the open transaction
  bool numberUsed_ = false;
  /// SQLite, which one server owns: numbers come from here, reserved or taken at commit, so
  /// that both kinds never meet. Started from the highest stored; the counters row is left
  /// as it was.
  bool numbersInMemory_ = false;
  std::atomic<std::int64_t> issued_{0};
};

} // namespace switchboard::store
