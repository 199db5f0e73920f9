#pragma once

// The Maildir email source: the embedded default that lets Switchboard take email with no mail
// server. It watches a Maildir's new/ folder, turns each mail into a work item, submits it, and
// moves the file to cur/ only once the server has committed the item. A mail that cannot be
// read is reported (contactRejected) and moved to rejected/, so it never blocks the rest.

#include "mail_intake.h"
#include "mail_poller.h"

#include <chrono>
#include <filesystem>

namespace switchboard::email {

struct MaildirOptions {
  std::string driverName;
  std::string serverId;
  std::filesystem::path path; ///< the Maildir: new/, cur/, tmp/ (created when missing)
  std::chrono::milliseconds pollInterval{1000};
  std::uint64_t maxMessageBytes = 25u << 20;
  /// The contact point of mail whose To: header names no one (the mail's own To: wins).
  std::optional<std::string> contactPoint;
  std::uint64_t maxAttachmentBytes = 20u << 20; ///< larger attachments are not kept
  Threading threading = Threading::Join;        ///< what a reply to an earlier mail becomes
  /// Outbound mail (replies, acknowledgements); without it every command is "unsupported".
  std::optional<SmtpOptions> smtp;
};

/// Figures for metrics and tests (retries: submissions the server could not take yet).
using MaildirCounters = IntakeCounters;

class MaildirSource final : public ChannelDriver {
 public:
  /// `metrics` (may be null) receives the outbox's figures when `options.smtp` is set. Throws
  /// OutboxError when the outbox cannot be opened.
  MaildirSource(MaildirOptions options, MessageSink& sink, AttachmentStore& attachments,
                MetricsRegistry* metrics = nullptr);
  ~MaildirSource() override;

  /// Creates the Maildir folders when missing and starts polling. Throws std::runtime_error
  /// when the folder cannot be used.
  void start() override;
  void stop() override;
  /// With `smtp` configured, sendReply goes to the outbox (SmtpOutbox::deliver); without it, and
  /// for every other command, status error, code "unsupported".
  std::string deliver(std::string_view document) override;

  /// Takes every mail now in new/, in delivery order; returns how many left new/. Stops at the
  /// first one the server cannot take yet (it is tried again on the next poll).
  std::size_t pollOnce();

  const MaildirCounters& counters() const { return intake_.counters(); }
  /// The outbox, when `smtp` is configured.
  SmtpOutbox* outbox() { return intake_.outbox(); }

 private:
  /// Takes one mail of new/; false when the server cannot take it now (it stays in new/).
  bool take(const std::filesystem::path& file);

  MaildirOptions options_;
  MailIntake intake_;

  MailPoller poller_;
};

/// Registers the "maildir" driver type.
void registerMaildirDriver(DriverRegistry& registry);

} // namespace switchboard::email
