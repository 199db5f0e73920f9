#pragma once

// One prepared statement on an open ODBC connection, driven through the ODBC API itself
// (unixODBC): prepared once, executed again and again with new bound values, its result read as
// text. The connector's pool keeps one per statement and connection.
//
// Why not Poco::Data's Statement here: a lookup is one short round trip, and Poco's statement
// machinery (describing each parameter again, internal extractions into Dynamic::Var, a RecordSet
// per result) cost as much CPU as the round trip itself; and the statement's native handle is
// what a watchdog needs to cancel it (SQLCancel) when a lookup outlives lookupTimeout.

#include "odbc_pool.h"

#include <sql.h>

#include <optional>
#include <string>
#include <vector>

namespace switchboard::odbc {

class OdbcStatement {
 public:
  /// Allocates a statement handle on `connection`, sets its query timeout (whole seconds; 0: none)
  /// and prepares `sql.positional()`. Throws DatabaseError with the driver's diagnostics.
  OdbcStatement(SQLHDBC connection, const SqlTemplate& sql, int queryTimeoutSeconds);
  ~OdbcStatement();
  OdbcStatement(const OdbcStatement&) = delete;
  OdbcStatement& operator=(const OdbcStatement&) = delete;

  /// Binds `values` to the placeholders (a missing or empty-optional value is NULL) and executes:
  /// returns once the database has answered. Throws DatabaseError; after a cancel (SQLCancel from
  /// another thread) what() carries the driver's "operation canceled" diagnostics.
  void execute(const Values& values);
  /// Reads every row of the answer as text (SQL_C_CHAR; NULL is nothing) and closes the cursor.
  /// A statement without a result set (INSERT, UPDATE) returns no columns. The first time a value
  /// is longer than its cell the statement runs once more with the same `values` (it only reads)
  /// and reads column by column from then on. Throws DatabaseError.
  Rows fetch(const Values& values);

  /// The native handle, for SQLCancel from another thread while execute() runs (and only then:
  /// on an idle statement a cancel closes its cursor).
  SQLHSTMT handle() const { return statement_; }

 private:
  static constexpr std::size_t kCell = 256; ///< bytes per bound result cell, NUL included

  [[noreturn]] void fail(const char* what, SQLRETURN rc);
  /// One column of the current row through SQLGetData, however long.
  std::optional<std::string> read(SQLUSMALLINT column);

  const SqlTemplate& sql_;
  SQLHSTMT statement_ = SQL_NULL_HSTMT;
  std::vector<std::string> parameters_; ///< bound by address: never resized after the constructor
  std::vector<SQLLEN> indicators_;
  std::vector<std::string> columns_; ///< names of the result's columns, read on first execute
  bool described_ = false;
  bool bound_ = false;      ///< result columns are bound to cells_
  bool longValues_ = false; ///< a value did not fit its cell: read with SQLGetData instead
  std::vector<char> cells_;
  std::vector<SQLLEN> cellIndicators_;
  std::string buffer_;
};

} // namespace switchboard::odbc
