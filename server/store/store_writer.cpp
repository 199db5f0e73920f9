#include "store_writer.h"

#include "schema.h"

#include <Poco/Exception.h>

#include <charconv>
#include <cstdio>

namespace switchboard::store {

namespace {

SqlValue text(const std::optional<std::string>& value) {
  return value ? SqlValue(std::string_view(*value)) : SqlValue();
}

SqlValue number(const std::optional<std::int64_t>& value) {
  return value ? SqlValue(*value) : SqlValue();
}

SqlValue number(const std::optional<int>& value) {
  return value ? SqlValue(std::int64_t{*value}) : SqlValue();
}

} // namespace

std::string workItemId(std::int64_t number) {
  char text[32];
  std::snprintf(text, sizeof text, "wi-%06lld", static_cast<long long>(number));
  return text;
}

std::optional<std::int64_t> workItemNumber(std::string_view id) {
  if (!id.starts_with("wi-") || id.size() == 3) {
    return std::nullopt;
  }
  std::int64_t number = 0;
  auto [end, error] = std::from_chars(id.data() + 3, id.data() + id.size(), number);
  if (error != std::errc() || end != id.data() + id.size() || number < 0) {
    return std::nullopt;
  }
  return number;
}

// Each statement is compiled once per connection and run again for every write.
struct StoreWriter::Statements {
  explicit Statements(SqlConnection& c)
      : keyInsert(c.prepare("INSERT INTO idempotency_keys (source, source_key, work_item_id, "
                            "created_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")),
        keyLookup(c.prepare("SELECT work_item_id FROM idempotency_keys WHERE source = ? AND "
                            "source_key = ?")),
        itemInsert(c.prepare("INSERT INTO work_items (seq, id, source, source_key, medium, "
                             "state, priority, queue_id, agent_id, customer_ref, created_ms, "
                             "updated_ms, offer_expires_ms, record) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
        itemUpdate(c.prepare("UPDATE work_items SET state = ?,"
                             " queue_id = CASE WHEN ? = 1 THEN ? ELSE queue_id END,"
                             " agent_id = CASE WHEN ? = 1 THEN ? ELSE agent_id END,"
                             " customer_ref = CASE WHEN ? = 1 THEN ? ELSE customer_ref END,"
                             " offer_expires_ms = ?,"
                             " record = COALESCE(?, record),"
                             " medium = COALESCE(?, medium),"
                             " priority = COALESCE(?, priority),"
                             " updated_ms = ?"
                             " WHERE seq = ?")),
        transitionInsert(c.prepare("INSERT INTO transitions (work_item_id, time_ms, state, "
                                   "cause, actor_id) VALUES (?, ?, ?, ?, ?)")),
        counterRead(c.prepare(c.dialect() == SqlDialect::Postgresql
                                  ? "SELECT value FROM counters WHERE name = 'work_item' "
                                    "FOR UPDATE"
                                  : "SELECT value FROM counters WHERE name = 'work_item'")),
        counterWrite(c.prepare("UPDATE counters SET value = ? WHERE name = 'work_item'")),
        agentUpsert(c.prepare("INSERT INTO agents (id, state, logged_in, updated_ms, record) "
                              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                              "state = excluded.state, logged_in = excluded.logged_in, "
                              "updated_ms = excluded.updated_ms, record = excluded.record")),
        deadLetterInsert(c.prepare("INSERT INTO dead_letters (time_ms, source, reason, "
                                   "document, original_size) VALUES (?, ?, ?, ?, ?) "
                                   "RETURNING id")),
        responseInsert(c.prepare("INSERT INTO api_responses (idempotency_key, request_hash, "
                                 "status, content_type, body, time_ms) "
                                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")),
        agentTransitionInsert(c.prepare("INSERT INTO agent_transitions (agent_id, time_ms, "
                                        "state, reason) VALUES (?, ?, ?, ?)")),
        cursorUpsert(c.prepare("INSERT INTO cursors (name, value, updated_ms) VALUES (?, ?, ?) "
                               "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                               "updated_ms = excluded.updated_ms")) {}

  std::unique_ptr<PreparedStatement> keyInsert;
  std::unique_ptr<PreparedStatement> keyLookup;
  std::unique_ptr<PreparedStatement> itemInsert;
  std::unique_ptr<PreparedStatement> itemUpdate;
  std::unique_ptr<PreparedStatement> transitionInsert;
  std::unique_ptr<PreparedStatement> counterRead;
  std::unique_ptr<PreparedStatement> counterWrite;
  std::unique_ptr<PreparedStatement> agentUpsert;
  std::unique_ptr<PreparedStatement> deadLetterInsert;
  std::unique_ptr<PreparedStatement> responseInsert;
  std::unique_ptr<PreparedStatement> agentTransitionInsert;
  std::unique_ptr<PreparedStatement> cursorUpsert;
};

StoreWriter::StoreWriter(const StoreOptions& options)
    : connection_(std::make_unique<SqlConnection>(options, SqlConnection::Role::Writer)) {
  Schema::migrate(*connection_);
  prepare();
  if (connection_->dialect() == SqlDialect::Sqlite) {
    numbersInMemory_ = true;
    // Work items are never deleted, so the highest number stored is the last one handed out
    // that counts. The counters row is read too: stores written before the numbers were kept
    // in memory advanced it.
    std::int64_t highest = 0;
    connection_->session() << "SELECT max(COALESCE((SELECT value FROM counters WHERE name = "
                              "'work_item'), 0), COALESCE((SELECT max(seq) FROM work_items), 0))",
        Poco::Data::Keywords::into(highest), Poco::Data::Keywords::now;
    issued_ = highest;
  }
}

std::optional<std::int64_t> StoreWriter::reserveNumber() {
  if (!numbersInMemory_) {
    return std::nullopt;
  }
  return issued_.fetch_add(1, std::memory_order_relaxed) + 1;
}

StoreWriter::~StoreWriter() = default;

void StoreWriter::prepare() {
  statements_.reset();
  statements_ = std::make_unique<Statements>(*connection_);
}

void StoreWriter::commit(std::span<PendingWrite* const> batch) {
  if (!statements_) {
    throw StoreError("the store " + connection_->description() + " is not reachable");
  }
  lastNumber_.reset();
  numberUsed_ = false;
  try {
    connection_->begin();
    for (PendingWrite* pending : batch) {
      pending->refusal.reset();
      std::visit(
          [&](auto& write) {
            using Write = std::decay_t<decltype(write)>;
            if constexpr (std::is_same_v<Write, ChangeWrite>) {
              apply(write, *pending);
            } else if constexpr (!std::is_same_v<Write, FlushWrite>) {
              apply(write);
            }
          },
          pending->body);
    }
    // With numbers kept in memory the counters row is not written: the rows themselves say
    // which numbers were used, and a transaction spared that page writes a page less to the log.
    if (numberUsed_ && !numbersInMemory_) {
      statements_->counterWrite->execute({*lastNumber_});
    }
    connection_->commit();
  } catch (const Poco::Exception& e) {
    throw StoreError("the store " + connection_->description() +
                     " failed a transaction: " + redactLocation(e.displayText()));
  }
}

bool StoreWriter::recover() noexcept {
  connection_->rollback();
  try {
    statements_.reset();
    if (!connection_->healthy()) {
      connection_->reconnect();
    }
    prepare();
    return true;
  } catch (...) {
    statements_.reset();
    return false;
  }
}

std::int64_t StoreWriter::nextNumber() {
  if (!lastNumber_) {
    std::optional<std::string> value = statements_->counterRead->queryOne({});
    if (!value) {
      throw StoreError("the store " + connection_->description() + " has no work item counter");
    }
    lastNumber_ = std::stoll(*value);
  }
  return *lastNumber_ + 1;
}

// The apply functions read the write and leave it as it was: a write whose batch failed is
// applied again in a transaction of its own.
void StoreWriter::apply(ArrivalWrite& write) {
  if (numbersInMemory_ && !write.number && write.sourceKey) {
    // A duplicate takes no number: numbers run without gaps when the same mail comes twice.
    std::optional<std::string> first = statements_->keyLookup->queryOne(
        {std::string_view(write.source), std::string_view(*write.sourceKey)});
    if (first) {
      write.outcome = ArrivalOutcome{*first, true};
      return;
    }
  }
  if (numbersInMemory_ && !write.number) {
    write.number = *reserveNumber();
  }
  std::int64_t seq = write.number ? *write.number : nextNumber();
  std::string id = workItemId(seq);
  if (write.sourceKey) {
    std::size_t inserted = statements_->keyInsert->execute({std::string_view(write.source),
                                                            std::string_view(*write.sourceKey),
                                                            std::string_view(id), write.createdMs});
    if (inserted == 0) {
      std::optional<std::string> first = statements_->keyLookup->queryOne(
          {std::string_view(write.source), std::string_view(*write.sourceKey)});
      if (!first) {
        throw StoreError("the idempotency key of " + write.source + " vanished");
      }
      write.outcome = ArrivalOutcome{*first, true};
      return;
    }
  }
  statements_->itemInsert->execute(
      {seq, std::string_view(id), std::string_view(write.source), text(write.sourceKey),
       std::string_view(write.medium), std::string_view(write.state), std::int64_t{write.priority},
       text(write.queueId), text(write.agentId), text(write.customerRef), write.createdMs,
       write.createdMs, number(write.offerExpiresMs), std::string_view(write.record)});
  lastNumber_ = std::max(lastNumber_.value_or(seq), seq);
  numberUsed_ = true;
  for (const HistoryRow& row : write.history) {
    insertHistory(id, row);
  }
  write.outcome = ArrivalOutcome{id, false};
}

void StoreWriter::apply(ChangeWrite& write, PendingWrite& pending) {
  if (!write.seq) {
    pending.refusal = "no work item " + write.workItemId;
    return;
  }
  // By row number rather than by id: the row is found without a search of the id index.
  std::size_t changed = statements_->itemUpdate->execute(
      {std::string_view(write.state), std::int64_t{write.setQueue ? 1 : 0}, text(write.queueId),
       std::int64_t{write.setAgent ? 1 : 0}, text(write.agentId),
       std::int64_t{write.setCustomerRef ? 1 : 0}, text(write.customerRef),
       number(write.offerExpiresMs), text(write.record), text(write.medium), number(write.priority),
       write.updatedMs, *write.seq});
  if (changed == 0) {
    pending.refusal = "no work item " + write.workItemId;
    return;
  }
  insertHistory(write.workItemId, write.entry);
}

void StoreWriter::insertHistory(const std::string& id, const HistoryRow& row) {
  statements_->transitionInsert->execute({std::string_view(id), row.timeMs, text(row.state),
                                          std::string_view(row.cause), text(row.actorId)});
}

void StoreWriter::apply(AgentWrite& write) {
  statements_->agentUpsert->execute({std::string_view(write.id), text(write.state),
                                     std::int64_t{write.loggedIn}, write.updatedMs,
                                     std::string_view(write.record)});
  if (write.stateChanged && write.state) {
    statements_->agentTransitionInsert->execute({std::string_view(write.id), write.updatedMs,
                                                 std::string_view(*write.state),
                                                 text(write.reason)});
  }
}

void StoreWriter::apply(CursorWrite& write) {
  statements_->cursorUpsert->execute({std::string_view(write.name), write.value, write.updatedMs});
}

void StoreWriter::apply(DeadLetterWrite& write) {
  std::optional<std::string> id = statements_->deadLetterInsert->queryOne(
      {write.timeMs, std::string_view(write.source), std::string_view(write.reason),
       SqlBytes{write.document}, write.originalSize});
  if (!id) {
    throw StoreError("the store " + connection_->description() + " returned no dead letter id");
  }
  write.id = std::stoll(*id);
}

void StoreWriter::apply(ResponseWrite& write) {
  statements_->responseInsert->execute(
      {std::string_view(write.key), std::string_view(write.requestHash), std::int64_t{write.status},
       std::string_view(write.contentType), SqlBytes{write.body}, write.timeMs});
}

} // namespace switchboard::store
