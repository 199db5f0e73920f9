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
    Poco::Data::Statement insert(*session_);
    insert << "INSERT OR IGNORE INTO activities (work_item_id, parameters) VALUES (?, ?)", use(id),
        use(parameters);
    return insert.execute() > 0;
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
