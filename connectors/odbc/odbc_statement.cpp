#include "odbc_statement.h"

#include <sqlext.h>

namespace switchboard::odbc {
namespace {

bool succeeded(SQLRETURN rc) {
  return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO;
}

// "SQLSTATE: message" for each diagnostic record of `handle`.
std::string diagnostics(SQLSMALLINT type, SQLHANDLE handle) {
  std::string out;
  for (SQLSMALLINT record = 1; record <= 5; ++record) {
    SQLCHAR state[6] = {};
    SQLINTEGER native = 0;
    SQLCHAR message[1024] = {};
    SQLSMALLINT length = 0;
    if (!succeeded(SQLGetDiagRec(type, handle, record, state, &native, message,
                                 static_cast<SQLSMALLINT>(sizeof message), &length))) {
      break;
    }
    out += (out.empty() ? "" : "; ") + std::string(reinterpret_cast<char*>(state)) + ": " +
           std::string(reinterpret_cast<char*>(message));
  }
  return out.empty() ? "no diagnostics" : out;
}

} // namespace

OdbcStatement::OdbcStatement(SQLHDBC connection, const SqlTemplate& sql, int queryTimeoutSeconds)
    : sql_(sql), parameters_(sql.names().size()), indicators_(sql.names().size()) {
  SQLRETURN rc = SQLAllocHandle(SQL_HANDLE_STMT, connection, &statement_);
  if (!succeeded(rc)) {
    statement_ = SQL_NULL_HSTMT;
    throw DatabaseError("cannot allocate a statement: " + diagnostics(SQL_HANDLE_DBC, connection));
  }
  if (queryTimeoutSeconds > 0) {
    // Drivers that cannot honour it say so with a warning; the watchdog still bounds lookups.
    SQLSetStmtAttr(statement_, SQL_ATTR_QUERY_TIMEOUT,
                   reinterpret_cast<SQLPOINTER>(static_cast<SQLULEN>(queryTimeoutSeconds)), 0);
  }
  const std::string& text = sql.positional();
  rc = SQLPrepare(statement_, reinterpret_cast<SQLCHAR*>(const_cast<char*>(text.c_str())),
                  static_cast<SQLINTEGER>(text.size()));
  if (!succeeded(rc)) {
    std::string why = diagnostics(SQL_HANDLE_STMT, statement_);
    SQLFreeHandle(SQL_HANDLE_STMT, statement_);
    statement_ = SQL_NULL_HSTMT;
    throw DatabaseError("cannot prepare: " + why);
  }
}

OdbcStatement::~OdbcStatement() {
  if (statement_ != SQL_NULL_HSTMT) {
    SQLFreeHandle(SQL_HANDLE_STMT, statement_);
  }
}

void OdbcStatement::fail(const char* what, SQLRETURN rc) {
  std::string why = rc == SQL_INVALID_HANDLE ? std::string("invalid handle")
                                             : diagnostics(SQL_HANDLE_STMT, statement_);
  SQLFreeStmt(statement_, SQL_CLOSE);
  throw DatabaseError(std::string(what) + ": " + why);
}

void OdbcStatement::execute(const Values& values) {
  const std::vector<std::string>& names = sql_.names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto value = values.find(names[i]);
    std::string& buffer = parameters_[i];
    if (value != values.end() && value->second) {
      buffer = *value->second;
      indicators_[i] = static_cast<SQLLEN>(buffer.size());
    } else {
      buffer.clear();
      indicators_[i] = SQL_NULL_DATA;
    }
    // Bound again for every execution: the buffer's address changes with its value. Text as
    // long varchar, as Poco::Data binds strings, so that the database sees the same types.
    SQLRETURN rc =
        SQLBindParameter(statement_, static_cast<SQLUSMALLINT>(i + 1), SQL_PARAM_INPUT, SQL_C_CHAR,
                         SQL_LONGVARCHAR, buffer.empty() ? 1 : buffer.size(), 0, buffer.data(),
                         static_cast<SQLLEN>(buffer.size()), &indicators_[i]);
    if (!succeeded(rc)) {
      fail(("cannot bind :" + names[i]).c_str(), rc);
    }
  }
  SQLRETURN rc = SQLExecute(statement_);
  if (!succeeded(rc) && rc != SQL_NO_DATA) {
    fail("execute", rc);
  }
}

Rows OdbcStatement::fetch(const Values& values) {
  SQLRETURN rc = SQL_SUCCESS;
  Rows rows;
  if (described_ && columns_.empty()) {
    SQLFreeStmt(statement_, SQL_CLOSE);
    return rows; // INSERT, UPDATE: no result set to read
  }
  if (!described_) {
    SQLSMALLINT count = 0;
    rc = SQLNumResultCols(statement_, &count);
    if (!succeeded(rc)) {
      fail("describe", rc);
    }
    if (count <= 0) {
      described_ = true;
      SQLFreeStmt(statement_, SQL_CLOSE);
      return rows;
    }
    columns_.clear();
    for (SQLSMALLINT c = 1; c <= count; ++c) {
      SQLCHAR name[256] = {};
      SQLSMALLINT length = 0;
      SQLSMALLINT type = 0;
      SQLULEN size = 0;
      SQLSMALLINT digits = 0;
      SQLSMALLINT nullable = 0;
      rc = SQLDescribeCol(statement_, static_cast<SQLUSMALLINT>(c), name,
                          static_cast<SQLSMALLINT>(sizeof name), &length, &type, &size, &digits,
                          &nullable);
      if (!succeeded(rc)) {
        fail("describe", rc);
      }
      columns_.emplace_back(reinterpret_cast<char*>(name));
    }
    // A prepared statement's result has the same columns every time it runs.
    described_ = true;
  }
  if (!bound_ && !longValues_) {
    // Values up to a cell's size land in buffers bound once, at fetch, with no call per column.
    cells_.assign(columns_.size() * kCell, '\0');
    cellIndicators_.assign(columns_.size(), 0);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      rc = SQLBindCol(statement_, static_cast<SQLUSMALLINT>(c + 1), SQL_C_CHAR, &cells_[c * kCell],
                      static_cast<SQLLEN>(kCell), &cellIndicators_[c]);
      if (!succeeded(rc)) {
        fail("bind a column", rc);
      }
    }
    bound_ = true;
  }
  rows.columns = columns_;
  while ((rc = SQLFetch(statement_)) != SQL_NO_DATA) {
    if (!succeeded(rc)) {
      fail("fetch", rc);
    }
    auto& row = rows.rows.emplace_back();
    row.reserve(columns_.size());
    if (!bound_) {
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        row.push_back(read(static_cast<SQLUSMALLINT>(c + 1)));
      }
      continue;
    }
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const SQLLEN indicator = cellIndicators_[c];
      if (indicator == SQL_NULL_DATA) {
        row.emplace_back();
      } else if (indicator >= 0 && static_cast<std::size_t>(indicator) < kCell) {
        row.emplace_back(std::string(&cells_[c * kCell], static_cast<std::size_t>(indicator)));
      } else {
        // A value longer than its cell: this statement reads column by column from now on,
        // and runs again (it only reads) to return whole values.
        SQLFreeStmt(statement_, SQL_CLOSE);
        SQLFreeStmt(statement_, SQL_UNBIND);
        bound_ = false;
        longValues_ = true;
        execute(values);
        return fetch(values);
      }
    }
  }
  SQLFreeStmt(statement_, SQL_CLOSE);
  return rows;
}

std::optional<std::string> OdbcStatement::read(SQLUSMALLINT column) {
  SQLLEN indicator = 0;
  buffer_.resize(kCell);
  SQLRETURN rc = SQLGetData(statement_, column, SQL_C_CHAR, buffer_.data(),
                            static_cast<SQLLEN>(buffer_.size()), &indicator);
  if (!succeeded(rc)) {
    fail("read", rc);
  }
  if (indicator == SQL_NULL_DATA) {
    return std::nullopt;
  }
  std::string value;
  // A value longer than the buffer comes in parts, each ending with the terminating NUL.
  while (true) {
    const std::size_t room = buffer_.size() - 1;
    const bool more = rc == SQL_SUCCESS_WITH_INFO &&
                      (indicator == SQL_NO_TOTAL || static_cast<std::size_t>(indicator) > room);
    const std::size_t got = more             ? room
                            : indicator >= 0 ? static_cast<std::size_t>(indicator)
                                             : std::char_traits<char>::length(buffer_.data());
    value.append(buffer_.data(), got);
    if (!more) {
      return value;
    }
    rc = SQLGetData(statement_, column, SQL_C_CHAR, buffer_.data(),
                    static_cast<SQLLEN>(buffer_.size()), &indicator);
    if (rc == SQL_NO_DATA) {
      return value;
    }
    if (!succeeded(rc)) {
      fail("read", rc);
    }
  }
}

} // namespace switchboard::odbc
