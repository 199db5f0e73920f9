#pragma once

// The outbound side of an email driver: it takes sendReply commands, keeps each reply in a
// durable outbox (outbox_store.h) before it answers, and sends the outbox through SMTP on a thread
// of its own, retrying with backoff and giving up (dead letter) after a limit. It reports each
// outcome to the server as a deliveryReport. Optionally it acknowledges new mail.
//
// Once, not twice. Before an attempt the outbox records it; before the final "." of DATA it
// records that it is committing; after the relay's 2xx it records the mail sent. After a crash a
// mail found "sending" is sent again: the relay never received its final "." and discarded it. A
// mail found "committing" may or may not have been taken by the relay (the crash fell between the
// "." and the record of the answer, a window of one round trip and one fsync): the `uncertain`
// setting decides whether it is sent again (the customer may get it twice, with the same
// Message-ID, which many mail programs fold into one) or held as a dead letter.

#include "mail_reader.h"
#include "outbox_store.h"
#include "smtp_client.h"
#include "smtp_message.h"
#include "smtp_options.h"
#include "switchboard/attachment_store.h"
#include "switchboard/channel_driver.h"
#include "switchboard/message_codec.h"
#include "switchboard/metrics.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace switchboard::email {

/// Figures for metrics and tests.
struct OutboxFigures {
  std::atomic<std::uint64_t> queued{0};     ///< replies and acknowledgements taken
  std::atomic<std::uint64_t> duplicates{0}; ///< sendReply for a reply already taken
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> retries{0};      ///< attempts that failed and will be repeated
  std::atomic<std::uint64_t> failed{0};       ///< given up: dead letters
  std::atomic<std::uint64_t> uncertain{0};    ///< attempts whose outcome was left unknown
  std::atomic<std::uint64_t> acknowledged{0}; ///< acknowledgements queued
  std::atomic<std::uint64_t> ackSkipped{0};   ///< arrivals not acknowledged (automatic, loop ...)
};

class SmtpOutbox {
 public:
  /// Opens the outbox database (throws OutboxError when it cannot). `sink` and `attachments`
  /// must outlive the outbox; `metrics` may be null.
  SmtpOutbox(SmtpOptions options, std::string driverName, std::string serverId, MessageSink& sink,
             AttachmentStore& attachments, MetricsRegistry* metrics = nullptr);
  ~SmtpOutbox();
  SmtpOutbox(const SmtpOutbox&) = delete;
  SmtpOutbox& operator=(const SmtpOutbox&) = delete;

  /// Recovers what a crash interrupted (see above) and starts the sender thread.
  void start();
  /// Stops the sender thread; an attempt under way finishes first. Safe to call twice.
  void stop();

  /// Carries out a command document for the driver: sendReply is composed (the work item is
  /// read from the server with getWorkItem), committed to the outbox and answered ok, or
  /// duplicate when its (workItem, replyId) was taken before. Other commands: error
  /// "unsupported". A reply that cannot be sent at all gets error "invalidAddress" or
  /// "invalidAttachment"; a server or outbox that cannot be reached, "unavailable". Thread-safe.
  std::string deliver(std::string_view document);

  /// Queues the acknowledgement of a mail that just became work item `workItemId`, when
  /// configured and when the mail is not automatic, not from the driver's own addresses, and its
  /// sender was not acknowledged within the interval. At most one per work item. Never throws.
  void acknowledge(const std::string& workItemId, const Mail& mail, std::string_view bytes);

  /// One pass of the sender: sends every due mail, then reports outcomes not yet reported.
  /// Returns how many mails it tried. (The sender thread calls it; tests call it directly.)
  std::size_t sendDue();

  const OutboxFigures& figures() const { return figures_; }
  OutboxStore& store() { return *store_; }

 private:
  struct Instruments {
    Counter* sent = nullptr;
    Counter* retries = nullptr;
    Counter* failed = nullptr;
    Counter* uncertain = nullptr;
    Gauge* queued = nullptr; ///< mails by state, set after each pass of the sender
    Gauge* sentMails = nullptr;
    Gauge* failedMails = nullptr;
  };

  std::optional<Response> submit(const Message& message, Message* answer = nullptr);
  Message envelope(Payload payload);
  std::string answer(const std::optional<Message>& command, ResponseStatus status,
                     std::optional<ResponseError> error);
  void sendOne(const std::string& key);
  void giveUp(const OutboxEntry& entry, const std::string& why);
  void report(const std::string& key);
  Address senderFor(const WorkItem& item) const;
  void refreshGauges();
  void run();

  SmtpOptions options_;
  std::string driverName_;
  std::string serverId_;
  MessageSink& sink_;
  AttachmentStore& attachments_;
  std::unique_ptr<OutboxStore> store_;
  SmtpClient client_;
  MessageCodec codec_;
  OutboxFigures figures_;
  Instruments instruments_;
  std::atomic<std::uint64_t> sequence_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool pending_ = false; ///< a mail was queued since the sender last looked
  /// Makes "not acknowledged yet, then queued" one step when several threads take mail.
  std::mutex acknowledging_;
  std::thread thread_;
};

} // namespace switchboard::email
