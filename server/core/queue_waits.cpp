#include "switchboard/queue_waits.h"

namespace switchboard {

void QueueWaits::noteSince(const std::string& item, Timestamp since) {
  items_.try_emplace(item, Entry{since, {}});
}

void QueueWaits::enter(const std::string& item, const std::string& queue, Timestamp time) {
  auto [it, added] = items_.try_emplace(item, Entry{time, {}});
  Entry& entry = it->second;
  if (entry.queue == queue) {
    return;
  }
  if (!entry.queue.empty()) {
    queues_[entry.queue].erase({entry.since, item});
  }
  entry.queue = queue;
  queues_[queue].emplace(entry.since, item);
}

void QueueWaits::leave(const std::string& item) {
  auto it = items_.find(item);
  if (it == items_.end() || it->second.queue.empty()) {
    return;
  }
  queues_[it->second.queue].erase({it->second.since, item});
  it->second.queue.clear();
}

void QueueWaits::forget(const std::string& item) {
  leave(item);
  items_.erase(item);
}

std::optional<Timestamp> QueueWaits::since(const std::string& item) const {
  auto it = items_.find(item);
  if (it == items_.end()) {
    return std::nullopt;
  }
  return it->second.since;
}

QueueWaits::Summary QueueWaits::summary(const std::string& queue) const {
  Summary result;
  auto it = queues_.find(queue);
  if (it == queues_.end() || it->second.empty()) {
    return result;
  }
  result.waiting = it->second.size();
  result.oldestSince = it->second.begin()->first;
  return result;
}

} // namespace switchboard
