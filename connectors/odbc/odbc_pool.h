#pragma once

// Connections to the CRM database over ODBC (Poco::Data::ODBC sessions over unixODBC), pooled,
// each with its statements prepared once (OdbcStatement) and executed again with new bound values.
//
// A connection that fails is dropped, never returned to the pool: after the database restarts,
// the stale ones go one by one, and a call that failed on a reused connection is tried once more
// on a new one before it reports the failure.

#include "sql_template.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::odbc {

/// The CRM database could not run a statement (unreachable, timed out, refused the SQL). what()
/// carries the driver's diagnostics, never the connection string.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Values for the placeholders of a statement; a name missing here is bound as NULL.
using Values = std::map<std::string, std::optional<std::string>>;

/// What a query returned: column names (as the database reports them) and rows; NULL is nothing.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class StatementWatchdog;

class OdbcPool {
  struct Connection;

 public:
  /// Opens nothing yet: connections are made when first needed. At most `size` are open at
  /// once; a caller beyond that waits for one to be returned.
  OdbcPool(std::string connection, std::size_t size, std::chrono::milliseconds connectTimeout,
           std::chrono::milliseconds queryTimeout);
  ~OdbcPool();
  OdbcPool(const OdbcPool&) = delete;
  OdbcPool& operator=(const OdbcPool&) = delete;

  /// Runs `sql` with `values` bound to its placeholders and returns the rows it yields (none for
  /// INSERT and UPDATE). Thread-safe. Throws DatabaseError.
  Rows run(const SqlTemplate& sql, const Values& values);

  /// Closes every idle connection (the next call connects afresh).
  void closeIdle();

  /// An open connection taken out of the pool for a few statements on the caller's thread; back
  /// to the pool when the lease ends, or closed if a statement on it failed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    /// Runs `sql` as run() does, once (no second try), cancelling it (SQLCancel) when it has
    /// not finished by `deadline`. Throws DatabaseError; StatementCancelled after a cancel.
    Rows run(const SqlTemplate& sql, const Values& values,
             std::chrono::steady_clock::time_point deadline);

   private:
    friend class OdbcPool;
    Lease(OdbcPool& pool, std::unique_ptr<Connection> connection);
    OdbcPool* pool_;
    std::unique_ptr<Connection> connection_;
    bool failed_ = false;
  };

  /// An idle open connection, or nothing when none is, or while a leased statement overruns its
  /// deadline: it never connects and never waits, so that the caller can run a statement on its
  /// own thread only when that cannot hang on a connect. `tick` is the watchdog's (see
  /// StatementWatchdog); the first call sets it.
  std::optional<Lease> tryIdle(std::chrono::milliseconds tick);

 private:
  std::unique_ptr<Connection> acquire(bool& reused);
  void release(std::unique_ptr<Connection> connection);
  void forget();
  Rows runOn(Connection& connection, const SqlTemplate& sql, const Values& values);

  std::string connection_;
  std::size_t size_;
  std::chrono::milliseconds connectTimeout_;
  std::chrono::milliseconds queryTimeout_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
  std::unique_ptr<StatementWatchdog> watchdog_; ///< made by the first tryIdle()
};

/// A statement that outlived its deadline and was cancelled.
class StatementCancelled : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Registers Poco's ODBC connector once per process (idempotent, thread-safe).
void registerOdbc();

} // namespace switchboard::odbc
