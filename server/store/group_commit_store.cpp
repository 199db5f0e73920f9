#include "group_commit_store.h"

#include <algorithm>
#include <chrono>

namespace switchboard::store {

namespace {

// Dead letters keep the start of what arrived; beyond this the bytes are of no help to anyone.
constexpr std::size_t kMaxDeadLetterBytes = 1024 * 1024;
constexpr int kDefaultPriority = 50;

std::int64_t millis(Timestamp time) {
  return time.time_since_epoch().count();
}

// `time`, or now when it was left unset.
std::int64_t millisOrNow(Timestamp time) {
  if (time != Timestamp{}) {
    return millis(time);
  }
  return millis(std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()));
}

std::optional<std::string> valid(const std::optional<std::string>& text) {
  return text ? std::optional<std::string>(validUtf8(*text)) : std::nullopt;
}

// An empty id in a change clears the column; absent keeps it.
void setOrClear(const std::optional<std::string>& requested, bool& set,
                std::optional<std::string>& value) {
  if (requested) {
    set = true;
    value = requested->empty() ? std::nullopt : valid(requested);
  }
}

template <class T>
std::shared_future<T> failed(const std::string& reason) {
  std::promise<T> promise;
  promise.set_exception(std::make_exception_ptr(StoreError(reason)));
  return promise.get_future().share();
}

} // namespace

GroupCommitStore::GroupCommitStore(const StoreOptions& options)
    : options_(options), writer_(options), reader_(options, codec_) {
  options_.maxBatch = std::max<std::size_t>(options_.maxBatch, 1);
  committer_ = std::thread([this] { commitLoop(); });
}

GroupCommitStore::~GroupCommitStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  committer_.join();
}

void GroupCommitStore::enqueue(std::unique_ptr<PendingWrite> write) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(write));
    }
  }
  if (write) { // not moved into the queue: the store is closing
    write->fail("the store " + writer_.connection().description() + " is closing");
    return;
  }
  wake_.notify_one();
}

std::unique_ptr<PendingWrite> GroupCommitStore::arrivalWrite(const NewWorkItem& arrival) const {
  auto pending = std::make_unique<PendingWrite>();
  auto& write = pending->body.emplace<ArrivalWrite>();
  if (arrival.reservedId) {
    write.number = workItemNumber(*arrival.reservedId);
    if (!write.number || workItemId(*write.number) != *arrival.reservedId) {
      throw StoreError("the reserved work item id " + *arrival.reservedId + " is not one");
    }
  }
  const WorkItem& item = arrival.item;
  WorkItemState state = item.state.value_or(WorkItemState::New);
  write.source = validUtf8(arrival.source);
  write.sourceKey = valid(item.sourceKey);
  write.medium = validUtf8(item.medium);
  write.state = toString(state);
  write.priority = item.priority.value_or(kDefaultPriority);
  write.queueId = valid(item.queueId);
  write.agentId = valid(item.agentId);
  if (item.customer) {
    write.customerRef = valid(item.customer->ref);
  }
  write.createdMs = millisOrNow(arrival.receivedAt);
  if (arrival.offerExpires) {
    write.offerExpiresMs = millis(*arrival.offerExpires);
  }
  write.record = codec_.encodeWorkItem(item);
  auto row = [](const HistoryEntry& entry) {
    return HistoryRow{millis(entry.time),
                      entry.state ? std::optional<std::string>(toString(*entry.state))
                                  : std::nullopt,
                      validUtf8(entry.cause), valid(entry.actorId)};
  };
  for (const HistoryEntry& entry : item.history) {
    write.history.push_back(row(entry));
  }
  // A routed arrival was new when it arrived, whatever state its steps left it in.
  write.history.push_back(
      HistoryRow{write.createdMs,
                 arrival.steps.empty() ? write.state : std::string(toString(WorkItemState::New)),
                 "arrived", std::optional<std::string>(write.source)});
  for (const HistoryEntry& entry : arrival.steps) {
    write.history.push_back(row(entry));
  }
  return pending;
}

std::optional<std::string> GroupCommitStore::reserveWorkItemId() {
  std::optional<std::int64_t> number = writer_.reserveNumber();
  return number ? std::optional<std::string>(workItemId(*number)) : std::nullopt;
}

ArrivalOutcome GroupCommitStore::commitArrival(const NewWorkItem& arrival) {
  auto pending = arrivalWrite(arrival);
  std::future<ArrivalOutcome> done = std::get<ArrivalWrite>(pending->body).done.get_future();
  enqueue(std::move(pending));
  return done.get();
}

void GroupCommitStore::commitArrivalAsync(const NewWorkItem& arrival, ArrivalDone done) {
  auto pending = arrivalWrite(arrival);
  std::get<ArrivalWrite>(pending->body).callback = std::move(done);
  enqueue(std::move(pending));
}

std::shared_future<void> GroupCommitStore::recordChange(const WorkItemChange& change) {
  if (change.record && change.record->id && *change.record->id != change.workItemId) {
    return failed<void>("the record of a change to " + change.workItemId + " has the id " +
                        *change.record->id);
  }
  auto pending = std::make_unique<PendingWrite>();
  auto& write = pending->body.emplace<ChangeWrite>();
  write.workItemId = validUtf8(change.workItemId);
  if (auto number = workItemNumber(write.workItemId);
      number && workItemId(*number) == write.workItemId) {
    write.seq = number;
  }
  write.state = toString(change.state);
  setOrClear(change.queueId, write.setQueue, write.queueId);
  setOrClear(change.agentId, write.setAgent, write.agentId);
  if (change.state == WorkItemState::Offered && change.offerExpires) {
    write.offerExpiresMs = millis(*change.offerExpires);
  }
  if (change.record) {
    const WorkItem& record = *change.record;
    write.record = codec_.encodeWorkItem(record);
    write.medium = validUtf8(record.medium);
    write.priority = record.priority;
    write.setCustomerRef = true;
    if (record.customer) {
      write.customerRef = valid(record.customer->ref);
    }
  }
  write.updatedMs = millisOrNow(change.entry.time);
  write.entry = HistoryRow{write.updatedMs, write.state, validUtf8(change.entry.cause),
                           valid(change.entry.actorId)};
  std::shared_future<void> done = write.done.get_future().share();
  enqueue(std::move(pending));
  return done;
}

std::shared_future<void> GroupCommitStore::saveAgent(const StoredAgent& agent) {
  if (agent.agent.id.empty()) {
    return failed<void>("an agent without an id cannot be saved");
  }
  auto pending = std::make_unique<PendingWrite>();
  auto& write = pending->body.emplace<AgentWrite>();
  write.id = validUtf8(agent.agent.id);
  if (agent.agent.state) {
    write.state = std::string(toString(*agent.agent.state));
  }
  write.loggedIn = agent.loggedIn ? 1 : 0;
  write.updatedMs = millisOrNow(agent.updated);
  write.record = codec_.encodeAgent(agent.agent);
  write.stateChanged = agent.stateChanged;
  write.reason = valid(agent.agent.stateReason);
  std::shared_future<void> done = write.done.get_future().share();
  enqueue(std::move(pending));
  return done;
}

std::int64_t GroupCommitStore::recordDeadLetter(const DeadLetter& letter) {
  auto pending = std::make_unique<PendingWrite>();
  auto& write = pending->body.emplace<DeadLetterWrite>();
  write.timeMs = millisOrNow(letter.time);
  write.source = validUtf8(letter.source);
  write.reason = validUtf8(letter.reason);
  write.document = letter.document.substr(0, kMaxDeadLetterBytes);
  write.originalSize = static_cast<std::int64_t>(letter.document.size());
  std::future<std::int64_t> done = write.done.get_future();
  enqueue(std::move(pending));
  return done.get();
}

std::unique_ptr<PendingWrite> GroupCommitStore::responseWrite(const StoredResponse& response) {
  auto pending = std::make_unique<PendingWrite>();
  auto& write = pending->body.emplace<ResponseWrite>();
  write.key = validUtf8(response.key);
  write.requestHash = validUtf8(response.requestHash);
  write.status = response.status;
  write.contentType = validUtf8(response.contentType);
  write.body = response.body;
  write.timeMs = millisOrNow(response.time);
  return pending;
}

void GroupCommitStore::saveResponse(const StoredResponse& response) {
  auto pending = responseWrite(response);
  std::future<void> done = std::get<ResponseWrite>(pending->body).done.get_future();
  enqueue(std::move(pending));
  done.get();
}

void GroupCommitStore::saveResponseAsync(const StoredResponse& response, WriteDone done) {
  auto pending = responseWrite(response);
  std::get<ResponseWrite>(pending->body).callback = std::move(done);
  enqueue(std::move(pending));
}

std::shared_future<void> GroupCommitStore::saveCursor(const std::string& name, std::int64_t value) {
  auto pending = std::make_unique<PendingWrite>();
  auto& write = pending->body.emplace<CursorWrite>();
  write.name = validUtf8(name);
  write.value = value;
  write.updatedMs = millisOrNow(Timestamp{});
  std::shared_future<void> done = write.done.get_future().share();
  enqueue(std::move(pending));
  return done;
}

void GroupCommitStore::flush() {
  auto pending = std::make_unique<PendingWrite>();
  std::future<void> done = pending->body.emplace<FlushWrite>().done.get_future();
  enqueue(std::move(pending));
  done.get();
}

void GroupCommitStore::commitLoop() {
  std::vector<std::unique_ptr<PendingWrite>> batch;
  std::vector<PendingWrite*> writes;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) {
        return; // stopping, and everything queued has been committed
      }
      if (options_.maxDelay.count() > 0 && queue_.size() < options_.maxBatch && !stopping_) {
        wake_.wait_for(lock, options_.maxDelay,
                       [&] { return queue_.size() >= options_.maxBatch || stopping_; });
      }
      std::size_t count = std::min(queue_.size(), options_.maxBatch);
      for (std::size_t i = 0; i < count; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (auto& write : batch) {
      writes.push_back(write.get());
    }
    commitBatch(writes);
    writes.clear();
    batch.clear();
  }
}

void GroupCommitStore::commitBatch(std::span<PendingWrite* const> batch) {
  auto start = std::chrono::steady_clock::now();
  try {
    writer_.commit(batch);
  } catch (const std::exception& e) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    bool recovered = writer_.recover();
    if (recovered && batch.size() > 1) {
      // One write the database refuses must not fail the others: each goes again alone, in
      // order, so that changes to one item still apply in call order.
      for (PendingWrite* write : batch) {
        commitBatch(std::span<PendingWrite* const>(&write, 1));
      }
      return;
    }
    for (PendingWrite* write : batch) {
      write->fail(e.what());
    }
    return;
  }
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  std::uint64_t count = static_cast<std::uint64_t>(
      std::count_if(batch.begin(), batch.end(), [](PendingWrite* w) { return !w->isFlush(); }));
  transactions_.fetch_add(1, std::memory_order_relaxed);
  writes_.fetch_add(count, std::memory_order_relaxed);
  commitMicros_.fetch_add(static_cast<std::uint64_t>(micros.count()), std::memory_order_relaxed);
  for (PendingWrite* write : batch) {
    write->succeed();
  }
}

std::optional<StoredWorkItem> GroupCommitStore::workItem(const std::string& id, bool withHistory) {
  return reader_.workItem(id, withHistory);
}

std::vector<StoredWorkItem> GroupCommitStore::workItems(const WorkItemFilter& filter) {
  return reader_.workItems(filter);
}

std::vector<StoredWorkItem> GroupCommitStore::openWorkItems() {
  return reader_.openWorkItems();
}

std::vector<StoredAgent> GroupCommitStore::agents() {
  return reader_.agents();
}

std::vector<DeadLetter> GroupCommitStore::deadLetters(std::size_t limit) {
  return reader_.deadLetters(limit);
}

std::optional<StoredResponse> GroupCommitStore::response(const std::string& key) {
  return reader_.response(key);
}

std::vector<StoreEvent> GroupCommitStore::events(StoreEvent::Subject subject, std::int64_t afterId,
                                                 std::size_t limit) {
  return reader_.events(subject, afterId, limit);
}

std::int64_t GroupCommitStore::eventCursorAt(StoreEvent::Subject subject, Timestamp time) {
  return reader_.eventCursorAt(subject, millis(time));
}

std::optional<std::int64_t> GroupCommitStore::cursor(const std::string& name) {
  return reader_.cursor(validUtf8(name));
}

StoreStats GroupCommitStore::stats() const {
  StoreStats stats;
  stats.transactions = transactions_.load(std::memory_order_relaxed);
  stats.writes = writes_.load(std::memory_order_relaxed);
  stats.commitMicrosTotal = commitMicros_.load(std::memory_order_relaxed);
  stats.failures = failures_.load(std::memory_order_relaxed);
  return stats;
}

} // namespace switchboard::store
