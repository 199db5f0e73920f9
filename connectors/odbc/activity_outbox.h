#pragma once

// The durable queue of activity records on their way to the CRM database: the connector's own
// SQLite file (WAL, synchronous=FULL), so that activities outlive both a CRM outage and a restart
// of Switchboard. Records leave it in the order they entered, and only once the CRM has them.

#include "odbc_pool.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace Poco::Data {
class Session;
}

namespace switchboard::odbc {

struct QueuedActivity {
  std::int64_t sequence = 0;
  std::string workItemId;
  Values values;
  std::int64_t attempts = 0;
};

class ActivityOutbox {
 public:
  /// Opens (creating when missing) the outbox file and its folder. Throws std::runtime_error.
  explicit ActivityOutbox(const std::filesystem::path& file);
  ~ActivityOutbox();
  ActivityOutbox(const ActivityOutbox&) = delete;
  ActivityOutbox& operator=(const ActivityOutbox&) = delete;

  /// Appends the activity of `workItemId`; durable when it returns. An item queued before (even
  /// one whose activity was written and removed since, for 30 days) is not queued twice: returns
  /// false. Throws std::runtime_error when the file cannot be written.
  bool add(const std::string& workItemId, const Values& values);
  /// True when the activity of `workItemId` was queued (and maybe written since). Throws
  /// std::runtime_error.
  bool queued(const std::string& workItemId);
  /// A position the connector keeps with its queue (how far it read the store's step log);
  /// nothing when never saved. Throws std::runtime_error.
  std::optional<std::int64_t> position(const std::string& name);
  /// Saves a position; durable when it returns. Throws std::runtime_error.
  void savePosition(const std::string& name, std::int64_t value);
  /// The oldest queued activity.
  std::optional<QueuedActivity> front();
  /// Removes a written activity.
  void remove(std::int64_t sequence);
  /// Counts a failed attempt and keeps the reason (shown by `sqlite3 FILE`).
  void failed(std::int64_t sequence, const std::string& reason);
  std::size_t size();

 private:
  std::mutex mutex_;
  std::unique_ptr<Poco::Data::Session> session_;
};

} // namespace switchboard::odbc
