#include "activity_outbox.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace switchboard::odbc {
namespace {

using namespace Poco::Data::Keywords;

std::string encode(const Values& values) {
  Poco::JSON::Object object;
  for (const auto& [name, value] : values) {
    if (value) {
      object.set(name, *value);
    } else {
      object.set(name, Poco::Dynamic::Var());
    }
  }
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

Values decode(const std::string& text) {
  Values values;
  Poco::JSON::Parser parser;
  auto object = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  for (const auto& [name, value] : *object) {
    if (value.isEmpty()) {
      values[name] = std::nullopt;
    } else {
      values[name] = value.convert<std::string>();
    }
  }
  return values;
}

} // namespace

ActivityOutbox::ActivityOutbox(const std::filesystem::path& file) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  try {
    if (file.has_parent_path()) {
      std::filesystem::create_directories(file.parent_path());
    }
    session_ = std::make_unique<Poco::Data::Session>("SQLite", file.string());
    Poco::Data::Session& s = *session_;
    std::string mode;
    s << "PRAGMA journal_mode=WAL", into(mode), now;
    if (mode != "wal") {
      throw std::runtime_error("the file system refuses WAL mode (journal_mode " + mode + ")");
    }
    s << "PRAGMA synchronous=FULL", now;
    s << "CREATE TABLE IF NOT EXISTS activities ("
         " sequence INTEGER PRIMARY KEY AUTOINCREMENT,"
         " work_item_id TEXT NOT NULL UNIQUE,"
         " queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
         " parameters TEXT NOT NULL,"
         " attempts INTEGER NOT NULL DEFAULT 0,"
         " last_error TEXT)",
        now;
    // Every item whose activity was ever queued, so that none is queued twice: an activity
    // leaves `activities` once written, and the store's log may show the same end again (a
    // disposition note) or be read again after a restart. Pruned after 30 days.
    s << "CREATE TABLE IF NOT EXISTS queued_items ("
         " work_item_id TEXT PRIMARY KEY,"
         " queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
        now;
    s << "INSERT OR IGNORE INTO queued_items (work_item_id, queued_at)"
         " SELECT work_item_id, queued_at FROM activities",
        now;
    s << "DELETE FROM queued_items WHERE queued_at < strftime('%Y-%m-%dT%H:%M:%fZ','now','-30 "
         "days')"
         " AND work_item_id NOT IN (SELECT work_item_id FROM activities)",
        now;
    // How far the connector has read the store's log of work item steps (see OdbcConnector).
    s << "CREATE TABLE IF NOT EXISTS positions (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        now;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox " + file.string() + ": " + e.displayText());
  } catch (const std::filesystem::filesystem_error& e) {
    throw std::runtime_error("activity outbox " + file.string() + ": " + e.what());
  }
}

ActivityOutbox::~ActivityOutbox() = default;

bool ActivityOutbox::add(const std::string& workItemId, const Values& values) {
  std::lock_guard lock(mutex_);
  std::string id = workItemId;
  std::string parameters = encode(values);
  try {
    session_->begin();
    try {
      Poco::Data::Statement mark(*session_);
      mark << "INSERT OR IGNORE INTO queued_items (work_item_id) VALUES (?)", use(id);
      const bool fresh = mark.execute() > 0;
      if (fresh) {
        *session_ << "INSERT INTO activities (work_item_id, parameters) VALUES (?, ?)", use(id),
            use(parameters), now;
      }
      session_->commit();
      return fresh;
    } catch (...) {
      session_->rollback();
      throw;
    }
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox: " + e.displayText());
  }
}

bool ActivityOutbox::queued(const std::string& workItemId) {
  std::lock_guard lock(mutex_);
  std::string id = workItemId;
  int count = 0;
  try {
    *session_ << "SELECT count(*) FROM queued_items WHERE work_item_id = ?", use(id), into(count),
        now;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox: " + e.displayText());
  }
  return count > 0;
}

std::optional<std::int64_t> ActivityOutbox::position(const std::string& name) {
  std::lock_guard lock(mutex_);
  std::string key = name;
  Poco::Nullable<std::int64_t> value;
  try {
    *session_ << "SELECT value FROM positions WHERE name = ?", use(key), into(value), now;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox: " + e.displayText());
  }
  if (value.isNull()) {
    return std::nullopt;
  }
  return value.value();
}

void ActivityOutbox::savePosition(const std::string& name, std::int64_t value) {
  std::lock_guard lock(mutex_);
  std::string key = name;
  try {
    *session_ << "INSERT INTO positions (name, value) VALUES (?, ?)"
                 " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        use(key), use(value), now;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox: " + e.displayText());
  }
}

std::optional<QueuedActivity> ActivityOutbox::front() {
  std::lock_guard lock(mutex_);
  try {
    Poco::Nullable<std::int64_t> sequence;
    std::string id;
    std::string parameters;
    std::int64_t attempts = 0;
    Poco::Data::Statement select(*session_);
    select << "SELECT sequence, work_item_id, parameters, attempts FROM activities"
              " ORDER BY sequence LIMIT 1",
        into(sequence), into(id), into(parameters), into(attempts);
    if (select.execute() == 0 || sequence.isNull()) {
      return std::nullopt;
    }
    return QueuedActivity{sequence.value(), id, decode(parameters), attempts};
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox: " + e.displayText());
  }
}

void ActivityOutbox::remove(std::int64_t sequence) {
  std::lock_guard lock(mutex_);
  try {
    *session_ << "DELETE FROM activities WHERE sequence = ?", use(sequence), now;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("activity outbox: " + e.displayText());
  }
}

void ActivityOutbox::failed(std::int64_t sequence, const std::string& reason) {
  std::lock_guard lock(mutex_);
  std::string text = reason.substr(0, 1000);
  try {
    *session_ << "UPDATE activities SET attempts = attempts + 1, last_error = ? WHERE sequence = ?",
        use(text), use(sequence), now;
  } catch (const Poco::Exception&) {
    // Only bookkeeping: the activity stays queued either way.
  }
}

std::size_t ActivityOutbox::size() {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  try {
    *session_ << "SELECT count(*) FROM activities", into(count), now;
  } catch (const Poco::Exception&) {
    return 0;
  }
  return count;
}

} // namespace switchboard::odbc
