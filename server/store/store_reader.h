#pragma once

// The queries behind Store's read functions, on connections of their own so that reads never
// wait for the committer (SQLite in WAL mode lets readers run beside the writer).

#include "record_codec.h"
#include "sql_connection.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::store {

class StoreReader {
 public:
  /// Opens no connection yet: they are made on first use and kept for the next one.
  StoreReader(const StoreOptions& options, const RecordCodec& codec);
  ~StoreReader();

  std::optional<StoredWorkItem> workItem(const std::string& id, bool withHistory);
  std::vector<StoredWorkItem> workItems(const WorkItemFilter& filter);
  std::vector<StoredWorkItem> openWorkItems();
  std::vector<StoredAgent> agents();
  std::vector<DeadLetter> deadLetters(std::size_t limit);
  std::optional<StoredResponse> response(const std::string& key);
  std::vector<StoreEvent> events(StoreEvent::Subject subject, std::int64_t afterId,
                                 std::size_t limit);
  std::int64_t eventCursorAt(StoreEvent::Subject subject, std::int64_t timeMs);
  std::optional<std::int64_t> cursor(const std::string& name);

 private:
  std::unique_ptr<SqlConnection> acquire();
  void release(std::unique_ptr<SqlConnection> connection);
  /// Runs `query` on a pooled connection; a connection whose query failed is dropped, not
  /// pooled. Poco errors become StoreError.
  template <class Query>
  auto withConnection(const char* what, Query&& query);

  StoreOptions options_;
  const RecordCodec& codec_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
};

} // namespace switchboard::store
