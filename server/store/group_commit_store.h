#pragma once

// The Store: writers queue their writes; one committer thread takes everything waiting (up to
// maxBatch, waiting up to maxDelay for more) into one transaction, commits, and only then
// completes every write of that batch. Reads go to connections of their own.

#include "pending_write.h"
#include "record_codec.h"
#include "store_reader.h"
#include "store_writer.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace switchboard::store {

class GroupCommitStore final : public Store {
 public:
  /// Connects, migrates and starts the committer. Throws StoreError.
  explicit GroupCommitStore(const StoreOptions& options);
  /// Commits everything queued, then stops the committer.
  ~GroupCommitStore() override;

  std::optional<std::string> reserveWorkItemId() override;
  ArrivalOutcome commitArrival(const NewWorkItem& arrival) override;
  void commitArrivalAsync(const NewWorkItem& arrival, ArrivalDone done) override;
  std::shared_future<void> recordChange(const WorkItemChange& change) override;
  std::shared_future<void> saveAgent(const StoredAgent& agent) override;
  std::int64_t recordDeadLetter(const DeadLetter& letter) override;
  void saveResponse(const StoredResponse& response) override;
  void saveResponseAsync(const StoredResponse& response, WriteDone done) override;
  void flush() override;

  std::optional<StoredWorkItem> workItem(const std::string& id, bool withHistory) override;
  std::vector<StoredWorkItem> workItems(const WorkItemFilter& filter) override;
  std::vector<StoredWorkItem> openWorkItems() override;
  std::vector<StoredAgent> agents() override;
  std::vector<DeadLetter> deadLetters(std::size_t limit) override;
  std::optional<StoredResponse> response(const std::string& key) override;
  std::vector<StoreEvent> events(StoreEvent::Subject subject, std::int64_t afterId,
                                 std::size_t limit) override;
  std::int64_t eventCursorAt(StoreEvent::Subject subject, Timestamp time) override;
  std::optional<std::int64_t> cursor(const std::string& name) override;
  std::shared_future<void> saveCursor(const std::string& name, std::int64_t value) override;

  StoreStats stats() const override;

 private:
  using Batch = std::vector<std::unique_ptr<PendingWrite>>;

  void enqueue(std::unique_ptr<PendingWrite> write);
  /// The arrival's columns, prepared on the caller's thread.
  std::unique_ptr<PendingWrite> arrivalWrite(const NewWorkItem& arrival) const;
  static std::unique_ptr<PendingWrite> responseWrite(const StoredResponse& response);
  void commitLoop();
  void commitBatch(std::span<PendingWrite* const> batch);

  StoreOptions options_;
  RecordCodec codec_;
  StoreWriter writer_;
  StoreReader reader_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<PendingWrite>> queue_;
  bool stopping_ = false;

  std::atomic<std::uint64_t> transactions_{0};
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> commitMicros_{0};
  std::atomic<std::uint64_t> failures_{0};

  std::thread committer_; ///< last: starts once everything above exists
};

} // namespace switchboard::store
