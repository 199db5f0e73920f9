#include "smtp_outbox.h"

#include "mail_text.h"

#include <algorithm>
#include <cctype>
#include <iostream>

namespace switchboard::email {
namespace {

constexpr std::size_t kBatch = 50;
// The sender looks at the outbox at least this often, even when nobody wakes it.
constexpr std::chrono::milliseconds kIdleWait{5000};
constexpr std::size_t kMaxReason = 512;

Millis nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

std::optional<std::string> attribute(const WorkItem& item, std::string_view name) {
  for (const Attribute& a : item.attributes) {
    if (a.name == name) {
      return a.value;
    }
  }
  return std::nullopt;
}

std::string replace(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string replyKey(const std::string& workItemId, const std::string& replyId) {
  return "reply\n" + workItemId + "\n" + replyId;
}

} // namespace

SmtpOutbox::SmtpOutbox(SmtpOptions options, std::string driverName, std::string serverId,
                       MessageSink& sink, AttachmentStore& attachments, MetricsRegistry* metrics)
    : options_(std::move(options)), driverName_(std::move(driverName)),
      serverId_(std::move(serverId)), sink_(sink), attachments_(attachments),
      store_(std::make_unique<OutboxStore>(options_.outbox)), client_(options_.server) {
  if (metrics != nullptr) {
    auto& attempts =
        metrics->counterFamily("switchboard_email_outbox_attempts_total",
                               "Attempts to send outbound mail, by result", {"driver", "result"});
    instruments_.sent = &attempts.with({driverName_, "sent"});
    instruments_.retries = &attempts.with({driverName_, "retry"});
    instruments_.failed = &attempts.with({driverName_, "failed"});
    instruments_.uncertain = &metrics
                                  ->counterFamily("switchboard_email_outbox_uncertain_total",
                                                  "Mails whose relay answer a crash or a broken "
                                                  "connection left unknown after the final '.'",
                                                  {"driver"})
                                  .with({driverName_});
    // Gauges the outbox sets itself (a collector would be registered once per process, and
    // several email drivers each have an outbox).
    auto& mails = metrics->gaugeFamily("switchboard_email_outbox_mails",
                                       "Mails in the outbox by state (queued includes those "
                                       "being sent)",
                                       {"driver", "state"});
    instruments_.queued = &mails.with({driverName_, "queued"});
    instruments_.sentMails = &mails.with({driverName_, "sent"});
    instruments_.failedMails = &mails.with({driverName_, "failed"});
    refreshGauges();
  }
}

SmtpOutbox::~SmtpOutbox() {
  stop();
}

void SmtpOutbox::start() {
  std::vector<std::string> uncertain =
      store_->recover(nowMillis(), options_.uncertain == UncertainPolicy::Resend);
  for (const std::string& key : uncertain) {
    ++figures_.uncertain;
    if (instruments_.uncertain != nullptr) {
      instruments_.uncertain->inc();
    }
    std::cerr << "smtp " << driverName_ << ": the relay's answer to " << replace(key, "\n", " ")
              << " is unknown after a restart; "
              << (options_.uncertain == UncertainPolicy::Resend ? "sending it again"
                                                                : "held as failed")
              << '\n';
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    pending_ = true;
  }
  thread_ = std::thread([this] { run(); });
}

void SmtpOutbox::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void SmtpOutbox::refreshGauges() {
  if (instruments_.queued == nullptr) {
    return;
  }
  try {
    OutboxCounts counts = store_->counts();
    instruments_.queued->set(static_cast<double>(counts.queued));
    instruments_.sentMails->set(static_cast<double>(counts.sent));
    instruments_.failedMails->set(static_cast<double>(counts.failed));
  } catch (const OutboxError& e) {
    std::cerr << "smtp " << driverName_ << ": " << e.what() << '\n';
  }
}

void SmtpOutbox::run() {
  Millis lastPrune = 0;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    pending_ = false;
    lock.unlock();
    std::optional<Millis> next;
    try {
      sendDue();
      if (nowMillis() - lastPrune > 3600'000) {
        lastPrune = nowMillis();
        store_->pruneSent(lastPrune - options_.keepSent.count());
      }
      next = store_->nextDue();
      refreshGauges();
    } catch (const std::exception& e) {
      std::cerr << "smtp " << driverName_ << ": " << e.what() << '\n';
    }
    lock.lock();
    auto wait = kIdleWait;
    if (next) {
      wait = std::clamp(std::chrono::milliseconds(*next - nowMillis()),
                        std::chrono::milliseconds(0), kIdleWait);
    }
    wake_.wait_for(lock, wait, [this] { return stopping_ || pending_; });
  }
}

std::size_t SmtpOutbox::sendDue() {
  std::size_t tried = 0;
  for (;;) {
    std::vector<std::string> keys = store_->due(nowMillis(), kBatch);
    for (const std::string& key : keys) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_ && thread_.joinable()) {
          return tried;
        }
      }
      sendOne(key);
      ++tried;
    }
    if (keys.size() < kBatch) {
      break;
    }
  }
  for (const std::string& key : store_->unreported(kBatch)) {
    report(key);
  }
  return tried;
}

void SmtpOutbox::sendOne(const std::string& key) {
  std::optional<OutboxEntry> entry = store_->find(key);
  if (!entry || entry->state != OutboxState::Queued) {
    return;
  }
  Millis started = nowMillis();
  if (started - entry->created > options_.retryHorizon.count()) {
    giveUp(*entry, "not sent within the retry horizon; last error: " +
                       (entry->lastError.empty() ? std::string("none") : entry->lastError));
    return;
  }
  store_->beginAttempt(key, started);
  // The relay's 2xx is recorded the moment it is read: until then a crash leaves the mail
  // "committing", and that window should be no longer than one answer and one fsync.
  bool recorded = false;
  SmtpResult result = client_.send(
      entry->envelopeFrom, entry->recipients, entry->bytes,
      [&] { store_->beginCommit(key, nowMillis()); },
      [&](const SmtpResult& answer) {
        if (answer.kind == SmtpResult::Kind::Sent) {
          store_->markSent(key, nowMillis(), text::cutUtf8(answer.reply, kMaxReason));
          recorded = true;
        }
      });
  Millis finished = nowMillis();
  if (result.kind == SmtpResult::Kind::Sent) {
    if (!recorded) {
      store_->markSent(key, finished, text::cutUtf8(result.reply, kMaxReason));
    }
    ++figures_.sent;
    if (instruments_.sent != nullptr) {
      instruments_.sent->inc();
    }
    report(key);
    return;
  }
  if (result.kind == SmtpResult::Kind::Permanent) {
    giveUp(*entry, result.reply);
    return;
  }
  // A transient failure after the final "." left without an answer: the relay may have the mail.
  // A 4xx answer to the "." is a refusal like any other, retried.
  if (result.committed && !result.answered) {
    ++figures_.uncertain;
    if (instruments_.uncertain != nullptr) {
      instruments_.uncertain->inc();
    }
    if (options_.uncertain == UncertainPolicy::Hold) {
      giveUp(*entry, "outcome unknown after the final '.' (held, not resent): " + result.reply);
      return;
    }
  }
  std::uint32_t attempts = entry->attempts + 1;
  auto delay = options_.retryDelay;
  for (std::uint32_t i = 1; i < attempts && delay < options_.maxRetryDelay; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, options_.maxRetryDelay);
  Millis next = finished + delay.count();
  if (attempts >= options_.maxAttempts || next - entry->created > options_.retryHorizon.count()) {
    giveUp(*entry, "gave up after " + std::to_string(attempts) + " attempts: " + result.reply);
    return;
  }
  store_->retryLater(key, finished, next, text::cutUtf8(result.reply, kMaxReason));
  ++figures_.retries;
  if (instruments_.retries != nullptr) {
    instruments_.retries->inc();
  }
  std::cerr << "smtp " << driverName_ << ": " << entry->messageId << " not sent (attempt "
            << attempts << "): " << result.reply << "; next attempt in " << delay.count()
            << " ms\n";
}

void SmtpOutbox::giveUp(const OutboxEntry& entry, const std::string& why) {
  store_->markFailed(entry.key, nowMillis(), text::cutUtf8(why, kMaxReason));
  ++figures_.failed;
  if (instruments_.failed != nullptr) {
    instruments_.failed->inc();
  }
  std::cerr << "smtp " << driverName_ << ": " << entry.messageId << " given up: " << why << '\n';
  report(entry.key);
}

void SmtpOutbox::report(const std::string& key) {
  std::optional<OutboxEntry> entry = store_->find(key);
  if (!entry || entry->reported ||
      (entry->state != OutboxState::Sent && entry->state != OutboxState::Failed)) {
    return;
  }
  DeliveryReport delivery;
  delivery.workItemId = entry->workItemId;
  delivery.replyId = entry->kind == "ack" ? "ack" : entry->replyId;
  delivery.outcome =
      entry->state == OutboxState::Sent ? DeliveryOutcome::Sent : DeliveryOutcome::Failed;
  delivery.externalId = entry->messageId;
  if (!entry->lastError.empty()) {
    delivery.reason = text::cutUtf8(entry->lastError, kMaxReason);
  }
  Message message = envelope(Notification{std::move(delivery)});
  if (!entry->correlationId.empty()) {
    message.correlationId = entry->correlationId;
  }
  std::optional<Response> response = submit(message);
  // An error answer (the item is gone) will not change by asking again; only no answer does.
  if (response) {
    store_->markReported(key);
  }
}

Message SmtpOutbox::envelope(Payload payload) {
  Message message;
  Millis at = nowMillis();
  message.id = driverName_ + "-out-" + std::to_string(at) + "-" + std::to_string(++sequence_);
  message.time = Timestamp(std::chrono::milliseconds(at));
  message.sender = {PartyType::Driver, driverName_};
  message.addressee = {PartyType::Server, serverId_};
  message.payload = std::move(payload);
  return message;
}

std::optional<Response> SmtpOutbox::submit(const Message& message, Message* answer) {
  std::string text;
  try {
    text = sink_.submit(codec_.encode(message));
  } catch (const std::exception& e) {
    std::cerr << "smtp " << driverName_ << ": the server cannot take " << kindOf(message)
              << " now: " << e.what() << '\n';
    return std::nullopt;
  }
  auto decoded = codec_.decode(text);
  if (!decoded.ok() || !std::holds_alternative<Response>(decoded->payload)) {
    return std::nullopt;
  }
  if (answer != nullptr) {
    *answer = *decoded;
  }
  return std::get<Response>(decoded->payload);
}

std::string SmtpOutbox::answer(const std::optional<Message>& command, ResponseStatus status,
                               std::optional<ResponseError> error) {
  Message response = envelope(Response{});
  Response payload;
  payload.kind = command ? std::string(kindOf(*command)) : "sendReply";
  payload.status = status;
  payload.error = std::move(error);
  if (command) {
    response.correlationId = command->id;
    response.addressee = command->sender;
  }
  response.payload = std::move(payload);
  return codec_.encode(response);
}

Address SmtpOutbox::senderFor(const WorkItem& item) const {
  Address from{"email", options_.from, options_.fromName};
  if (item.contactPoint && item.contactPoint->kind == "email") {
    std::string wrote = lower(item.contactPoint->value);
    if (wrote == lower(options_.from) ||
        std::any_of(options_.alsoFrom.begin(), options_.alsoFrom.end(),
                    [&](const std::string& a) { return lower(a) == wrote; })) {
      from.value = item.contactPoint->value;
    }
  }
  return from;
}

std::string SmtpOutbox::deliver(std::string_view document) {
  auto decoded = codec_.decode(document);
  if (!decoded.ok()) {
    return answer(std::nullopt, ResponseStatus::Error,
                  ResponseError{"invalidMessage", decoded.error().toString()});
  }
  const Message& command = *decoded;
  const auto* commands = std::get_if<Command>(&command.payload);
  const SendReply* reply = commands != nullptr ? std::get_if<SendReply>(commands) : nullptr;
  if (reply == nullptr) {
    return answer(command, ResponseStatus::Error,
                  ResponseError{"unsupported", "an email driver carries out sendReply only"});
  }
  const std::string key = replyKey(reply->workItemId, reply->replyId);
  try {
    if (store_->find(key)) {
      ++figures_.duplicates;
      return answer(command, ResponseStatus::Duplicate, std::nullopt);
    }
  } catch (const OutboxError& e) {
    return answer(command, ResponseStatus::Error, ResponseError{"unavailable", e.what()});
  }

  Message asked = envelope(Request{GetWorkItem{reply->workItemId}});
  Message found;
  std::optional<Response> response = submit(asked, &found);
  if (!response) {
    return answer(command, ResponseStatus::Error,
                  ResponseError{"unavailable",
                                "the server could not tell about work item " + reply->workItemId});
  }
  if (response->status == ResponseStatus::Error || found.workItems.empty()) {
    return answer(command, ResponseStatus::Error,
                  ResponseError{"unknownWorkItem", "no work item " + reply->workItemId});
  }
  const WorkItem& item = found.workItems.front();

  MailDraft draft;
  draft.from = senderFor(item);
  for (const Address& to : reply->to) {
    if (to.kind == "email") {
      draft.to.push_back(to);
    }
  }
  if (draft.to.empty() && item.customer) {
    for (const Address& address : item.customer->addresses) {
      if (address.kind == "email") {
        Address to = address;
        if (!to.name && item.customer->name) {
          to.name = item.customer->name;
        }
        draft.to.push_back(std::move(to));
        break;
      }
    }
  }
  for (const Address& cc : reply->cc) {
    if (cc.kind == "email") {
      draft.cc.push_back(cc);
    }
  }
  if (draft.to.empty()) {
    return answer(command, ResponseStatus::Error,
                  ResponseError{"invalidAddress", "work item " + reply->workItemId +
                                                      " has no customer mail address to reply to"});
  }
  draft.subject = replySubject(reply->subject, item.subject, reply->workItemId);
  Millis at = nowMillis();
  draft.messageId = makeMessageId(reply->workItemId, reply->replyId + "\n" + std::to_string(at),
                                  domainOf(draft.from.value));
  std::optional<std::string> parent = attribute(item, "email.messageId");
  if (parent) {
    std::vector<std::string> ids = messageIdsIn(*parent);
    parent = ids.empty() ? std::nullopt : std::optional<std::string>(ids.front());
  }
  if (auto references = attribute(item, "email.references")) {
    draft.references = messageIdsIn(*references);
  } else if (auto inReplyTo = attribute(item, "email.inReplyTo")) {
    draft.references = messageIdsIn(*inReplyTo);
  }
  if (parent) {
    draft.inReplyTo = parent;
    draft.references.push_back(*parent);
  }
  draft.body = reply->body;
  for (const Attachment& attachment : reply->attachments) {
    std::optional<std::string> bytes = attachments_.get(attachment.digest);
    if (!bytes) {
      return answer(command, ResponseStatus::Error,
                    ResponseError{"invalidAttachment", "no attachment " + attachment.digest +
                                                           " in the attachment store"});
    }
    draft.attachments.push_back({attachment, std::move(*bytes)});
  }
  draft.date = Timestamp(std::chrono::milliseconds(at));

  OutboxEntry entry;
  try {
    OutgoingMail mail = composeMail(draft);
    entry.key = key;
    entry.kind = "reply";
    entry.workItemId = reply->workItemId;
    entry.replyId = reply->replyId;
    entry.correlationId = command.id;
    entry.messageId = mail.messageId;
    entry.envelopeFrom = mail.envelopeFrom;
    entry.recipients = mail.recipients;
    entry.customer = lower(draft.to.front().value);
    entry.bytes = std::move(mail.bytes);
    entry.created = at;
    entry.nextAttempt = at;
  } catch (const std::invalid_argument& e) {
    return answer(command, ResponseStatus::Error, ResponseError{"invalidAddress", e.what()});
  }
  try {
    if (!store_->add(entry)) {
      ++figures_.duplicates;
      return answer(command, ResponseStatus::Duplicate, std::nullopt);
    }
  } catch (const OutboxError& e) {
    return answer(command, ResponseStatus::Error, ResponseError{"unavailable", e.what()});
  }
  ++figures_.queued;
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_all();
  return answer(command, ResponseStatus::Ok, std::nullopt);
}

void SmtpOutbox::acknowledge(const std::string& workItemId, const Mail& mail,
                             std::string_view bytes) {
  if (!options_.autoAcknowledge) {
    return;
  }
  try {
    const AutoAcknowledge& ack = *options_.autoAcknowledge;
    if (!mail.from || isAutomaticMail(bytes)) {
      ++figures_.ackSkipped;
      return;
    }
    std::string customer = lower(mail.from->value);
    bool ours = customer == lower(options_.from) ||
                std::any_of(options_.alsoFrom.begin(), options_.alsoFrom.end(),
                            [&](const std::string& a) { return lower(a) == customer; });
    std::lock_guard serial(acknowledging_);
    Millis at = nowMillis();
    const std::string key = "ack\n" + workItemId;
    if (ours || store_->find(key) ||
        store_->acknowledgedSince(customer, at - ack.interval.count())) {
      ++figures_.ackSkipped;
      return;
    }
    WorkItem item;
    if (!mail.to.empty()) {
      item.contactPoint = mail.to.front();
    }
    MailDraft draft;
    draft.from = senderFor(item);
    draft.to.push_back(*mail.from);
    std::string name = mail.from->name.value_or("");
    std::string subject = mail.subject.value_or("");
    auto fill = [&](std::string text) {
      text = replace(std::move(text), "{id}", workItemId);
      text = replace(std::move(text), "{subject}", subject);
      return replace(std::move(text), "{name}", name);
    };
    draft.subject = replySubject(fill(ack.subject), std::nullopt, workItemId);
    draft.messageId =
        makeMessageId(workItemId, "ack\n" + std::to_string(at), domainOf(draft.from.value));
    if (mail.messageId) {
      std::vector<std::string> ids = messageIdsIn(*mail.messageId);
      if (!ids.empty()) {
        draft.inReplyTo = ids.front();
        draft.references = mail.references;
        for (std::string& reference : draft.references) {
          std::vector<std::string> inner = messageIdsIn(reference);
          reference = inner.empty() ? reference : inner.front();
        }
        draft.references.push_back(ids.front());
      }
    }
    draft.body = Body{"text/plain", fill(ack.text)};
    draft.automatic = true;
    draft.date = Timestamp(std::chrono::milliseconds(at));
    OutgoingMail outgoing = composeMail(draft);
    OutboxEntry entry;
    entry.key = key;
    entry.kind = "ack";
    entry.workItemId = workItemId;
    entry.messageId = outgoing.messageId;
    entry.envelopeFrom = outgoing.envelopeFrom;
    entry.recipients = outgoing.recipients;
    entry.customer = customer;
    entry.bytes = std::move(outgoing.bytes);
    entry.created = at;
    entry.nextAttempt = at;
    if (store_->add(entry)) {
      ++figures_.acknowledged;
      {
        std::lock_guard lock(mutex_);
        pending_ = true;
      }
      wake_.notify_all();
    }
  } catch (const std::exception& e) {
    // An acknowledgement is a courtesy: the work item is committed whatever happens here.
    ++figures_.ackSkipped;
    std::cerr << "smtp " << driverName_ << ": no acknowledgement for " << workItemId << ": "
              << e.what() << '\n';
  }
}

} // namespace switchboard::email
