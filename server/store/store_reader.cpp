#include "store_reader.h"

#include "store_writer.h"

#include <Poco/Data/LOB.h>
#include <Poco/Exception.h>
#include <Poco/Nullable.h>

#include <stdexcept>

namespace switchboard::store {

namespace {

using namespace Poco::Data::Keywords;
using Poco::Nullable;
using Poco::Data::Statement;

constexpr std::size_t kMaxIdleConnections = 4;

const std::string kItemColumns =
    "SELECT id, source, source_key, medium, state, priority, queue_id, "
    "agent_id, customer_ref, created_ms, updated_ms, "
    "offer_expires_ms, record FROM work_items";

template <class T>
std::optional<T> optional(const Nullable<T>& value) {
  return value.isNull() ? std::nullopt : std::optional<T>(value.value());
}

Timestamp timestamp(Poco::Int64 millis) {
  return Timestamp(std::chrono::milliseconds(millis));
}

std::string bytes(const Poco::Data::BLOB& blob) {
  if (blob.size() == 0) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(blob.rawContent()), blob.size());
}

// Work item rows, column by column, as Poco extracts them.
struct ItemRows {
  std::vector<std::string> ids;
  std::vector<std::string> sources;
  std::vector<Nullable<std::string>> sourceKeys;
  std::vector<std::string> media;
  std::vector<std::string> states;
  std::vector<int> priorities;
  std::vector<Nullable<std::string>> queues;
  std::vector<Nullable<std::string>> agents;
  std::vector<Nullable<std::string>> customerRefs;
  std::vector<Poco::Int64> created;
  std::vector<Poco::Int64> updated;
  std::vector<Nullable<Poco::Int64>> offerExpires;
  std::vector<std::string> records;

  void extractInto(Statement& statement) {
    statement.addExtract(into(ids));
    statement.addExtract(into(sources));
    statement.addExtract(into(sourceKeys));
    statement.addExtract(into(media));
    statement.addExtract(into(states));
    statement.addExtract(into(priorities));
    statement.addExtract(into(queues));
    statement.addExtract(into(agents));
    statement.addExtract(into(customerRefs));
    statement.addExtract(into(created));
    statement.addExtract(into(updated));
    statement.addExtract(into(offerExpires));
    statement.addExtract(into(records));
  }

  StoredWorkItem row(std::size_t i, const RecordCodec& codec) const {
    StoredWorkItem stored;
    std::optional<WorkItem> decoded = codec.decodeWorkItem(records[i]);
    if (decoded) {
      stored.item = std::move(*decoded);
    } else if (!customerRefs[i].isNull()) {
      // The record does not decode (written by a defect, or damaged): the columns still carry
      // everything routing and recovery need.
      stored.item.customer = Customer{};
      stored.item.customer->ref = customerRefs[i].value();
    }
    WorkItem& item = stored.item;
    item.id = ids[i];
    item.medium = media[i];
    item.state = enumFromString<WorkItemState>(states[i]);
    item.priority = priorities[i];
    item.queueId = optional(queues[i]);
    item.agentId = optional(agents[i]);
    item.created = timestamp(created[i]);
    item.sourceKey = optional(sourceKeys[i]);
    stored.source = sources[i];
    stored.updated = timestamp(updated[i]);
    if (!offerExpires[i].isNull()) {
      stored.offerExpires = timestamp(offerExpires[i].value());
    }
    return stored;
  }

  std::vector<StoredWorkItem> all(const RecordCodec& codec) const {
    std::vector<StoredWorkItem> items;
    items.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      items.push_back(row(i, codec));
    }
    return items;
  }
};

std::vector<HistoryEntry> history(SqlConnection& connection, std::string id) {
  std::vector<Poco::Int64> times;
  std::vector<Nullable<std::string>> states;
  std::vector<std::string> causes;
  std::vector<Nullable<std::string>> actors;
  connection.session() << connection.sql("SELECT time_ms, state, cause, actor_id FROM transitions "
                                         "WHERE work_item_id = ? ORDER BY id"),
      use(id), into(times), into(states), into(causes), into(actors), now;
  std::vector<HistoryEntry> entries(times.size());
  for (std::size_t i = 0; i < times.size(); ++i) {
    entries[i].time = timestamp(times[i]);
    if (!states[i].isNull()) {
      entries[i].state = enumFromString<WorkItemState>(states[i].value());
    }
    entries[i].cause = causes[i];
    entries[i].actorId = optional(actors[i]);
  }
  return entries;
}

} // namespace

StoreReader::StoreReader(const StoreOptions& options, const RecordCodec& codec)
    : options_(options), codec_(codec) {}

StoreReader::~StoreReader() = default;

std::unique_ptr<SqlConnection> StoreReader::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
  }
  return std::make_unique<SqlConnection>(options_, SqlConnection::Role::Reader);
}

void StoreReader::release(std::unique_ptr<SqlConnection> connection) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleConnections) {
    idle_.push_back(std::move(connection));
  }
}

template <class Query>
auto StoreReader::withConnection(const char* what, Query&& query) {
  std::unique_ptr<SqlConnection> connection = acquire();
  try {
    auto result = query(*connection);
    release(std::move(connection));
    return result;
  } catch (const Poco::Exception& e) {
    throw StoreError(std::string("cannot read ") + what + " from " + connection->description() +
                     ": " + redactLocation(e.displayText()));
  }
}

std::optional<StoredWorkItem> StoreReader::workItem(const std::string& id, bool withHistory) {
  return withConnection("a work item", [&](SqlConnection& connection) {
    ItemRows rows;
    std::string key = validUtf8(id);
    // An id is its row number written out (workItemId()), so the row is found by number; an
    // id written otherwise ("wi-12" for "wi-000012") names no item.
    std::optional<std::int64_t> number = workItemNumber(key);
    if (!number || workItemId(*number) != key) {
      return std::optional<StoredWorkItem>();
    }
    Poco::Int64 seq = *number;
    Statement statement(connection.session());
    statement << connection.sql(kItemColumns + " WHERE seq = ?");
    statement.addBind(use(seq));
    rows.extractInto(statement);
    statement.execute();
    std::optional<StoredWorkItem> stored;
    if (!rows.ids.empty()) {
      stored = rows.row(0, codec_);
      if (withHistory) {
        stored->item.history = history(connection, key);
      }
    }
    return stored;
  });
}

std::vector<StoredWorkItem> StoreReader::workItems(const WorkItemFilter& filter) {
  std::optional<std::int64_t> after;
  if (filter.afterId) {
    after = workItemNumber(*filter.afterId);
    if (!after) {
      throw std::invalid_argument("not a work item id: " + *filter.afterId);
    }
  }
  return withConnection("work items", [&](SqlConnection& connection) {
    // Values for the placeholders; reserved up front because the statement binds references.
    std::vector<std::string> values;
    values.reserve(4);
    std::string where;
    auto condition = [&](const char* column, const std::optional<std::string>& value) {
      if (value) {
        where += where.empty() ? " WHERE " : " AND ";
        where += column;
        where += " = ?";
        values.push_back(validUtf8(*value));
      }
    };
    condition("state",
              filter.state ? std::optional<std::string>(toString(*filter.state)) : std::nullopt);
    condition("queue_id", filter.queueId);
    condition("agent_id", filter.agentId);
    condition("medium", filter.medium);
    Poco::Int64 afterNumber = after.value_or(0);
    Poco::Int64 limit = static_cast<Poco::Int64>(filter.limit);
    where += where.empty() ? " WHERE " : " AND ";
    where += "seq > ? ORDER BY seq LIMIT ?";

    ItemRows rows;
    Statement statement(connection.session());
    statement << connection.sql(kItemColumns + where);
    for (std::string& value : values) {
      statement.addBind(use(value));
    }
    statement.addBind(use(afterNumber));
    statement.addBind(use(limit));
    rows.extractInto(statement);
    statement.execute();
    return rows.all(codec_);
  });
}

std::vector<StoredWorkItem> StoreReader::openWorkItems() {
  return withConnection("open work items", [&](SqlConnection& connection) {
    ItemRows rows;
    Statement statement(connection.session());
    statement << kItemColumns + " WHERE state IN ('new', 'queued', 'offered', 'accepted')"
                                " ORDER BY created_ms, seq";
    rows.extractInto(statement);
    statement.execute();
    return rows.all(codec_);
  });
}

std::vector<StoredAgent> StoreReader::agents() {
  return withConnection("agents", [&](SqlConnection& connection) {
    std::vector<std::string> ids;
    std::vector<Nullable<std::string>> states;
    std::vector<int> loggedIn;
    std::vector<Poco::Int64> updated;
    std::vector<std::string> records;
    connection.session() << "SELECT id, state, logged_in, updated_ms, record FROM agents "
                            "ORDER BY id",
        into(ids), into(states), into(loggedIn), into(updated), into(records), now;
    std::vector<StoredAgent> agents(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      std::optional<Agent> decoded = codec_.decodeAgent(records[i]);
      if (decoded) {
        agents[i].agent = std::move(*decoded);
      }
      agents[i].agent.id = ids[i];
      agents[i].agent.state =
          states[i].isNull() ? std::nullopt : enumFromString<AgentState>(states[i].value());
      agents[i].loggedIn = loggedIn[i] != 0;
      agents[i].updated = timestamp(updated[i]);
    }
    return agents;
  });
}

std::vector<DeadLetter> StoreReader::deadLetters(std::size_t limit) {
  return withConnection("dead letters", [&](SqlConnection& connection) {
    Poco::Int64 count = static_cast<Poco::Int64>(limit);
    std::vector<Poco::Int64> ids;
    std::vector<Poco::Int64> times;
    std::vector<std::string> sources;
    std::vector<std::string> reasons;
    std::vector<Poco::Data::BLOB> documents;
    connection.session() << connection.sql("SELECT id, time_ms, source, reason, document FROM "
                                           "dead_letters ORDER BY id DESC LIMIT ?"),
        use(count), into(ids), into(times), into(sources), into(reasons), into(documents), now;
    std::vector<DeadLetter> letters(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      letters[i].id = ids[i];
      letters[i].time = timestamp(times[i]);
      letters[i].source = sources[i];
      letters[i].reason = reasons[i];
      letters[i].document = bytes(documents[i]);
    }
    return letters;
  });
}

std::optional<StoredResponse> StoreReader::response(const std::string& key) {
  return withConnection("a stored response", [&](SqlConnection& connection) {
    std::string wanted = validUtf8(key);
    std::vector<std::string> hashes;
    std::vector<int> statuses;
    std::vector<std::string> types;
    std::vector<Poco::Data::BLOB> bodies;
    std::vector<Poco::Int64> times;
    connection.session() << connection.sql("SELECT request_hash, status, content_type, body, "
                                           "time_ms FROM api_responses "
                                           "WHERE idempotency_key = ?"),
        use(wanted), into(hashes), into(statuses), into(types), into(bodies), into(times), now;
    std::optional<StoredResponse> stored;
    if (!hashes.empty()) {
      stored = StoredResponse{key,      hashes[0],        statuses[0],
                              types[0], bytes(bodies[0]), timestamp(times[0])};
    }
    return stored;
  });
}

// Work item steps and agent state changes are two logs with ids of their own; both read as
// (id, time, subject, state, cause, actor).
std::vector<StoreEvent> StoreReader::events(StoreEvent::Subject subject, std::int64_t afterId,
                                            std::size_t limit) {
  return withConnection("events", [&](SqlConnection& connection) {
    bool items = subject == StoreEvent::Subject::WorkItem;
    Poco::Int64 after = afterId;
    Poco::Int64 count = static_cast<Poco::Int64>(limit);
    std::vector<Poco::Int64> ids;
    std::vector<Poco::Int64> times;
    std::vector<std::string> subjects;
    std::vector<Nullable<std::string>> states;
    std::vector<Nullable<std::string>> causes;
    std::vector<Nullable<std::string>> actors;
    connection.session() << connection.sql(
        items ? "SELECT id, time_ms, work_item_id, state, cause, actor_id "
                "FROM transitions WHERE id > ? ORDER BY id LIMIT ?"
              : "SELECT id, time_ms, agent_id, state, reason, NULL "
                "FROM agent_transitions WHERE id > ? ORDER BY id LIMIT ?"),
        use(after), use(count), into(ids), into(times), into(subjects), into(states), into(causes),
        into(actors), now;
    std::vector<StoreEvent> events(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      events[i].subject = subject;
      events[i].id = ids[i];
      events[i].time = timestamp(times[i]);
      events[i].subjectId = subjects[i];
      events[i].state = optional(states[i]).value_or("");
      events[i].cause = optional(causes[i]).value_or("");
      events[i].actorId = optional(actors[i]);
    }
    return events;
  });
}

std::int64_t StoreReader::eventCursorAt(StoreEvent::Subject subject, std::int64_t timeMs) {
  return withConnection("an event cursor", [&](SqlConnection& connection) {
    Poco::Int64 time = timeMs;
    std::vector<Nullable<Poco::Int64>> found;
    connection.session() << connection.sql(
        subject == StoreEvent::Subject::WorkItem
            ? "SELECT MIN(id) FROM transitions WHERE time_ms >= ?"
            : "SELECT MIN(id) FROM agent_transitions "
              "WHERE time_ms >= ?"),
        use(time), into(found), now;
    if (!found.empty() && !found.front().isNull()) {
      return static_cast<std::int64_t>(found.front().value()) - 1;
    }
    // Nothing happened since: the cursor stands after the last event.
    std::vector<Nullable<Poco::Int64>> last;
    connection.session() << (subject == StoreEvent::Subject::WorkItem
                                 ? "SELECT MAX(id) FROM transitions"
                                 : "SELECT MAX(id) FROM agent_transitions"),
        into(last), now;
    return !last.empty() && !last.front().isNull() ? static_cast<std::int64_t>(last.front().value())
                                                   : std::int64_t{0};
  });
}

std::optional<std::int64_t> StoreReader::cursor(const std::string& name) {
  return withConnection("a cursor", [&](SqlConnection& connection) {
    std::string wanted = name;
    std::vector<Poco::Int64> values;
    connection.session() << connection.sql("SELECT value FROM cursors WHERE name = ?"), use(wanted),
        into(values), now;
    return values.empty() ? std::nullopt
                          : std::optional<std::int64_t>(static_cast<std::int64_t>(values[0]));
  });
}

} // namespace switchboard::store
