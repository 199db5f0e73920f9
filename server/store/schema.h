#pragma once

// The store's schema and its migrations. The database records in schema_version every migration
// applied to it; opening applies the missing ones in order, each in its own transaction, and
// refuses a database that a newer build has migrated further than this build knows.

#include "sql_connection.h"

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::store {

struct Migration {
  int version = 0;
  std::string_view description;
  /// Statements run in order inside one transaction. In the text, {rowid} becomes the dialect's
  /// 64-bit integer primary key assigned by the caller, {serial} one assigned by the database,
  /// and {blob} the type for bytes. A statement that starts with {sqlite} or {postgresql} runs
  /// on that dialect only.
  std::vector<std::string_view> statements;
};

class Schema {
 public:
  /// Every migration, oldest first; versions count up from 1 without gaps.
  static const std::vector<Migration>& migrations();

  /// The version this build migrates to: the last migration's.
  static int latestVersion();

  /// The version the database is at; 0 for a database without a schema_version table.
  static int version(SqlConnection& connection);

  /// Applies the migrations the database is missing, up to `target` (the latest by default).
  /// Safe against another process migrating the same database at the same time. Throws
  /// StoreError when the database is at a newer version than this build knows, or when a
  /// migration fails (that migration's changes are rolled back; earlier ones stay).
  static void migrate(SqlConnection& connection, int target = latestVersion());
};

} // namespace switchboard::store
