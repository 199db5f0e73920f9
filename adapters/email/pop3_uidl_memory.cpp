#include "pop3_uidl_memory.h"

#include <sqlite3.h>

#include <stdexcept>

namespace switchboard::email {
namespace {

// Finalises a statement however the block is left.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("UIDL memory: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  /// true while there is a row.
  bool step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc != SQLITE_DONE) {
      throw std::runtime_error(std::string("UIDL memory: ") + sqlite3_errmsg(db_));
    }
    return false;
  }
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  std::string text(int column) {
    const auto* value = sqlite3_column_text(statement_, column);
    return value == nullptr
               ? std::string()
               : std::string(reinterpret_cast<const char*>(value),
                             static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

} // namespace

Pop3UidlMemory::Pop3UidlMemory(const std::filesystem::path& file) : file_(file) {
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path());
  }
  if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) {
    std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open the UIDL memory " + file.string() + ": " + reason);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    execute("PRAGMA journal_mode=WAL");
    execute("PRAGMA synchronous=FULL");
    execute("CREATE TABLE IF NOT EXISTS taken (mailbox TEXT NOT NULL, uidl TEXT NOT NULL, "
            "PRIMARY KEY (mailbox, uidl)) WITHOUT ROWID");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Pop3UidlMemory::~Pop3UidlMemory() {
  sqlite3_close(db_);
}

void Pop3UidlMemory::execute(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string reason = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("UIDL memory " + file_.string() + ": " + reason);
  }
}

std::set<std::string> Pop3UidlMemory::known(const std::string& mailbox) {
  Statement select(db_, "SELECT uidl FROM taken WHERE mailbox = ?");
  select.bind(1, mailbox);
  std::set<std::string> uidls;
  while (select.step()) {
    uidls.insert(select.text(0));
  }
  return uidls;
}

void Pop3UidlMemory::remember(const std::string& mailbox, const std::vector<std::string>& uidls) {
  if (uidls.empty()) {
    return;
  }
  execute("BEGIN IMMEDIATE");
  try {
    Statement insert(db_, "INSERT OR IGNORE INTO taken (mailbox, uidl) VALUES (?, ?)");
    for (const std::string& uidl : uidls) {
      insert.bind(1, mailbox);
      insert.bind(2, uidl);
      insert.step();
      insert.reset();
    }
    execute("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Pop3UidlMemory::keepOnly(const std::string& mailbox, const std::set<std::string>& present) {
  std::vector<std::string> gone;
  for (const std::string& uidl : known(mailbox)) {
    if (!present.contains(uidl)) {
      gone.push_back(uidl);
    }
  }
  if (gone.empty()) {
    return;
  }
  execute("BEGIN IMMEDIATE");
  try {
    Statement remove(db_, "DELETE FROM taken WHERE mailbox = ? AND uidl = ?");
    for (const std::string& uidl : gone) {
      remove.bind(1, mailbox);
      remove.bind(2, uidl);
      remove.step();
      remove.reset();
    }
    execute("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

} // namespace switchboard::email
