#pragma once

// The email drivers' durable outbox: one SQLite database per driver (WAL, synchronous=FULL),
// owned by the driver and not by the server's store, because a driver may run in its own process
// and only it knows what it has sent. Each row is one mail, composed once: its bytes and its
// Message-ID never change, whatever happens to the attempts to send it.
//
// A row's state: queued (waiting for its next attempt), sending (an attempt is under way and its
// final "." has not been sent), committing (the final "." is about to be or has been sent; the
// relay's answer is not recorded), sent, failed (given up; the reason is kept). Every change is
// committed before the step it announces, so after a crash the state says how far a mail got.
//
// Thread-safety: every member function may be called from any thread (one connection, one mutex).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace Poco::Data {
class Session;
}

namespace switchboard::email {

using Millis = std::int64_t; ///< milliseconds since the epoch

enum class OutboxState { Queued, Sending, Committing, Sent, Failed };

std::string_view toString(OutboxState state);

/// One mail in the outbox.
struct OutboxEntry {
  std::string key;  ///< unique: "reply\n<workItem>\n<replyId>" or "ack\n<workItem>"
  std::string kind; ///< "reply" or "ack"
  std::string workItemId;
  std::string replyId;                 ///< empty for an acknowledgement
  std::string correlationId;           ///< the id of the server's sendReply message
  std::string messageId;               ///< without angle brackets
  std::string envelopeFrom;            ///< MAIL FROM
  std::vector<std::string> recipients; ///< RCPT TO, in order
  std::string customer;                ///< the first recipient, lower case (acknowledgements)
  std::string bytes;                   ///< the mail, CRLF line ends, not dot-stuffed
  OutboxState state = OutboxState::Queued;
  std::uint32_t attempts = 0;
  Millis created = 0;
  Millis nextAttempt = 0;
  std::string lastError;
  std::uint32_t uncertainResends = 0; ///< attempts whose outcome a crash left unknown, resent
  bool reported = false;              ///< the final outcome was reported to the server
};

/// Counts of entries by state.
struct OutboxCounts {
  std::uint64_t queued = 0; ///< queued, sending or committing
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;
};

/// Thrown when the outbox database cannot be opened, read or written.
class OutboxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OutboxStore {
 public:
  /// Opens (creating when missing) the database at `file`, in WAL mode with synchronous=FULL.
  /// Throws OutboxError when it cannot.
  explicit OutboxStore(const std::filesystem::path& file);
  ~OutboxStore();
  OutboxStore(const OutboxStore&) = delete;
  OutboxStore& operator=(const OutboxStore&) = delete;

  /// Commits `entry` unless an entry with its key exists; returns false (and commits nothing)
  /// when one does.
  bool add(const OutboxEntry& entry);

  std::optional<OutboxEntry> find(const std::string& key);
  std::optional<OutboxEntry> findByMessageId(const std::string& messageId);

  /// Keys of entries in state queued whose next attempt is due at `now`, oldest first.
  std::vector<std::string> due(Millis at, std::size_t limit);
  /// The earliest next attempt of a queued entry.
  std::optional<Millis> nextDue();

  /// Records that an attempt starts: state sending, attempts + 1.
  void beginAttempt(const std::string& key, Millis at);
  /// Records that the final "." is about to be sent: state committing.
  void beginCommit(const std::string& key, Millis at);
  void markSent(const std::string& key, Millis at, const std::string& reply);
  /// Back to queued for another attempt at `nextAttempt`, keeping the reason.
  void retryLater(const std::string& key, Millis at, Millis nextAttempt, const std::string& why);
  void markFailed(const std::string& key, Millis at, const std::string& why);
  void markReported(const std::string& key);
  /// Entries sent or failed whose outcome the server has not been told yet.
  std::vector<std::string> unreported(std::size_t limit);

  /// After a restart: entries left in sending go back to queued (the relay never got their
  /// final "."). Entries left in committing go back to queued with uncertainResends + 1 when
  /// `resendUncertain`, else to failed. Returns the keys of the entries left in committing.
  std::vector<std::string> recover(Millis at, bool resendUncertain);

  /// Whether an acknowledgement to `customer` was queued at or after `since`.
  bool acknowledgedSince(const std::string& customer, Millis since);

  /// Deletes sent entries older than `before`; returns how many.
  std::size_t pruneSent(Millis before);

  OutboxCounts counts();

 private:
  void setState(const std::string& key, OutboxState state, Millis at,
                const std::optional<std::string>& error, std::optional<Millis> nextAttempt);
  std::optional<OutboxEntry> load(const std::string& where, const std::string& value);

  std::filesystem::path file_;
  std::mutex mutex_;
  std::unique_ptr<Poco::Data::Session> session_;
};

} // namespace switchboard::email
