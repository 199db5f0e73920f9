#include "odbc_pool.h"

#include <Poco/Data/ODBC/Connector.h>
#include <Poco/Data/ODBC/ODBCException.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

namespace switchboard::odbc {
namespace {

using Poco::Data::Keywords::useRef;

int wholeSeconds(std::chrono::milliseconds duration) {
  return static_cast<int>((duration.count() + 999) / 1000);
}

} // namespace

void registerOdbc() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::ODBC::Connector::registerConnector(); });
}

struct OdbcPool::Connection {
  struct Prepared {
    std::unique_ptr<Poco::Data::Statement> statement;
    std::vector<Poco::Nullable<std::string>> values; ///< bound by reference; never resized
  };
  explicit Connection(Poco::Data::Session s) : session(std::move(s)) {}
  Poco::Data::Session session;
  std::map<const SqlTemplate*, Prepared> statements;
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
    if (queryTimeout_.count() > 0) {
      session.setProperty("queryTimeout", wholeSeconds(queryTimeout_));
    }
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
  auto found = connection.statements.find(&sql);
  if (found == connection.statements.end()) {
    Connection::Prepared prepared;
    prepared.values.resize(sql.names().size());
    prepared.statement = std::make_unique<Poco::Data::Statement>(connection.session);
    *prepared.statement << sql.positional();
    for (auto& value : prepared.values) {
      prepared.statement->addBind(useRef(value));
    }
    found = connection.statements.emplace(&sql, std::move(prepared)).first;
  }
  Connection::Prepared& prepared = found->second;
  for (std::size_t i = 0; i < sql.names().size(); ++i) {
    auto value = values.find(sql.names()[i]);
    if (value != values.end() && value->second) {
      prepared.values[i] = *value->second;
    } else {
      prepared.values[i].clear();
    }
  }
  prepared.statement->execute();
  Rows rows;
  if (prepared.statement->columnsExtracted() == 0) {
    return rows; // INSERT, UPDATE: no result set to read
  }
  Poco::Data::RecordSet set(*prepared.statement);
  const std::size_t columns = set.columnCount();
  for (std::size_t c = 0; c < columns; ++c) {
    rows.columns.push_back(set.columnName(c));
  }
  const std::size_t count = set.rowCount();
  for (std::size_t r = 0; r < count; ++r) {
    auto& row = rows.rows.emplace_back();
    row.reserve(columns);
    for (std::size_t c = 0; c < columns; ++c) {
      const Poco::Dynamic::Var& value = set.value(c, r);
      if (value.isEmpty()) {
        row.emplace_back();
      } else {
        row.emplace_back(value.convert<std::string>());
      }
    }
  }
  return rows;
}

} // namespace switchboard::odbc
