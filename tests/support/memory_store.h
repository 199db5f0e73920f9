#pragma once

// A Store kept in memory, for hermetic tests of what sits on top of the store. Writes are
// durable at once (the futures are ready when returned). Not for production: nothing survives
// the process, which is exactly what tests of recovery simulate by reusing one instance.

#include "switchboard/store.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>

namespace switchboard::testing {

class MemoryStore : public Store {
 public:
  /// Whether reserveWorkItemId() hands out ids (as the SQLite store does) or not (PostgreSQL).
  bool reservesIds = false;

  std::optional<std::string> reserveWorkItemId() override {
    std::lock_guard lock(mutex_);
    if (!reservesIds) {
      return std::nullopt;
    }
    return idOf(++sequence_);
  }

  ArrivalOutcome commitArrival(const NewWorkItem& arrival) override {
    std::lock_guard lock(mutex_);
    failIfBroken();
    if (arrival.item.sourceKey) {
      auto key = std::make_pair(arrival.source, *arrival.item.sourceKey);
      if (auto found = keys_.find(key); found != keys_.end()) {
        return {found->second, true};
      }
    }
    std::string id = arrival.reservedId ? *arrival.reservedId : idOf(++sequence_);
    StoredWorkItem stored;
    stored.item = arrival.item;
    stored.item.id = id;
    stored.item.state = arrival.steps.empty() ? WorkItemState::New
                                              : arrival.item.state.value_or(WorkItemState::New);
    stored.item.created = arrival.receivedAt;
    stored.item.history = {{arrival.receivedAt, WorkItemState::New, "arrived", arrival.source}};
    logItemStep(id, stored.item.history.back());
    for (const HistoryEntry& step : arrival.steps) {
      stored.item.history.push_back(step);
      logItemStep(id, step);
    }
    stored.offerExpires = arrival.offerExpires;
    stored.source = arrival.source;
    stored.updated = arrival.receivedAt;
    items_[id] = stored;
    if (arrival.item.sourceKey) {
      keys_[{arrival.source, *arrival.item.sourceKey}] = id;
    }
    ++writes_;
    return {id, false};
  }

  std::shared_future<void> recordChange(const WorkItemChange& change) override {
    std::lock_guard lock(mutex_);
    failIfBroken();
    auto found = items_.find(change.workItemId);
    if (found != items_.end()) {
      StoredWorkItem& stored = found->second;
      if (change.record) {
        std::vector<HistoryEntry> history = std::move(stored.item.history);
        stored.item = *change.record;
        stored.item.history = std::move(history);
      }
      stored.item.state = change.state;
      if (change.queueId) {
        stored.item.queueId = change.queueId;
      }
      if (change.agentId) {
        stored.item.agentId = change.agentId;
      }
      stored.offerExpires = change.offerExpires;
      HistoryEntry entry = change.entry;
      entry.state = change.state;
      stored.item.history.push_back(entry);
      stored.updated = entry.time;
      logItemStep(change.workItemId, entry);
    }
    ++writes_;
    return done();
  }

  std::shared_future<void> saveAgent(const StoredAgent& agent) override {
    std::lock_guard lock(mutex_);
    failIfBroken();
    agents_[agent.agent.id] = agent;
    if (agent.stateChanged && agent.agent.state) {
      StoreEvent event;
      event.subject = StoreEvent::Subject::Agent;
      event.id = static_cast<std::int64_t>(agentEvents_.size()) + 1;
      event.time = agent.updated;
      event.subjectId = agent.agent.id;
      event.state = std::string(toString(*agent.agent.state));
      event.cause = agent.agent.stateReason.value_or("");
      agentEvents_.push_back(event);
    }
    ++writes_;
    return done();
  }

  std::int64_t recordDeadLetter(const DeadLetter& letter) override {
    std::lock_guard lock(mutex_);
    failIfBroken();
    DeadLetter kept = letter;
    kept.id = static_cast<std::int64_t>(deadLetters_.size()) + 1;
    deadLetters_.push_back(kept);
    return kept.id;
  }

  void saveResponse(const StoredResponse& response) override {
    std::lock_guard lock(mutex_);
    responses_[response.key] = response;
  }

  void flush() override {}

  std::optional<StoredWorkItem> workItem(const std::string& id, bool withHistory) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(id);
    if (found == items_.end()) {
      return std::nullopt;
    }
    StoredWorkItem stored = found->second;
    if (!withHistory) {
      stored.item.history.clear();
    }
    return stored;
  }

  std::vector<StoredWorkItem> workItems(const WorkItemFilter& filter) override {
    std::lock_guard lock(mutex_);
    std::vector<StoredWorkItem> result;
    for (const auto& [id, stored] : items_) {
      if ((filter.state && stored.item.state != filter.state) ||
          (filter.queueId && stored.item.queueId != filter.queueId) ||
          (filter.agentId && stored.item.agentId != filter.agentId) ||
          (filter.medium && stored.item.medium != *filter.medium) ||
          (filter.afterId && id <= *filter.afterId)) {
        continue;
      }
      result.push_back(stored);
      result.back().item.history.clear();
      if (result.size() == filter.limit) {
        break;
      }
    }
    return result;
  }

  std::vector<StoredWorkItem> openWorkItems() override {
    std::lock_guard lock(mutex_);
    std::vector<StoredWorkItem> result;
    for (const auto& [id, stored] : items_) {
      WorkItemState state = stored.item.state.value_or(WorkItemState::New);
      if (state == WorkItemState::New || state == WorkItemState::Queued ||
          state == WorkItemState::Offered || state == WorkItemState::Accepted) {
        result.push_back(stored);
      }
    }
    return result;
  }

  std::vector<StoredAgent> agents() override {
    std::lock_guard lock(mutex_);
    std::vector<StoredAgent> result;
    for (const auto& [id, agent] : agents_) {
      result.push_back(agent);
    }
    return result;
  }

  std::vector<DeadLetter> deadLetters(std::size_t limit) override {
    std::lock_guard lock(mutex_);
    return {deadLetters_.begin(), deadLetters_.begin() + static_cast<std::ptrdiff_t>(
                                                             std::min(limit, deadLetters_.size()))};
  }

  std::optional<StoredResponse> response(const std::string& key) override {
    std::lock_guard lock(mutex_);
    auto found = responses_.find(key);
    return found == responses_.end() ? std::nullopt : std::optional(found->second);
  }

  std::vector<StoreEvent> events(StoreEvent::Subject subject, std::int64_t afterId,
                                 std::size_t limit) override {
    std::lock_guard lock(mutex_);
    const std::vector<StoreEvent>& log = logOf(subject);
    std::vector<StoreEvent> found;
    for (std::size_t i = static_cast<std::size_t>(std::max<std::int64_t>(afterId, 0));
         i < log.size() && found.size() < limit; ++i) {
      found.push_back(log[i]);
    }
    return found;
  }

  std::int64_t eventCursorAt(StoreEvent::Subject subject, Timestamp time) override {
    std::lock_guard lock(mutex_);
    const std::vector<StoreEvent>& log = logOf(subject);
    for (const StoreEvent& event : log) {
      if (event.time >= time) {
        return event.id - 1;
      }
    }
    return static_cast<std::int64_t>(log.size());
  }

  std::optional<std::int64_t> cursor(const std::string& name) override {
    std::lock_guard lock(mutex_);
    auto found = cursors_.find(name);
    return found == cursors_.end() ? std::nullopt : std::optional(found->second);
  }

  std::shared_future<void> saveCursor(const std::string& name, std::int64_t value) override {
    std::lock_guard lock(mutex_);
    failIfBroken();
    cursors_[name] = value;
    ++writes_;
    return done();
  }

  StoreStats stats() const override {
    std::lock_guard lock(mutex_);
    return StoreStats{writes_, writes_, 0, 0};
  }

  /// Makes every write fail with StoreError until set back to false.
  void setBroken(bool broken) {
    std::lock_guard lock(mutex_);
    broken_ = broken;
  }

 private:
  static std::string idOf(std::uint64_t number) {
    char id[16];
    std::snprintf(id, sizeof id, "wi-%06llu", static_cast<unsigned long long>(number));
    return id;
  }
  static std::shared_future<void> done() {
    std::promise<void> promise;
    promise.set_value();
    return promise.get_future().share();
  }
  // Event ids are positions in the log, from 1.
  void logItemStep(const std::string& id, const HistoryEntry& entry) {
    StoreEvent event;
    event.id = static_cast<std::int64_t>(itemEvents_.size()) + 1;
    event.time = entry.time;
    event.subjectId = id;
    event.state = entry.state ? std::string(toString(*entry.state)) : std::string();
    event.cause = entry.cause;
    event.actorId = entry.actorId;
    itemEvents_.push_back(event);
  }
  const std::vector<StoreEvent>& logOf(StoreEvent::Subject subject) const {
    return subject == StoreEvent::Subject::WorkItem ? itemEvents_ : agentEvents_;
  }
  void failIfBroken() const {
    if (broken_) {
      throw StoreError("the store is unavailable (test)");
    }
  }

  mutable std::mutex mutex_;
  std::uint64_t sequence_ = 0;
  std::uint64_t writes_ = 0;
  bool broken_ = false;
  std::map<std::string, StoredWorkItem> items_;
  std::map<std::pair<std::string, std::string>, std::string> keys_;
  std::map<std::string, StoredAgent> agents_;
  std::vector<DeadLetter> deadLetters_;
  std::map<std::string, StoredResponse> responses_;
  std::vector<StoreEvent> itemEvents_;
  std::vector<StoreEvent> agentEvents_;
  std::map<std::string, std::int64_t> cursors_;
};

} // namespace switchboard::testing
