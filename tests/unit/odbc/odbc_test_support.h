#pragma once

// What the ODBC connector's tests share: a private unixODBC driver list (ODBCSYSINI) with
// psqlODBC's CommLog off, so that no test writes logs into /tmp, and a temporary folder.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

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

} // namespace switchboard::testing
