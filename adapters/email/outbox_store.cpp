#include "outbox_store.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <array>

namespace switchboard::email {
namespace {

using namespace Poco::Data::Keywords;

constexpr std::array<std::string_view, 5> kStateNames{"queued", "sending", "committing", "sent",
                                                      "failed"};

OutboxState stateOf(const std::string& name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) {
      return static_cast<OutboxState>(i);
    }
  }
  throw OutboxError("unknown outbox state '" + name + "'");
}

std::string joinLines(const std::vector<std::string>& values) {
  std::string joined;
  for (const std::string& value : values) {
    joined += (joined.empty() ? "" : "\n") + value;
  }
  return joined;
}

std::vector<std::string> splitLines(const std::string& joined) {
  std::vector<std::string> values;
  std::size_t start = 0;
  while (start <= joined.size() && !joined.empty()) {
    std::size_t end = joined.find('\n', start);
    values.push_back(joined.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return values;
}

const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS outbox ("
    " key TEXT PRIMARY KEY, kind TEXT NOT NULL, work_item TEXT NOT NULL,"
    " reply_id TEXT NOT NULL, correlation TEXT NOT NULL, message_id TEXT NOT NULL,"
    " envelope_from TEXT NOT NULL, recipients TEXT NOT NULL, customer TEXT NOT NULL,"
    " mime TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,"
    " created INTEGER NOT NULL, next_attempt INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " last_error TEXT NOT NULL, uncertain_resends INTEGER NOT NULL, reported INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt)",
    "CREATE INDEX IF NOT EXISTS outbox_message_id ON outbox (message_id)",
    "CREATE INDEX IF NOT EXISTS outbox_customer ON outbox (kind, customer, created)",
};

constexpr const char* kColumns =
    "key, kind, work_item, reply_id, correlation, message_id, envelope_from, recipients, "
    "customer, mime, state, attempts, created, next_attempt, last_error, uncertain_resends, "
    "reported";

} // namespace

std::string_view toString(OutboxState state) {
  return kStateNames[static_cast<std::size_t>(state)];
}

// Every Poco exception is turned into OutboxError naming the file, so that callers catch one type.
#define OUTBOX_GUARD(what)                                                                         \
  catch (const OutboxError&) {                                                                     \
    throw;                                                                                         \
  }                                                                                                \
  catch (const Poco::Exception& e) {                                                               \
    throw OutboxError("outbox " + file_.string() + ": " + (what) + ": " + e.displayText());        \
  }

OutboxStore::OutboxStore(const std::filesystem::path& file) : file_(file) {
  try {
    if (file.has_parent_path()) {
      std::filesystem::create_directories(file.parent_path());
    }
    Poco::Data::SQLite::Connector::registerConnector();
    session_ = std::make_unique<Poco::Data::Session>("SQLite", file.string());
    std::string mode;
    *session_ << "PRAGMA journal_mode = WAL", into(mode), now;
    if (mode != "wal") {
      throw OutboxError("outbox " + file.string() + ": the file system refuses WAL mode (" + mode +
                        ")");
    }
    *session_ << "PRAGMA synchronous = FULL", now;
    *session_ << "PRAGMA busy_timeout = 5000", now;
    for (const char* statement : kSchema) {
      *session_ << statement, now;
    }
  } catch (const std::filesystem::filesystem_error& e) {
    throw OutboxError("outbox " + file.string() + ": " + e.what());
  }
  OUTBOX_GUARD("cannot open")
}

OutboxStore::~OutboxStore() = default;

bool OutboxStore::add(const OutboxEntry& entry) {
  std::lock_guard lock(mutex_);
  try {
    std::string key = entry.key;
    std::string kind = entry.kind;
    std::string workItem = entry.workItemId;
    std::string replyId = entry.replyId;
    std::string correlation = entry.correlationId;
    std::string messageId = entry.messageId;
    std::string from = entry.envelopeFrom;
    std::string recipients = joinLines(entry.recipients);
    std::string customer = entry.customer;
    std::string bytes = entry.bytes;
    std::string state(toString(entry.state));
    Poco::Int64 attempts = entry.attempts;
    Poco::Int64 created = entry.created;
    Poco::Int64 next = entry.nextAttempt;
    std::string error = entry.lastError;
    Poco::Int64 resends = entry.uncertainResends;
    Poco::Int64 reported = entry.reported ? 1 : 0;
    Poco::Data::Statement insert(*session_);
    insert << "INSERT OR IGNORE INTO outbox (" << kColumns
           << ", updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        use(key), use(kind), use(workItem), use(replyId), use(correlation), use(messageId),
        use(from), use(recipients), use(customer), use(bytes), use(state), use(attempts),
        use(created), use(next), use(error), use(resends), use(reported), use(created);
    return insert.execute() > 0;
  }
  OUTBOX_GUARD("cannot add " + entry.key)
}

std::optional<OutboxEntry> OutboxStore::load(const std::string& where, const std::string& value) {
  std::string keyValue = value;
  OutboxEntry entry;
  std::string recipients;
  std::string state;
  Poco::Int64 attempts = 0;
  Poco::Int64 resends = 0;
  Poco::Int64 reported = 0;
  Poco::Data::Statement select(*session_);
  select << "SELECT " << kColumns << " FROM outbox WHERE " << where << " = ? LIMIT 1",
      into(entry.key), into(entry.kind), into(entry.workItemId), into(entry.replyId),
      into(entry.correlationId), into(entry.messageId), into(entry.envelopeFrom), into(recipients),
      into(entry.customer), into(entry.bytes), into(state), into(attempts), into(entry.created),
      into(entry.nextAttempt), into(entry.lastError), into(resends), into(reported), use(keyValue);
  if (select.execute() == 0) {
    return std::nullopt;
  }
  entry.recipients = splitLines(recipients);
  entry.state = stateOf(state);
  entry.attempts = static_cast<std::uint32_t>(attempts);
  entry.uncertainResends = static_cast<std::uint32_t>(resends);
  entry.reported = reported != 0;
  return entry;
}

std::optional<OutboxEntry> OutboxStore::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  try {
    return load("key", key);
  }
  OUTBOX_GUARD("cannot read " + key)
}

std::optional<OutboxEntry> OutboxStore::findByMessageId(const std::string& messageId) {
  std::lock_guard lock(mutex_);
  try {
    return load("message_id", messageId);
  }
  OUTBOX_GUARD("cannot read " + messageId)
}

std::vector<std::string> OutboxStore::due(Millis at, std::size_t limit) {
  std::lock_guard lock(mutex_);
  try {
    std::vector<std::string> keys;
    Poco::Int64 dueAt = at;
    Poco::Int64 most = static_cast<Poco::Int64>(limit);
    *session_ << "SELECT key FROM outbox WHERE state = 'queued' AND next_attempt <= ? "
                 "ORDER BY next_attempt, created LIMIT ?",
        into(keys), use(dueAt), use(most), now;
    return keys;
  }
  OUTBOX_GUARD("cannot list the due mails")
}

std::optional<Millis> OutboxStore::nextDue() {
  std::lock_guard lock(mutex_);
  try {
    std::vector<Poco::Int64> next;
    *session_ << "SELECT next_attempt FROM outbox WHERE state = 'queued' "
                 "ORDER BY next_attempt LIMIT 1",
        into(next), now;
    if (next.empty()) {
      return std::nullopt;
    }
    return next.front();
  }
  OUTBOX_GUARD("cannot read the next attempt")
}

void OutboxStore::setState(const std::string& key, OutboxState state, Millis at,
                           const std::optional<std::string>& error,
                           std::optional<Millis> nextAttempt) {
  std::string keyValue = key;
  std::string stateName(toString(state));
  Poco::Int64 updated = at;
  std::string reason = error.value_or("");
  Poco::Int64 keepError = error ? 0 : 1;
  Poco::Int64 next = nextAttempt.value_or(0);
  Poco::Int64 keepNext = nextAttempt ? 0 : 1;
  *session_ << "UPDATE outbox SET state = ?, updated = ?, "
               "last_error = CASE WHEN ? = 1 THEN last_error ELSE ? END, "
               "next_attempt = CASE WHEN ? = 1 THEN next_attempt ELSE ? END WHERE key = ?",
      use(stateName), use(updated), use(keepError), use(reason), use(keepNext), use(next),
      use(keyValue), now;
}

void OutboxStore::beginAttempt(const std::string& key, Millis at) {
  std::lock_guard lock(mutex_);
  try {
    std::string keyValue = key;
    Poco::Int64 updated = at;
    *session_ << "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated = ? "
                 "WHERE key = ?",
        use(updated), use(keyValue), now;
  }
  OUTBOX_GUARD("cannot record the attempt on " + key)
}

void OutboxStore::beginCommit(const std::string& key, Millis at) {
  std::lock_guard lock(mutex_);
  try {
    setState(key, OutboxState::Committing, at, std::nullopt, std::nullopt);
  }
  OUTBOX_GUARD("cannot record the commit of " + key)
}

void OutboxStore::markSent(const std::string& key, Millis at, const std::string& reply) {
  std::lock_guard lock(mutex_);
  try {
    setState(key, OutboxState::Sent, at, reply, std::nullopt);
  }
  OUTBOX_GUARD("cannot mark " + key + " sent")
}

void OutboxStore::retryLater(const std::string& key, Millis at, Millis nextAttempt,
                             const std::string& why) {
  std::lock_guard lock(mutex_);
  try {
    setState(key, OutboxState::Queued, at, why, nextAttempt);
  }
  OUTBOX_GUARD("cannot requeue " + key)
}

void OutboxStore::markFailed(const std::string& key, Millis at, const std::string& why) {
  std::lock_guard lock(mutex_);
  try {
    setState(key, OutboxState::Failed, at, why, std::nullopt);
  }
  OUTBOX_GUARD("cannot mark " + key + " failed")
}

void OutboxStore::markReported(const std::string& key) {
  std::lock_guard lock(mutex_);
  try {
    std::string keyValue = key;
    *session_ << "UPDATE outbox SET reported = 1 WHERE key = ?", use(keyValue), now;
  }
  OUTBOX_GUARD("cannot mark " + key + " reported")
}

std::vector<std::string> OutboxStore::unreported(std::size_t limit) {
  std::lock_guard lock(mutex_);
  try {
    std::vector<std::string> keys;
    Poco::Int64 most = static_cast<Poco::Int64>(limit);
    *session_ << "SELECT key FROM outbox WHERE reported = 0 AND state IN ('sent', 'failed') "
                 "ORDER BY updated LIMIT ?",
        into(keys), use(most), now;
    return keys;
  }
  OUTBOX_GUARD("cannot list unreported outcomes")
}

std::vector<std::string> OutboxStore::recover(Millis at, bool resendUncertain) {
  std::lock_guard lock(mutex_);
  try {
    std::vector<std::string> uncertain;
    *session_ << "SELECT key FROM outbox WHERE state = 'committing'", into(uncertain), now;
    Poco::Int64 updated = at;
    session_->begin();
    *session_ << "UPDATE outbox SET state = 'queued', next_attempt = ?, updated = ? "
                 "WHERE state = 'sending'",
        use(updated), use(updated), now;
    if (resendUncertain) {
      *session_ << "UPDATE outbox SET state = 'queued', next_attempt = ?, updated = ?, "
                   "uncertain_resends = uncertain_resends + 1 WHERE state = 'committing'",
          use(updated), use(updated), now;
    } else {
      *session_ << "UPDATE outbox SET state = 'failed', updated = ?, last_error = "
                   "'outcome unknown: the process stopped after the final \".\" was sent; the "
                   "relay may have accepted it (held, not resent)' WHERE state = 'committing'",
          use(updated), now;
    }
    session_->commit();
    return uncertain;
  }
  OUTBOX_GUARD("cannot recover")
}

bool OutboxStore::acknowledgedSince(const std::string& customer, Millis since) {
  std::lock_guard lock(mutex_);
  try {
    std::string who = customer;
    Poco::Int64 from = since;
    Poco::Int64 found = 0;
    *session_ << "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND customer = ? AND created >= ?",
        into(found), use(who), use(from), now;
    return found > 0;
  }
  OUTBOX_GUARD("cannot read acknowledgements")
}

std::size_t OutboxStore::pruneSent(Millis before) {
  std::lock_guard lock(mutex_);
  try {
    Poco::Int64 limit = before;
    Poco::Data::Statement prune(*session_);
    prune << "DELETE FROM outbox WHERE state = 'sent' AND reported = 1 AND updated < ?", use(limit);
    return prune.execute();
  }
  OUTBOX_GUARD("cannot prune")
}

OutboxCounts OutboxStore::counts() {
  std::lock_guard lock(mutex_);
  try {
    std::vector<std::string> states;
    std::vector<Poco::Int64> numbers;
    *session_ << "SELECT state, COUNT(*) FROM outbox GROUP BY state", into(states), into(numbers),
        now;
    OutboxCounts counts;
    for (std::size_t i = 0; i < states.size(); ++i) {
      auto n = static_cast<std::uint64_t>(numbers[i]);
      if (states[i] == "sent") {
        counts.sent += n;
      } else if (states[i] == "failed") {
        counts.failed += n;
      } else {
        counts.queued += n;
      }
    }
    return counts;
  }
  OUTBOX_GUARD("cannot count")
}

} // namespace switchboard::email
