#include "sql_connection.h"

#include <Poco/Data/LOB.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <regex>
#include <vector>

namespace switchboard::store {

namespace {

using namespace Poco::Data::Keywords;

constexpr int kBusyTimeoutMillis = 10'000;

void registerConnectors() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::PostgreSQL::Connector::registerConnector();
  });
}

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not a valid one.
std::size_t sequenceLength(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned int lowest = 0;
  if (lead >= 0x01 && lead < 0x80) {
    return 1;
  } else if (lead >= 0xC2 && lead < 0xE0) {
    length = 2;
    lowest = 0x80;
  } else if (lead >= 0xE0 && lead < 0xF0) {
    length = 3;
    lowest = 0x800;
  } else if (lead >= 0xF0 && lead < 0xF5) {
    length = 4;
    lowest = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  unsigned int code = lead & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < lowest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return length;
}

// On SQLite: a sqlite3_stmt on the session's handle, compiled once.
class SqlitePreparedStatement final : public PreparedStatement {
 public:
  SqlitePreparedStatement(sqlite3* db, std::string_view text, const std::string& description)
      : db_(db), description_(description) {
    if (sqlite3_prepare_v3(db, text.data(), static_cast<int>(text.size()),
                           SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) != SQLITE_OK) {
      throw StoreError("cannot prepare a statement on " + description_ + ": " + sqlite3_errmsg(db));
    }
  }
  ~SqlitePreparedStatement() override { sqlite3_finalize(statement_); }
  SqlitePreparedStatement(const SqlitePreparedStatement&) = delete;
  SqlitePreparedStatement& operator=(const SqlitePreparedStatement&) = delete;

  std::size_t execute(std::initializer_list<SqlValue> values) override {
    bind(values);
    std::size_t rows = 0;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(statement_)) == SQLITE_ROW) {
      ++rows;
    }
    finish(rc);
    return rows > 0 ? rows : static_cast<std::size_t>(sqlite3_changes(db_));
  }

  std::optional<std::string> queryOne(std::initializer_list<SqlValue> values) override {
    bind(values);
    int rc = sqlite3_step(statement_);
    std::optional<std::string> result;
    if (rc == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, 0));
      result = std::string(text != nullptr ? text : "",
                           static_cast<std::size_t>(sqlite3_column_bytes(statement_, 0)));
      rc = SQLITE_DONE;
    }
    finish(rc);
    return result;
  }

 private:
  void bind(std::initializer_list<SqlValue> values) {
    int index = 0;
    for (const SqlValue& value : values) {
      ++index;
      int rc = SQLITE_OK;
      if (const auto* number = std::get_if<std::int64_t>(&value)) {
        rc = sqlite3_bind_int64(statement_, index, *number);
      } else if (const auto* text = std::get_if<std::string_view>(&value)) {
        // A null pointer would bind NULL, not the empty string.
        rc = sqlite3_bind_text(statement_, index, text->empty() ? "" : text->data(),
                               static_cast<int>(text->size()), SQLITE_STATIC);
      } else if (const auto* bytes = std::get_if<SqlBytes>(&value)) {
        rc = bytes->bytes.empty()
                 ? sqlite3_bind_zeroblob(statement_, index, 0)
                 : sqlite3_bind_blob(statement_, index, bytes->bytes.data(),
                                     static_cast<int>(bytes->bytes.size()), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(statement_, index);
      }
      if (rc != SQLITE_OK) {
        throw StoreError("cannot bind a value on " + description_ + ": " + sqlite3_errmsg(db_));
      }
    }
  }

  void finish(int rc) {
    if (rc != SQLITE_DONE) {
      std::string reason = sqlite3_errmsg(db_);
      sqlite3_reset(statement_);
      throw StoreError("the store " + description_ + " refused a statement: " + reason);
    }
    sqlite3_reset(statement_);
  }

  sqlite3* db_;
  std::string description_;
  sqlite3_stmt* statement_ = nullptr;
};

// On PostgreSQL: a Poco statement bound to slots that each call fills, so that the statement is
// prepared once on the server.
class PocoPreparedStatement final : public PreparedStatement {
 public:
  PocoPreparedStatement(SqlConnection& connection, std::string_view text)
      : connection_(connection), text_(connection.sql(text)) {}
  ~PocoPreparedStatement() override = default;
  PocoPreparedStatement(const PocoPreparedStatement&) = delete;
  PocoPreparedStatement& operator=(const PocoPreparedStatement&) = delete;

  std::size_t execute(std::initializer_list<SqlValue> values) override {
    return run(values, false);
  }

  std::optional<std::string> queryOne(std::initializer_list<SqlValue> values) override {
    run(values, true);
    return result_.empty() ? std::nullopt : std::optional<std::string>(result_.front());
  }

 private:
  std::size_t run(std::initializer_list<SqlValue> values, bool query) {
    if (!statement_) {
      build(values, query);
    }
    std::size_t index = 0;
    for (const SqlValue& value : values) {
      Slot& slot = slots_[index++];
      if (const auto* bytes = std::get_if<SqlBytes>(&value)) {
        slot.bytes = Poco::Data::BLOB(reinterpret_cast<const unsigned char*>(bytes->bytes.data()),
                                      bytes->bytes.size());
      } else if (const auto* text = std::get_if<std::string_view>(&value)) {
        slot.text = std::string(*text);
      } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
        slot.text = std::to_string(*number);
      } else {
        slot.text.clear();
      }
    }
    result_.clear();
    try {
      return statement_->execute();
    } catch (const Poco::Exception& e) {
      connection_.discard(*statement_);
      statement_.reset();
      throw StoreError("the store " + connection_.description() +
                       " refused a statement: " + redactLocation(e.displayText()));
    }
  }

  void build(std::initializer_list<SqlValue> values, bool query) {
    slots_.clear();
    slots_.resize(values.size());
    statement_ = std::make_unique<Poco::Data::Statement>(connection_.session());
    *statement_ << text_;
    std::size_t index = 0;
    for (const SqlValue& value : values) {
      Slot& slot = slots_[index++];
      if (std::holds_alternative<SqlBytes>(value)) {
        statement_->addBind(use(slot.bytes));
      } else {
        statement_->addBind(use(slot.text));
      }
    }
    if (query) {
      statement_->addExtract(into(result_));
    }
  }

  struct Slot {
    Poco::Nullable<std::string> text;
    Poco::Data::BLOB bytes;
  };

  SqlConnection& connection_;
  std::string text_;
  std::vector<Slot> slots_; ///< sized once per statement: the statement binds their addresses
  std::vector<std::string> result_;
  std::unique_ptr<Poco::Data::Statement> statement_;
};

} // namespace

std::string validUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = sequenceLength(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string redactLocation(std::string_view location) {
  static const std::regex keyword(R"(password\s*=\s*('([^'\\]|\\.)*'|\S*))", std::regex::icase);
  static const std::regex uri(R"(://([^:/@]*):[^@/]*@)");
  std::string text(location);
  text = std::regex_replace(text, keyword, "password=***");
  return std::regex_replace(text, uri, "://$1:***@");
}

SqlConnection::SqlConnection(const StoreOptions& options, Role role)
    : options_(options), role_(role),
      dialect_(options.kind == StoreOptions::Kind::Sqlite ? SqlDialect::Sqlite
                                                          : SqlDialect::Postgresql),
      description_(redactLocation(options.location)) {
  registerConnectors();
  open();
}

SqlConnection::~SqlConnection() = default;

void SqlConnection::open() {
  beginStatement_.reset();
  commitStatement_.reset();
  session_.reset();
  std::string what = dialect_ == SqlDialect::Sqlite ? "SQLite store " : "PostgreSQL store ";
  try {
    if (dialect_ == SqlDialect::Sqlite) {
      std::filesystem::path file(options_.location);
      if (file.has_parent_path()) {
        std::filesystem::create_directories(file.parent_path());
      }
      session_ = std::make_unique<Poco::Data::Session>("SQLite", options_.location);
      Poco::Data::Session& s = *session_;
      s << "PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMillis), now;
      if (role_ == Role::Writer) {
        std::string mode;
        s << "PRAGMA journal_mode = WAL", into(mode), now;
        if (mode != "wal") {
          throw StoreError(what + description_ + ": the file system refuses WAL mode (got '" +
                           mode + "')");
        }
        // FULL: in WAL mode, NORMAL would let a commit that already returned vanish on power
        // loss; only FULL syncs the log on every commit.
        s << "PRAGMA synchronous = FULL", now;
      } else {
        s << "PRAGMA query_only = 1", now;
      }
    } else {
      session_ = std::make_unique<Poco::Data::Session>("PostgreSQL", options_.location);
      Poco::Data::Session& s = *session_;
      s << "SET client_min_messages TO warning", now;
      s << "SET synchronous_commit TO on", now;
    }
  } catch (const StoreError&) {
    session_.reset();
    throw;
  } catch (const Poco::Exception& e) {
    session_.reset();
    throw StoreError("cannot open " + what + description_ + ": " + redactLocation(e.displayText()));
  } catch (const std::exception& e) {
    session_.reset();
    throw StoreError("cannot open " + what + description_ + ": " + e.what());
  }
}

std::string SqlConnection::sql(std::string_view text) const {
  if (dialect_ == SqlDialect::Sqlite) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size() + 16);
  int number = 0;
  for (char c : text) {
    if (c == '?') {
      out += '$';
      out += std::to_string(++number);
    } else {
      out += c;
    }
  }
  return out;
}

std::unique_ptr<PreparedStatement> SqlConnection::prepare(std::string_view text) {
  if (dialect_ == SqlDialect::Sqlite) {
    return std::make_unique<SqlitePreparedStatement>(
        Poco::Data::SQLite::Utility::dbHandle(*session_), text, description_);
  }
  return std::make_unique<PocoPreparedStatement>(*this, text);
}

void SqlConnection::begin() {
  if (dialect_ == SqlDialect::Sqlite) {
    // Compiled once: the committer begins and commits thousands of transactions a second.
    if (!beginStatement_) {
      beginStatement_ = prepare("BEGIN IMMEDIATE");
    }
    beginStatement_->execute({});
  } else {
    session_->begin();
  }
}

void SqlConnection::commit() {
  if (dialect_ == SqlDialect::Sqlite) {
    if (!commitStatement_) {
      commitStatement_ = prepare("COMMIT");
    }
    commitStatement_->execute({});
  } else {
    session_->commit();
  }
}

void SqlConnection::rollback() noexcept {
  if (!session_) {
    return;
  }
  try {
    if (dialect_ == SqlDialect::Sqlite) {
      if (!sqliteAutocommit()) {
        *session_ << "ROLLBACK", now;
      }
    } else if (session_->isTransaction()) {
      session_->rollback();
    }
  } catch (...) {
    // A rollback that fails leaves a broken connection, which healthy() reports.
  }
}

bool SqlConnection::sqliteAutocommit() {
  return sqlite3_get_autocommit(Poco::Data::SQLite::Utility::dbHandle(*session_)) != 0;
}

bool SqlConnection::healthy() noexcept {
  if (!session_) {
    return false;
  }
  try {
    int one = 0;
    *session_ << "SELECT 1", into(one), now;
    return one == 1;
  } catch (...) {
    return false;
  }
}

void SqlConnection::reconnect() {
  open();
}

void SqlConnection::discard(const Poco::Data::Statement& statement) {
  if (dialect_ == SqlDialect::Postgresql) {
    // The copy shares the implementation and is never deleted, so the implementation never dies.
    static_cast<void>(new Poco::Data::Statement(statement));
  }
}

} // namespace switchboard::store
