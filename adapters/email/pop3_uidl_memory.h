#pragma once

// The POP3 source's memory of the mails it has taken but left on the server: their UIDLs, per
// mailbox, in an SQLite file of its own (WAL, synchronous=FULL). A UIDL is remembered only after
// the mail's work item is committed; after a crash in between, the mail is fetched again and the
// server answers "duplicate". UIDLs that left the server are forgotten.

#include <filesystem>
#include <set>
#include <string>
#include <vector>

struct sqlite3;

namespace switchboard::email {

class Pop3UidlMemory {
 public:
  /// Opens (creating when missing) the file. Throws std::runtime_error when it cannot.
  explicit Pop3UidlMemory(const std::filesystem::path& file);
  ~Pop3UidlMemory();
  Pop3UidlMemory(const Pop3UidlMemory&) = delete;
  Pop3UidlMemory& operator=(const Pop3UidlMemory&) = delete;

  /// The UIDLs remembered for `mailbox`.
  std::set<std::string> known(const std::string& mailbox);
  /// Remembers `uidls` for `mailbox`, durably on return. Throws std::runtime_error.
  void remember(const std::string& mailbox, const std::vector<std::string>& uidls);
  /// Forgets the UIDLs of `mailbox` that are not in `present` (the server's whole list).
  void keepOnly(const std::string& mailbox, const std::set<std::string>& present);

 private:
  void execute(const char* sql);

  sqlite3* db_ = nullptr;
  std::filesystem::path file_;
};

} // namespace switchboard::email
