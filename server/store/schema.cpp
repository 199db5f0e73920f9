#include "schema.h"

#include <Poco/Exception.h>

#include <chrono>
#include <optional>

namespace switchboard::store {

namespace {

using namespace Poco::Data::Keywords;

// Never edit a migration that has shipped: add a new one.
const std::vector<Migration> kMigrations{
    {1,
     "work items, transitions, idempotency keys, agents, dead letters, API responses",
     {
         // Work item numbers are handed out from here inside the committing transaction, so
         // that several server nodes sharing one PostgreSQL never hand out the same id.
         "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
         "INSERT INTO counters (name, value) VALUES ('work_item', 0)",
         // record: the item as a message document, without the fields held in columns.
         "CREATE TABLE work_items ("
         " seq {rowid},"
         " id TEXT NOT NULL UNIQUE,"
         " source TEXT NOT NULL,"
         " source_key TEXT,"
         " medium TEXT NOT NULL,"
         " state TEXT NOT NULL,"
         " priority INTEGER NOT NULL,"
         " queue_id TEXT,"
         " agent_id TEXT,"
         " customer_ref TEXT,"
         " created_ms BIGINT NOT NULL,"
         " updated_ms BIGINT NOT NULL,"
         " offer_expires_ms BIGINT,"
         " record TEXT NOT NULL)",
         "CREATE TABLE idempotency_keys ("
         " source TEXT NOT NULL,"
         " source_key TEXT NOT NULL,"
         " work_item_id TEXT NOT NULL,"
         " created_ms BIGINT NOT NULL,"
         " PRIMARY KEY (source, source_key))",
         "CREATE TABLE transitions ("
         " id {serial},"
         " work_item_id TEXT NOT NULL,"
         " time_ms BIGINT NOT NULL,"
         " state TEXT,"
         " cause TEXT NOT NULL,"
         " actor_id TEXT)",
         "CREATE TABLE agents ("
         " id TEXT PRIMARY KEY,"
         " state TEXT,"
         " logged_in INTEGER NOT NULL,"
         " updated_ms BIGINT NOT NULL,"
         " record TEXT NOT NULL)",
         "CREATE TABLE dead_letters ("
         " id {serial},"
         " time_ms BIGINT NOT NULL,"
         " source TEXT NOT NULL,"
         " reason TEXT NOT NULL,"
         " document {blob} NOT NULL,"
         " original_size BIGINT NOT NULL)",
         "CREATE TABLE api_responses ("
         " idempotency_key TEXT PRIMARY KEY,"
         " request_hash TEXT NOT NULL,"
         " status INTEGER NOT NULL,"
         " content_type TEXT NOT NULL,"
         " body {blob} NOT NULL,"
         " time_ms BIGINT NOT NULL)",
     }},
    {2,
     "indexes for history, state, queue and agent lookups",
     {
         "CREATE INDEX transitions_work_item ON transitions (work_item_id, id)",
         "CREATE INDEX work_items_state ON work_items (state, seq)",
         "CREATE INDEX work_items_queue ON work_items (queue_id, seq) WHERE queue_id IS NOT NULL",
         "CREATE INDEX work_items_agent ON work_items (agent_id, seq) WHERE agent_id IS NOT NULL",
     }},
    {3,
     "agent state events and consumer cursors (web hooks)",
     {
         "CREATE TABLE agent_transitions ("
         " id {serial},"
         " agent_id TEXT NOT NULL,"
         " time_ms BIGINT NOT NULL,"
         " state TEXT NOT NULL,"
         " reason TEXT)",
         "CREATE TABLE cursors ("
         " name TEXT PRIMARY KEY,"
         " value BIGINT NOT NULL,"
         " updated_ms BIGINT NOT NULL)",
         "CREATE INDEX transitions_time ON transitions (time_ms, id)",
         "CREATE INDEX agent_transitions_time ON agent_transitions (time_ms, id)",
     }},
    {4,
     "work items without a unique index on id (an id is its row number written out)",
     {
         // Every id is workItemId(seq), so seq, the primary key, already keeps ids unique and
         // finds an item by id. The index cost every new item a B-tree insert and every
         // transaction of new items its pages in the log. SQLite cannot drop a column's UNIQUE
         // constraint: the table is made again without it, and its indexes with it.
         "{sqlite}CREATE TABLE work_items_v4 ("
         " seq INTEGER PRIMARY KEY,"
         " id TEXT NOT NULL,"
         " source TEXT NOT NULL,"
         " source_key TEXT,"
         " medium TEXT NOT NULL,"
         " state TEXT NOT NULL,"
         " priority INTEGER NOT NULL,"
         " queue_id TEXT,"
         " agent_id TEXT,"
         " customer_ref TEXT,"
         " created_ms BIGINT NOT NULL,"
         " updated_ms BIGINT NOT NULL,"
         " offer_expires_ms BIGINT,"
         " record TEXT NOT NULL)",
         "{sqlite}INSERT INTO work_items_v4 (seq, id, source, source_key, medium, state, priority,"
         " queue_id, agent_id, customer_ref, created_ms, updated_ms, offer_expires_ms, record)"
         " SELECT seq, id, source, source_key, medium, state, priority, queue_id, agent_id,"
         " customer_ref, created_ms, updated_ms, offer_expires_ms, record FROM work_items",
         "{sqlite}DROP TABLE work_items",
         "{sqlite}ALTER TABLE work_items_v4 RENAME TO work_items",
         "{sqlite}CREATE INDEX work_items_state ON work_items (state, seq)",
         "{sqlite}CREATE INDEX work_items_queue ON work_items (queue_id, seq) "
         "WHERE queue_id IS NOT NULL",
         "{sqlite}CREATE INDEX work_items_agent ON work_items (agent_id, seq) "
         "WHERE agent_id IS NOT NULL",
         "{postgresql}ALTER TABLE work_items DROP CONSTRAINT IF EXISTS work_items_id_key",
     }},
};

std::string replaceAll(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The statement for `dialect`, or nothing when it is marked for the other one.
std::optional<std::string> forDialect(std::string_view statement, SqlDialect dialect) {
  bool sqlite = dialect == SqlDialect::Sqlite;
  constexpr std::string_view kSqliteOnly = "{sqlite}";
  constexpr std::string_view kPostgresqlOnly = "{postgresql}";
  if (statement.starts_with(kSqliteOnly)) {
    if (!sqlite) {
      return std::nullopt;
    }
    statement.remove_prefix(kSqliteOnly.size());
  } else if (statement.starts_with(kPostgresqlOnly)) {
    if (sqlite) {
      return std::nullopt;
    }
    statement.remove_prefix(kPostgresqlOnly.size());
  }
  std::string text(statement);
  // In SQLite only "INTEGER PRIMARY KEY" makes the column the row id (64-bit, no extra index).
  text =
      replaceAll(std::move(text), "{rowid}", sqlite ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY");
  text = replaceAll(std::move(text), "{serial}",
                    sqlite ? "INTEGER PRIMARY KEY"
                           : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
  return replaceAll(std::move(text), "{blob}", sqlite ? "BLOB" : "BYTEA");
}

void createVersionTable(SqlConnection& connection) {
  connection.session() << "CREATE TABLE IF NOT EXISTS schema_version ("
                          " version INTEGER PRIMARY KEY,"
                          " description TEXT NOT NULL,"
                          " applied_ms BIGINT NOT NULL)",
      now;
}

int readVersion(SqlConnection& connection) {
  std::vector<int> versions;
  connection.session() << "SELECT version FROM schema_version ORDER BY version DESC LIMIT 1",
      into(versions), now;
  return versions.empty() ? 0 : versions.front();
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

const std::vector<Migration>& Schema::migrations() {
  return kMigrations;
}

int Schema::latestVersion() {
  return kMigrations.back().version;
}

int Schema::version(SqlConnection& connection) {
  try {
    createVersionTable(connection);
    return readVersion(connection);
  } catch (const Poco::Exception& e) {
    throw StoreError("cannot read the schema version of " + connection.description() + ": " +
                     e.displayText());
  }
}

void Schema::migrate(SqlConnection& connection, int target) {
  int current = version(connection);
  if (current > latestVersion()) {
    throw StoreError("the store " + connection.description() + " has schema version " +
                     std::to_string(current) + ", newer than this build knows (" +
                     std::to_string(latestVersion()) +
                     "); run a Switchboard at least as new as the one that migrated it");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current || migration.version > target) {
      continue;
    }
    try {
      connection.begin();
      if (connection.dialect() == SqlDialect::Postgresql) {
        // SQLite's BEGIN IMMEDIATE already excludes other writers.
        connection.session() << "LOCK TABLE schema_version IN EXCLUSIVE MODE", now;
      }
      if (readVersion(connection) >= migration.version) {
        connection.commit(); // another process applied it while we waited
        continue;
      }
      for (std::string_view statement : migration.statements) {
        if (std::optional<std::string> text = forDialect(statement, connection.dialect())) {
          connection.session() << *text, now;
        }
      }
      int number = migration.version;
      std::string description(migration.description);
      std::int64_t applied = nowMillis();
      connection.session() << connection.sql("INSERT INTO schema_version (version, description, "
                                             "applied_ms) VALUES (?, ?, ?)"),
          use(number), use(description), use(applied), now;
      connection.commit();
    } catch (const Poco::Exception& e) {
      connection.rollback();
      throw StoreError("migration " + std::to_string(migration.version) + " of " +
                       connection.description() + " failed: " + e.displayText());
    }
  }
}

} // namespace switchboard::store
