#include "mail_intake.h"

#include "mail_text.h"

#include <algorithm>
#include <iostream>
#include <thread>

namespace switchboard::email {
namespace {

using text::cutUtf8;

// The schema's limit for one-line labels.
constexpr std::size_t kMaxLabel = 512;

// The status of a server's answer that is plainly "ok" or "duplicate", read without validating
// the whole document again (the answer repeats the work item, so validating it would cost as
// much as the arrival itself). Text and attribute values never hold a raw '<', so the last
// "<response " is the response element. Anything else is decoded in full.
std::optional<ResponseStatus> quickStatus(std::string_view answer) {
  std::size_t element = answer.rfind("<response ");
  if (element == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view tag = answer.substr(element, answer.find('>', element) - element);
  if (tag.find(" status=\"ok\"") != std::string_view::npos) {
    return ResponseStatus::Ok;
  }
  if (tag.find(" status=\"duplicate\"") != std::string_view::npos) {
    return ResponseStatus::Duplicate;
  }
  return std::nullopt;
}

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

} // namespace

MailIntake::MailIntake(IntakeOptions options, MessageSink& sink, AttachmentStore& attachments,
                       MetricsRegistry* metrics)
    : options_(std::move(options)), sink_(sink), attachments_(attachments) {
  if (options_.smtp) {
    outbox_ = std::make_unique<SmtpOutbox>(*options_.smtp, options_.driverName, options_.serverId,
                                           sink_, attachments_, metrics);
  }
}

void MailIntake::start() {
  if (outbox_) {
    outbox_->start();
  }
}

void MailIntake::stop() {
  if (outbox_) {
    outbox_->stop();
  }
}

std::vector<IntakeOutcome> MailIntake::take(std::span<const FetchedMail> mails) {
  std::vector<IntakeOutcome> outcomes(mails.size(), IntakeOutcome::Retry);
  std::size_t threads = std::min(options_.submitThreads, mails.size());
  if (threads <= 1) {
    for (std::size_t i = 0; i < mails.size(); ++i) {
      outcomes[i] = takeOne(mails[i]);
      if (outcomes[i] == IntakeOutcome::Retry) {
        break;
      }
    }
    return outcomes;
  }
  // The first mails go alone until one work item is through: Xerces builds parts of a pattern
  // facet's matcher on its first use, unguarded, so a server's first validations must not run
  // side by side (a valid timestamp, and a valid address kind, were refused that way). A dead
  // letter does not use the work item's types, so it does not count. After that, validation is
  // read-only.
  std::size_t first = 0;
  while (first < mails.size()) {
    IntakeOutcome outcome = outcomes[first] = takeOne(mails[first]);
    ++first;
    if (outcome == IntakeOutcome::Retry) {
      return outcomes;
    }
    if (outcome == IntakeOutcome::Committed || outcome == IntakeOutcome::Duplicate) {
      break;
    }
  }
  // Each submission blocks until its transaction commits; several in flight let the store
  // commit them together instead of syncing once per mail.
  std::atomic<std::size_t> next{first};
  std::atomic<bool> halted{false};
  auto work = [&] {
    for (std::size_t i; !halted && (i = next++) < mails.size();) {
      outcomes[i] = takeOne(mails[i]);
      if (outcomes[i] == IntakeOutcome::Retry) {
        halted = true;
      }
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) {
    workers.emplace_back(work);
  }
  work();
  for (std::thread& worker : workers) {
    worker.join();
  }
  return outcomes;
}

IntakeOutcome MailIntake::takeOne(const FetchedMail& fetched) {
  IntakeOutcome outcome = IntakeOutcome::Retry;
  // The key a dead letter carries, once it is known.
  auto keyOr = [&](auto own) -> std::optional<std::string> {
    if (!fetched.sourceKey.empty()) {
      return fetched.sourceKey;
    }
    return own();
  };
  try {
    if (fetched.size > options_.maxMessageBytes ||
        fetched.bytes.size() > options_.maxMessageBytes) {
      outcome =
          reject(fetched,
                 "message of " +
                     std::to_string(std::max<std::uint64_t>(fetched.size, fetched.bytes.size())) +
                     " bytes is over the limit of " + std::to_string(options_.maxMessageBytes),
                 keyOr([] { return std::optional<std::string>(); }));
    } else if (auto mail = readMail(fetched.bytes); !mail.ok()) {
      outcome = reject(fetched, mail.error(), keyOr([&] { return sha256Digest(fetched.bytes); }));
    } else if (!mail->from) {
      outcome = reject(fetched, "the mail has no sender address",
                       keyOr([&] { return mailSourceKey(*mail, fetched.bytes); }));
    } else {
      Message message = envelope(Notification{WorkItemArrived{}});
      message.workItems.push_back(workItemOf(*mail, fetched));
      // The item's id is read from the answer only when an acknowledgement may need it: the
      // quick reading of the status is what keeps ingest fast.
      bool acknowledges = outbox_ && options_.smtp->autoAcknowledge;
      std::string workItemId;
      std::optional<Response> response = submit(message, acknowledges ? &workItemId : nullptr);
      if (!response) {
        outcome = IntakeOutcome::Retry;
      } else if (response->status == ResponseStatus::Error) {
        // The server refused the document itself: a dead letter with the server's reason.
        outcome = reject(fetched,
                         "refused by the server: " +
                             (response->error ? response->error->code + ": " + response->error->text
                                              : std::string("no reason given")),
                         message.workItems.front().sourceKey);
      } else {
        if (response->status == ResponseStatus::Duplicate) {
          ++counters_.duplicates;
          outcome = IntakeOutcome::Duplicate;
        } else {
          ++counters_.submitted;
          outcome = IntakeOutcome::Committed;
        }
        // Also after "duplicate": a crash may have fallen between the commit and the
        // acknowledgement upstream; the outbox queues at most one per work item.
        if (!workItemId.empty()) {
          outbox_->acknowledge(workItemId, *mail, fetched.bytes);
        }
      }
    }
  } catch (const std::exception& e) {
    // An attachment the disk refused, or anything else unforeseen: the mail stays upstream.
    std::cerr << options_.logName << ' ' << options_.driverName << ": " << fetched.reference << ": "
              << e.what() << '\n';
    outcome = IntakeOutcome::Retry;
  }
  if (outcome == IntakeOutcome::Retry) {
    ++counters_.retries;
  }
  return outcome;
}

IntakeOutcome MailIntake::reject(const FetchedMail& mail, const std::string& reason,
                                 std::optional<std::string> sourceKey) {
  ContactRejected rejected;
  rejected.reason = cutUtf8(reason, kMaxLabel);
  rejected.sourceKey = std::move(sourceKey);
  rejected.reference = cutUtf8(mail.reference, kMaxLabel);
  rejected.size = static_cast<std::int64_t>(std::max<std::uint64_t>(mail.size, mail.bytes.size()));
  if (!submit(envelope(Notification{std::move(rejected)}))) {
    return IntakeOutcome::Retry;
  }
  ++counters_.rejected;
  return IntakeOutcome::Rejected;
}

WorkItem MailIntake::workItemOf(const Mail& mail, const FetchedMail& fetched) const {
  MailItemOptions options = options_.item;
  options.contactPoint = fetched.contactPoint;
  if (!fetched.sourceKey.empty()) {
    options.sourceKey = fetched.sourceKey;
  }
  WorkItem item = mailWorkItem(mail, fetched.bytes, attachments_, options);
  if (fetched.mailbox) {
    item.attributes.push_back({"email.mailbox", cutUtf8(*fetched.mailbox, kMaxLabel)});
  }
  return item;
}

Message MailIntake::envelope(Payload payload) {
  Message message;
  message.id = options_.driverName + "-" + std::to_string(now().time_since_epoch().count()) + "-" +
               std::to_string(++sequence_);
  message.time = now();
  message.sender = {PartyType::Driver, options_.driverName};
  message.addressee = {PartyType::Server, options_.serverId};
  message.payload = std::move(payload);
  return message;
}

std::optional<Response> MailIntake::submit(const Message& message, std::string* workItemId) {
  std::string answer;
  try {
    answer = sink_.submit(codec_.encode(message));
  } catch (const InvalidDocument& e) {
    // The server kept the document as a dead letter; sending it again would only add another.
    std::cerr << options_.logName << ' ' << options_.driverName
              << ": the server refused a document: " << e.what() << '\n';
    Response kept;
    kept.kind = std::string(kindOf(message));
    kept.status = ResponseStatus::Error;
    kept.error = ResponseError{"invalidDocument", e.what()};
    return kept;
  } catch (const std::exception& e) {
    std::cerr << options_.logName << ' ' << options_.driverName
              << ": server cannot take mail now: " << e.what() << '\n';
    return std::nullopt;
  }
  if (workItemId == nullptr) {
    if (std::optional<ResponseStatus> status = quickStatus(answer)) {
      return Response{std::string(kindOf(message)), *status, std::nullopt};
    }
  }
  auto decoded = codec_.decode(answer);
  if (!decoded.ok() || !std::holds_alternative<Response>(decoded->payload)) {
    std::cerr << options_.logName << ' ' << options_.driverName
              << ": unreadable answer from the server\n";
    return std::nullopt;
  }
  if (workItemId != nullptr && !decoded->workItems.empty() && decoded->workItems.front().id) {
    *workItemId = *decoded->workItems.front().id;
  }
  return std::get<Response>(decoded->payload);
}

std::string MailIntake::deliver(std::string_view document) {
  if (outbox_) {
    return outbox_->deliver(document);
  }
  return refuseCommand(document, "driver " + options_.driverName +
                                     " only receives mail: it has no <smtp> for replies");
}

std::string MailIntake::refuseCommand(std::string_view document, std::string_view why) {
  Message response = envelope(Response{});
  auto command = codec_.decode(document);
  Response answer;
  answer.kind = command.ok() ? std::string(kindOf(*command)) : "sendReply";
  answer.status = ResponseStatus::Error;
  answer.error = ResponseError{"unsupported", std::string(why)};
  if (command.ok()) {
    response.correlationId = command->id;
    response.addressee = command->sender;
  }
  response.payload = answer;
  return codec_.encode(response);
}

void readMailboxSource(const DriverContext& context, MailboxSourceOptions& options,
                       std::string logName, std::uint16_t defaultPort, std::uint16_t implicitPort,
                       bool withFolder) {
  const ConfigElement& element = elementOf(context);
  IntakeOptions& intake = options.intake;
  intake.driverName = context.section.name;
  intake.serverId = context.serverId;
  intake.logName = std::move(logName);
  if (element.find("maxMessageBytes") != nullptr) {
    intake.maxMessageBytes = element.byteSize("maxMessageBytes");
  }
  if (element.find("submitThreads") != nullptr) {
    intake.submitThreads = static_cast<std::size_t>(element.integer("submitThreads", 1, 64));
  }
  if (element.find("maxAttachmentBytes") != nullptr) {
    intake.item.maxAttachmentBytes = element.byteSize("maxAttachmentBytes");
  }
  if (auto threading = element.optionalString("threading")) {
    auto mode = threadingFromString(*threading);
    if (!mode) {
      element.fail("threading", "'" + *threading + "' is not join, link or off");
    }
    intake.item.threading = *mode;
  }
  intake.smtp = smtpOptionsOfDriver(&element, context.section.name);
  options.server = mailServerOf(element, defaultPort, implicitPort);
  options.mailboxes = mailboxesOf(element, withFolder);
  if (element.find("pollInterval") != nullptr) {
    options.pollInterval = element.duration("pollInterval");
  }
  if (element.find("fetchBatch") != nullptr) {
    options.fetchBatch = static_cast<std::size_t>(element.integer("fetchBatch", 1, 10000));
  }
}

} // namespace switchboard::email
