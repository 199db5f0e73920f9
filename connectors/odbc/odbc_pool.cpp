#include "odbc_pool.h"

#include "odbc_statement.h"
#include "statement_watchdog.h"

#include <Poco/Data/ODBC/Connector.h>
#include <Poco/Data/ODBC/ODBCException.h>
#include <Poco/Data/ODBC/SessionImpl.h>
#include <Poco/Data/Session.h>

namespace switchboard::odbc {
namespace {

int wholeSeconds(std::chrono::milliseconds duration) {
  return static_cast<int>((duration.count() + 999) / 1000);
}

} // namespace

void registerOdbc() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::ODBC::Connector::registerConnector(); });
}

// The Poco session opens and closes the connection (login timeout, diagnostics); statements run
// on its native handle. Statements are declared after the session: they are freed before it.
struct OdbcPool::Connection {
  explicit Connection(Poco::Data::Session s) : session(std::move(s)) {
    auto* impl = dynamic_cast<Poco::Data::ODBC::SessionImpl*>(session.impl());
    if (impl == nullptr) {
      throw DatabaseError("not an ODBC session");
    }
    handle = impl->dbc().handle();
  }
  Poco::Data::Session session;
  SQLHDBC handle = SQL_NULL_HDBC;
  std::map<const SqlTemplate*, std::unique_ptr<OdbcStatement>> statements;

  OdbcStatement& statement(const SqlTemplate& sql, int queryTimeoutSeconds) {
    auto found = statements.find(&sql);
    if (found == statements.end()) {
      found = statements
                  .emplace(&sql, std::make_unique<OdbcStatement>(handle, sql, queryTimeoutSeconds))
                  .first;
    }
    return *found->second;
  }
};

OdbcPool::OdbcPool(std::string connection, std::size_t size,
                   std::chrono::milliseconds connectTimeout, std::chrono::milliseconds queryTimeout)
    : connection_(std::move(connection)), size_(size == 0 ? 1 : size),
      connectTimeout_(connectTimeout), queryTimeout_(queryTimeout) {
  registerOdbc();
}

OdbcPool::~OdbcPool() = default;

std::unique_ptr<OdbcPool::Connection> OdbcPool::acquire(bool& reused) {
  std::unique_lock lock(mutex_);
  returned_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    reused = true;
    return connection;
  }
  ++open_;
  lock.unlock();
  reused = false;
  try {
    Poco::Data::Session session("ODBC", connection_,
                                static_cast<std::size_t>(wholeSeconds(connectTimeout_)));
    return std::make_unique<Connection>(std::move(session));
  } catch (const Poco::Exception& e) {
    forget();
    throw DatabaseError("cannot connect: " + e.displayText());
  } catch (...) {
    forget();
    throw;
  }
}

void OdbcPool::release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  returned_.notify_one();
}

void OdbcPool::forget() {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  returned_.notify_one();
}

void OdbcPool::closeIdle() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
    open_ -= closing.size();
  }
  returned_.notify_all();
}

Rows OdbcPool::run(const SqlTemplate& sql, const Values& values) {
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    std::unique_ptr<Connection> connection = acquire(reused);
    try {
      Rows rows = runOn(*connection, sql, values);
      release(std::move(connection));
      return rows;
    } catch (const Poco::Exception& e) {
      connection.reset();
      forget();
      if (!reused || attempt > 0) {
        throw DatabaseError(e.displayText());
      }
    } catch (const std::exception& e) {
      connection.reset();
      forget();
      if (!reused || attempt > 0) {
        throw DatabaseError(e.what());
      }
    }
  }
}

Rows OdbcPool::runOn(Connection& connection, const SqlTemplate& sql, const Values& values) {
  OdbcStatement& statement = connection.statement(sql, wholeSeconds(queryTimeout_));
  statement.execute(values);
  return statement.fetch(values);
}

std::optional<OdbcPool::Lease> OdbcPool::tryIdle(std::chrono::milliseconds tick) {
  std::unique_lock lock(mutex_);
  if (!watchdog_) {
    watchdog_ = std::make_unique<StatementWatchdog>(tick);
  }
  // While a statement overruns its deadline the database is slow or its driver does not cancel:
  // callers wait for no one then.
  if (idle_.empty() || watchdog_->overdue() > 0) {
    return std::nullopt;
  }
  auto connection = std::move(idle_.back());
  idle_.pop_back();
  return Lease(*this, std::move(connection));
}

OdbcPool::Lease::Lease(OdbcPool& pool, std::unique_ptr<Connection> connection)
    : pool_(&pool), connection_(std::move(connection)) {}

OdbcPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)), failed_(other.failed_) {}

OdbcPool::Lease::~Lease() {
  if (!connection_) {
    return;
  }
  if (failed_) {
    connection_.reset();
    pool_->forget();
  } else {
    pool_->release(std::move(connection_));
  }
}

Rows OdbcPool::Lease::run(const SqlTemplate& sql, const Values& values,
                          std::chrono::steady_clock::time_point deadline) {
  // Whatever happens, the connection is closed unless the statement ran to its end in time.
  failed_ = true;
  try {
    OdbcStatement& statement = connection_->statement(sql, wholeSeconds(pool_->queryTimeout_));
    struct Armed {
      StatementWatchdog& watchdog;
      StatementWatchdog::Ticket ticket;
      bool done = false;
      bool fired = false;
      bool disarm() {
        if (!done) {
          done = true;
          fired = watchdog.disarm(ticket);
        }
        return fired;
      }
      ~Armed() { disarm(); }
    } armed{*pool_->watchdog_, pool_->watchdog_->arm(statement.handle(), deadline)};
    try {
      statement.execute(values);
    } catch (const DatabaseError& e) {
      if (armed.disarm()) {
        throw StatementCancelled(e.what());
      }
      throw;
    }
    // Only the execution is watched: once disarmed no cancel can reach the statement while its
    // rows are read (on an idle statement, a cancel would close the cursor under the reader).
    if (armed.disarm()) {
      // Cancelled just as it finished: its answer may be gone with the cancel.
      throw StatementCancelled("cancelled at its deadline");
    }
    Rows rows = statement.fetch(values);
    failed_ = false;
    return rows;
  } catch (const DatabaseError&) {
    throw;
  } catch (const Poco::Exception& e) {
    throw DatabaseError(e.displayText());
  } catch (const std::exception& e) {
    throw DatabaseError(e.what());
  }
}

} // namespace switchboard::odbc
