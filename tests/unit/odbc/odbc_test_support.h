#pragma once

// What the ODBC connector's tests share: a private unixODBC driver list (ODBCSYSINI) with
// psqlODBC's CommLog off, so that no test writes logs into /tmp, a temporary folder, and direct
// SQL on an SQLite file (to check what the connector wrote).

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::testing {

/// A fresh folder under the system's temporary folder, removed by the destructor.
class TempFolder {
 public:
  TempFolder() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("switchboard-odbc-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Points unixODBC at a driver list of our own (SQLite3 and PostgreSQL Unicode, as Debian
/// registers them, with CommLog=0). Call before the first ODBC connection of the process.
inline void usePrivateOdbcDrivers(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  std::ofstream ini(folder / "odbcinst.ini");
  ini << "[SQLite3]\nDriver=libsqlite3odbc.so\nSetup=libsqlite3odbc.so\nUsageCount=1\n\n"
         "[PostgreSQL Unicode]\nDriver=psqlodbcw.so\nSetup=libodbcpsqlS.so\nDebug=0\n"
         "CommLog=0\nUsageCount=1\n";
  ini.close();
  std::ofstream(folder / "odbc.ini").close();
  ::setenv("ODBCSYSINI", folder.c_str(), 1);
}

/// Reads a file whole.
inline std::string readFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs SQL on the CRM file directly (not through the connector); returns the first column of
// every row.
inline std::vector<std::string> sql(const std::filesystem::path& file, const std::string& text) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    throw std::runtime_error("cannot open " + file.string());
  }
  sqlite3_busy_timeout(db, 5000);
  std::vector<std::string> out;
  char* error = nullptr;
  int rc = sqlite3_exec(
      db, text.c_str(),
      [](void* sink, int, char** values, char**) {
        static_cast<std::vector<std::string>*>(sink)->push_back(values[0] ? values[0] : "NULL");
        return 0;
      },
      &out, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  if (rc != SQLITE_OK) {
    throw std::runtime_error("sqlite: " + message);
  }
  return out;
}

/// A configuration around the <odbc> connector `section` with the queues and rules the tests
/// route by: gold customers to "vip" (previous agent first), topic "french" to French speakers.
inline std::string configWithConnector(const std::string& section) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-test"><listener port="0"/></server>
  <store><sqlite path="unused.db"/></store>
  <security>
    <apiKey name="crm" secret="test-secret-0123456789"/>
    <agentTokens secret="test-token-secret-0123456789abcdef0123"/>
  </security>
  <routing defaultQueue="general"/>
  <queues>
    <queue id="vip" ordering="previousAgent longestIdle" stickyMaxWait="1m"/>
    <queue id="general" ordering="longestIdle"/>
    <queue id="french">
      <target>agent.skills.french >= 5</target>
    </queue>
  </queues>
  <rules>
    <rule name="french" queue="french"><when>item.topic == "french"</when></rule>
    <rule name="gold" queue="vip"><when>item.tier == "gold"</when></rule>
  </rules>
  <connectors>
)" + section +
         R"(
  </connectors>
</switchboard>
)";
}

} // namespace switchboard::testing
