#pragma once

// What the email sources (POP3, IMAP, Maildir) share once a mail is fetched: read its MIME, build
// the workItemArrived with mailWorkItem() (the builder every email source uses), submit it and
// learn whether it is committed; or, for a mail that cannot be a work item, report it with
// contactRejected so that the server keeps a dead letter. A source acknowledges upstream (POP3
// DELE, IMAP \Seen or move) only for outcomes other than Retry. With an <smtp> child the intake
// also holds the driver's outbox: it carries out sendReply and acknowledges new mail.

#include "mail_account.h"
#include "mail_reader.h"
#include "mime_work_item.h"
#include "smtp_outbox.h"
#include "switchboard/attachment_store.h"
#include "switchboard/channel_driver.h"
#include "switchboard/message_codec.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::email {

struct IntakeOptions {
  std::string driverName;
  std::string serverId;
  std::uint64_t maxMessageBytes = 25u << 20;
  /// How many mails of one batch are submitted at once, so that their commits share the store's
  /// transactions (group commit). 1 submits one after the other.
  std::size_t submitThreads = 32;
  /// Which prefix the source's log lines carry ("imap", "pop3", "maildir").
  std::string logName = "mail";
  /// How a mail becomes a work item (attachment limits, threading). The contact point and the
  /// source key are each mail's own (FetchedMail) and set per mail.
  MailItemOptions item;
  /// Outbound mail (replies, acknowledgements); without it every command is "unsupported".
  std::optional<SmtpOptions> smtp;
};

/// What every mailbox source is configured with; ImapOptions and Pop3Options add their own.
struct MailboxSourceOptions {
  IntakeOptions intake;
  MailServer server;
  std::vector<MailboxAccount> mailboxes;
  std::chrono::milliseconds pollInterval{5000};
  std::size_t fetchBatch = 250;              ///< mails per round trip (IMAP) or session (POP3)
  std::uint64_t fetchBatchBytes = 32u << 20; ///< and at most about this many bytes
};

/// Reads the settings an <imap> or <pop3> element shares into `options` (docs/configuration.md):
/// maxMessageBytes, submitThreads, maxAttachmentBytes, threading, the mail server (port
/// defaulting to `defaultPort`, or `implicitPort` with implicit TLS), the <mailbox> children
/// (with a folder when `withFolder`), pollInterval, fetchBatch and the <smtp> child. What the
/// element leaves out keeps the value `options` held. Throws ConfigError naming the attribute.
void readMailboxSource(const DriverContext& context, MailboxSourceOptions& options,
                       std::string logName, std::uint16_t defaultPort, std::uint16_t implicitPort,
                       bool withFolder);

/// One mail as a source fetched it (or read it from its Maildir).
struct FetchedMail {
  /// The mailbox's own key for the mail (IMAP UIDVALIDITY and UID, POP3 UIDL), unique per driver:
  /// the server makes one work item per key however often the mail is submitted. Empty: the
  /// mail's own key (mailSourceKey(): its Message-ID, else the digest of its bytes; Maildir).
  std::string sourceKey;
  /// Where an operator finds the mail; kept with a dead letter.
  std::string reference;
  /// The mail's address on its mail server, kept as the work item's attribute email.mailbox.
  std::optional<std::string> mailbox;
  /// The size the mail server reported; over the limit, `bytes` are not fetched at all.
  std::uint64_t size = 0;
  std::string bytes;
  /// The work item's contact point when the mail's To: names no one (the mailbox's address).
  std::optional<std::string> contactPoint;
};

enum class IntakeOutcome {
  Committed, ///< a new work item is committed
  Duplicate, ///< the key was committed before: acknowledge and forget
  Rejected,  ///< a dead letter is committed with the reason: acknowledge and forget
  Retry,     ///< the server could not take it now: leave it on the mail server
};

/// Figures for metrics and tests.
struct IntakeCounters {
  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> retries{0};
};

class MailIntake {
 public:
  /// `sink` and `attachments` must outlive the intake; `metrics` (may be null) receives the
  /// outbox's figures when `options.smtp` is set. Throws OutboxError when the outbox cannot be
  /// opened.
  MailIntake(IntakeOptions options, MessageSink& sink, AttachmentStore& attachments,
             MetricsRegistry* metrics = nullptr);

  /// Starts the outbox's sender, when there is an outbox (recovering what a crash interrupted).
  void start();
  /// Stops the outbox's sender; an attempt under way finishes first. Safe to call twice.
  void stop();

  /// Takes each mail and returns its outcome, in the order given. Up to submitThreads mails are
  /// in flight at once. After the first Retry the mails not yet started are not tried (they get
  /// Retry too): the server is stopping or its store is down. Never throws for a bad mail.
  std::vector<IntakeOutcome> take(std::span<const FetchedMail> mails);
  IntakeOutcome takeOne(const FetchedMail& mail);

  /// Carries out a command for the source: with an outbox, SmtpOutbox::deliver (sendReply);
  /// without one, refuseCommand().
  std::string deliver(std::string_view document);
  /// The answer to any command delivered to a receive-only source: status error, "unsupported".
  std::string refuseCommand(std::string_view document, std::string_view why);

  /// The outbox, when `smtp` is configured.
  SmtpOutbox* outbox() { return outbox_.get(); }

  const IntakeCounters& counters() const { return counters_; }
  const IntakeOptions& options() const { return options_; }

 private:
  IntakeOutcome reject(const FetchedMail& mail, const std::string& reason,
                       std::optional<std::string> sourceKey);
  WorkItem workItemOf(const Mail& mail, const FetchedMail& fetched) const;
  Message envelope(Payload payload);
  /// Submits `message`; the response, or nothing when the server could not take it now. With
  /// `workItemId`, the id of the work item the answer names is read too.
  std::optional<Response> submit(const Message& message, std::string* workItemId = nullptr);

  IntakeOptions options_;
  MessageSink& sink_;
  AttachmentStore& attachments_;
  MessageCodec codec_;
  IntakeCounters counters_;
  std::unique_ptr<SmtpOutbox> outbox_;
  std::atomic<std::uint64_t> sequence_{0};
};

} // namespace switchboard::email
