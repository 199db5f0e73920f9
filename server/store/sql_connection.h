#pragma once

// One connection to the store's database, SQLite or PostgreSQL, through Poco::Data. It hides the
// few differences the store meets: how a connection is opened and tuned, how placeholders are
// written, and how a transaction begins.

#include "switchboard/store.h"

#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace switchboard::store {

enum class SqlDialect { Sqlite, Postgresql };

/// Bytes for a BLOB/BYTEA placeholder (a plain string_view is bound as text).
struct SqlBytes {
  std::string_view bytes;
};

/// The value of one placeholder; monostate is NULL. Views must outlive the call they are in.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string_view, SqlBytes>;

/// A statement compiled once and run many times, for the committer's hot path. Poco 1.11's
/// SQLite statements compile their SQL again on every execution (a third of the committer's
/// time, measured), so on SQLite this runs a sqlite3_stmt on the session's own handle; on
/// PostgreSQL it is a Poco statement, which PostgreSQL keeps prepared.
class PreparedStatement {
 public:
  virtual ~PreparedStatement() = default;
  /// Runs the statement with `values` for its placeholders, in order; returns the number of rows
  /// it changed (or returned). Throws StoreError. A value's kind (text, bytes, integer) must be the
  /// same on every call, or NULL.
  virtual std::size_t execute(std::initializer_list<SqlValue> values) = 0;
  /// Runs a statement that returns one column; returns the first row's value as text.
  virtual std::optional<std::string> queryOne(std::initializer_list<SqlValue> values) = 0;
};

class SqlConnection {
 public:
  enum class Role {
    Writer, ///< the committer's connection: transactions that write
    Reader, ///< a query connection; for SQLite opened read-only (WAL readers never block it)
  };

  /// Connects and tunes the connection (SQLite: WAL, synchronous=FULL, busy timeout; PostgreSQL:
  /// synchronous commit). Throws StoreError naming options.location without any password.
  SqlConnection(const StoreOptions& options, Role role);
  ~SqlConnection();
  SqlConnection(const SqlConnection&) = delete;
  SqlConnection& operator=(const SqlConnection&) = delete;

  SqlDialect dialect() const { return dialect_; }
  Poco::Data::Session& session() { return *session_; }

  /// `text` for this dialect: each '?' becomes $1, $2 ... for PostgreSQL. The store's SQL never
  /// holds a '?' or '$' inside a literal.
  std::string sql(std::string_view text) const;

  /// Compiles `text` (with '?' placeholders) for running many times. The statement must be
  /// destroyed before this connection reconnects or goes. Throws StoreError.
  std::unique_ptr<PreparedStatement> prepare(std::string_view text);

  /// Starts a transaction that may write (SQLite: BEGIN IMMEDIATE, so that a read followed by a
  /// write never fails on a snapshot another process moved on from).
  void begin();
  void commit();
  /// Rolls back whatever is open; never throws (a broken connection is found by healthy()).
  void rollback() noexcept;

  /// True when the connection answers a trivial query.
  bool healthy() noexcept;
  /// Drops the connection and opens a new one. Throws StoreError.
  void reconnect();

  /// Call with a statement whose execution failed, before it is destroyed. Poco 1.11's
  /// PostgreSQL statement frees its previous result a second time when an execution fails after
  /// one that succeeded (StatementExecutor::clearResults keeps the freed pointer), so destroying
  /// or re-running it crashes; this keeps its implementation alive for good. The few bytes are
  /// leaked on purpose; failures are rare.
  void discard(const Poco::Data::Statement& statement);

  /// The location for messages: a file name, or the connection string without its password.
  const std::string& description() const { return description_; }

 private:
  void open();
  bool sqliteAutocommit();

  StoreOptions options_;
  Role role_;
  SqlDialect dialect_;
  std::string description_;
  std::unique_ptr<Poco::Data::Session> session_;
  // SQLite: BEGIN and COMMIT compiled once per connection (after session_: gone before it).
  std::unique_ptr<PreparedStatement> beginStatement_;
  std::unique_ptr<PreparedStatement> commitStatement_;
};

/// `text` with every byte sequence that is not valid UTF-8, and every NUL, replaced by U+FFFD:
/// PostgreSQL refuses both in text columns, and the two stores should keep the same values.
std::string validUtf8(std::string_view text);

/// The location with any password=... or :password@ part removed, for messages and logs.
std::string redactLocation(std::string_view location);

} // namespace switchboard::store
