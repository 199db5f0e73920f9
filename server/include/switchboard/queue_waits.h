#pragma once

// The server's view of who waits in which queue and since when, kept up to date from the routing
// engine's transitions so that queue statistics (GET /v1/queues, wallboards polling it many times
// a second) cost a lookup per queue, not a walk over every waiting item.

#include "switchboard/timestamp.h"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace switchboard {

class QueueWaits {
 public:
  struct Summary {
    std::size_t waiting = 0;
    std::optional<Timestamp> oldestSince; ///< when the longest-waiting item entered its queue
  };

  /// Sets when `item` first entered a queue (recovery: its arrival), unless known already.
  void noteSince(const std::string& item, Timestamp since);
  /// `item` waits in `queue` from now on (it was queued, requeued or moved). The time it first
  /// entered a queue is kept: a declined item does not start waiting anew.
  void enter(const std::string& item, const std::string& queue, Timestamp time);
  /// `item` no longer waits (offered, accepted, transferred...) but is still live.
  void leave(const std::string& item);
  /// `item` ended: forget it.
  void forget(const std::string& item);

  /// When `item` first entered a queue, if it is live and ever did.
  std::optional<Timestamp> since(const std::string& item) const;
  Summary summary(const std::string& queue) const;

 private:
  struct Entry {
    Timestamp since{};
    std::string queue; ///< where it waits now; empty when it does not wait
  };
  using Waiting = std::set<std::pair<Timestamp, std::string>>; ///< (since, item), oldest first

  std::map<std::string, Entry> items_;
  std::map<std::string, Waiting, std::less<>> queues_;
};

} // namespace switchboard
