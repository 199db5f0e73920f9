#pragma once

// The IMAP email source. It polls one or more mailboxes (account and folder) on one IMAP server,
// fetches the mails not yet taken in batches (one UID FETCH for many mails), turns each into a
// work item, and only once the server has committed it marks the mail \Seen or moves it to
// another folder. The idempotency key of a mail is its mailbox, UIDVALIDITY and UID, so a mail
// fetched again after a crash (committed, not yet marked) is answered "duplicate": one work item
// per mail. A mail that cannot be read or is over the size limit becomes a dead letter with its
// reason, and is marked (or moved) like the others, so the mailbox keeps flowing.

#include "imap_connection.h"
#include "mail_account.h"
#include "mail_intake.h"
#include "mail_poller.h"

#include <map>
#include <memory>

namespace switchboard::email {

enum class ImapAfterCommit {
  Seen, ///< add \Seen; only unseen mail is fetched
  Move, ///< move to ImapOptions::moveTo; every mail left in the folder is fetched
};

struct ImapOptions : MailboxSourceOptions {
  ImapAfterCommit afterCommit = ImapAfterCommit::Seen;
  std::string moveTo; ///< the folder for ImapAfterCommit::Move
  /// Where mails that became dead letters go; empty: treated like the others.
  std::string rejectedFolder;
};

class ImapSource final : public ChannelDriver {
 public:
  /// `metrics` (may be null) receives the outbox's figures when `options.intake.smtp` is set.
  /// Throws OutboxError when the outbox cannot be opened.
  ImapSource(ImapOptions options, MessageSink& sink, AttachmentStore& attachments,
             MetricsRegistry* metrics = nullptr);
  ~ImapSource() override;

  /// Starts the outbox (with <smtp>) and the polling thread. Connection problems do not stop the
  /// start: they are logged and tried again at every poll.
  void start() override;
  void stop() override;
  /// With <smtp>, sendReply goes to the outbox; without it, and for every other command, status
  /// error, code "unsupported" (MailIntake::deliver).
  std::string deliver(std::string_view document) override;

  /// Takes what waits in every mailbox now; returns how many mails were acknowledged. A
  /// mailbox whose server fails is left for the next poll (and logged); the others go on.
  std::size_t pollOnce();

  const IntakeCounters& counters() const { return intake_.counters(); }
  /// The outbox, when <smtp> is configured.
  SmtpOutbox* outbox() { return intake_.outbox(); }

 private:
  struct Mailbox {
    MailboxAccount account;
    std::unique_ptr<ImapConnection> connection;
  };

  std::size_t pollMailbox(Mailbox& mailbox);
  /// Marks or moves the mails `uids`, as the configuration says.
  void acknowledge(ImapConnection& connection, const std::vector<std::uint32_t>& uids,
                   bool rejected);
  bool stopping() { return poller_.stopping(); }

  ImapOptions options_;
  MailIntake intake_;
  std::vector<Mailbox> mailboxes_;

  MailPoller poller_;
};

/// "1:5,7,9:12": the UIDs (sorted) as an IMAP sequence set.
std::string uidSet(const std::vector<std::uint32_t>& sortedUids);

/// Registers the "imap" driver type.
void registerImapDriver(DriverRegistry& registry);

} // namespace switchboard::email
