#pragma once

// The POP3 email source. It polls one or more mailboxes on one POP3 server, fetches the mails in
// batches, turns each into a work item and, only once the server has committed it, deletes it
// (DELE, made final by QUIT after each batch) or, when mails are left on the server, remembers
// its UIDL in a small SQLite file of its own. The idempotency key of a mail is its mailbox and
// UIDL, so a mail fetched again after a crash is answered "duplicate": one work item per mail. A
// mail that cannot be read or is over the size limit becomes a dead letter with its reason; it
// stays on the server, its UIDL remembered, so the mailbox keeps flowing.

#include "mail_account.h"
#include "mail_intake.h"
#include "pop3_uidl_memory.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace switchboard::email {

struct Pop3Options {
  IntakeOptions intake;
  MailServer server;
  std::vector<MailboxAccount> mailboxes;
  std::chrono::milliseconds pollInterval{30000};
  /// Leave mails on the server and remember their UIDLs, instead of deleting them.
  bool leaveOnServer = false;
  /// The UIDL memory: mails left on the server, and dead letters' mails, which always stay.
  std::filesystem::path stateFile;
  std::size_t fetchBatch = 100;              ///< mails per session (deletions become final)
  std::uint64_t fetchBatchBytes = 32u << 20; ///< and at most about this many bytes
};

class Pop3Source final : public ChannelDriver {
 public:
  /// Throws std::runtime_error when the state file cannot be opened.
  Pop3Source(Pop3Options options, MessageSink& sink, AttachmentStore& attachments);
  ~Pop3Source() override;

  /// Starts the polling thread. Connection problems do not stop the start: they are logged and
  /// tried again at every poll.
  void start() override;
  void stop() override;
  /// The POP3 source only receives; every command gets status error, code "unsupported".
  std::string deliver(std::string_view document) override;

  /// Takes what waits in every mailbox now; returns how many mails were acknowledged (deleted
  /// or remembered). A mailbox whose server fails is left for the next poll (and logged).
  std::size_t pollOnce();

  const IntakeCounters& counters() const { return intake_.counters(); }

 private:
  /// Runs one session on `account`: takes up to one batch. Returns the mails acknowledged and
  /// whether more wait.
  std::pair<std::size_t, bool> session(const MailboxAccount& account);
  bool stopping();
  void run();

  Pop3Options options_;
  MailIntake intake_;
  std::unique_ptr<Pop3UidlMemory> memory_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Registers the "pop3" driver type.
void registerPop3Driver(DriverRegistry& registry);

} // namespace switchboard::email
