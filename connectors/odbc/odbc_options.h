#pragma once

// The settings of one ODBC CRM connector (<connectors><odbc>, connectors/odbc/odbc_connector.xsd),
// read and checked from its configuration section. Every statement is parsed at load, so that a
// placeholder the connector does not know stops the start with the file, line and setting.

#include "sql_template.h"

#include "switchboard/config.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace switchboard::odbc {

/// A customer lookup for one kind of address (email, phone, chat ...).
struct LookupStatement {
  std::string addressKind;
  SqlTemplate sql;
};

struct OdbcOptions {
  std::string name;             ///< the connector's name, for logs and metrics
  Secret connection;            ///< the ODBC connection string, ${configDir} replaced
  std::filesystem::path outbox; ///< the activity outbox (SQLite file)
  std::size_t poolSize = 4;     ///< connections for lookups (roster and activities add one each)
  std::chrono::milliseconds lookupTimeout{500}; ///< an arrival waits this long for the CRM
  std::chrono::milliseconds queryTimeout{5000}; ///< ODBC query timeout (rounded up to seconds)
  std::chrono::milliseconds connectTimeout{3000};
  std::chrono::milliseconds retryBackoff{200}; ///< first wait after a failure; doubles
  std::chrono::milliseconds maxBackoff{10000};
  std::chrono::milliseconds rosterInterval{30000}; ///< 0: no roster sync

  std::vector<LookupStatement> lookups;
  SqlTemplate history;
  SqlTemplate activity;
  SqlTemplate agents;
  SqlTemplate skills;
};

/// The placeholders each statement may use (see connectors/odbc/README.md).
const std::set<std::string>& lookupPlaceholders();
const std::set<std::string>& historyPlaceholders();
const std::set<std::string>& activityPlaceholders();

/// Reads the <odbc> section. Throws ConfigError (file, line, setting, reason) for a statement
/// with an unknown placeholder, a missing connection string, or roster statements given alone
/// (agents without skills is allowed; skills without agents is not).
OdbcOptions readOdbcOptions(const ConnectorConfig& config);

} // namespace switchboard::odbc
