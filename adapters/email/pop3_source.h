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
#include "mail_poller.h"
#include "pop3_uidl_memory.h"

#include <memory>

namespace switchboard::email {

struct Pop3Options : MailboxSourceOptions {
  Pop3Options() {
    pollInterval = std::chrono::seconds(30);
    fetchBatch = 100; // mails per session (deletions become final at its end)
  }
  /// Leave mails on the server and remember their UIDLs, instead of deleting them.
  bool leaveOnServer = false;
  /// The UIDL memory: mails left on the server, and dead letters' mails, which always stay.
  std::filesystem::path stateFile;
};

class Pop3Source final : public ChannelDriver {
 public:
  /// Throws std::runtime_error when the state file cannot be opened, OutboxError when the
  /// outbox (with <smtp>) cannot. `metrics` (may be null) receives the outbox's figures.
  Pop3Source(Pop3Options options, MessageSink& sink, AttachmentStore& attachments,
             MetricsRegistry* metrics = nullptr);
  ~Pop3Source() override;

  /// Starts the outbox (with <smtp>) and the polling thread. Connection problems do not stop the
  /// start: they are logged and tried again at every poll.
  void start() override;
  void stop() override;
  /// With <smtp>, sendReply goes to the outbox; without it, and for every other command, status
  /// error, code "unsupported" (MailIntake::deliver).
  std::string deliver(std::string_view document) override;

  /// Takes what waits in every mailbox now; returns how many mails were acknowledged (deleted
  /// or remembered). A mailbox whose server fails is left for the next poll (and logged).
  std::size_t pollOnce();

  const IntakeCounters& counters() const { return intake_.counters(); }
  /// The outbox, when <smtp> is configured.
  SmtpOutbox* outbox() { return intake_.outbox(); }

 private:
  /// Runs one session on `account`: takes up to one batch. Returns the mails acknowledged and
  /// whether more wait.
  std::pair<std::size_t, bool> session(const MailboxAccount& account);
  bool stopping() { return poller_.stopping(); }

  Pop3Options options_;
  MailIntake intake_;
  std::unique_ptr<Pop3UidlMemory> memory_;

  MailPoller poller_;
};

/// Registers the "pop3" driver type.
void registerPop3Driver(DriverRegistry& registry);

} // namespace switchboard::email
