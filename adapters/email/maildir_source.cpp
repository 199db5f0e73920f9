#include "maildir_source.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

namespace switchboard::email {
namespace {

namespace fs = std::filesystem;

// The schema's limit for one-line labels.
constexpr std::size_t kMaxLabel = 512;

std::string readAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return std::move(content).str();
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string cut(std::string text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  text.resize(end);
  return text;
}

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

} // namespace

MaildirSource::MaildirSource(MaildirOptions options, MessageSink& sink,
                             AttachmentStore& attachments, MetricsRegistry* metrics)
    : options_(std::move(options)), sink_(sink), attachments_(attachments) {
  if (options_.smtp) {
    outbox_ = std::make_unique<SmtpOutbox>(*options_.smtp, options_.driverName, options_.serverId,
                                           sink_, attachments_, metrics);
  }
}

MaildirSource::~MaildirSource() {
  stop();
}

void MaildirSource::start() {
  for (const char* folder : {"new", "cur", "tmp", "rejected"}) {
    fs::create_directories(options_.path / folder);
  }
  if (outbox_) {
    outbox_->start();
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void MaildirSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (outbox_) {
    outbox_->stop();
  }
}

void MaildirSource::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      pollOnce();
    } catch (const std::exception& e) {
      std::cerr << "maildir " << options_.driverName << ": " << e.what() << '\n';
    }
    lock.lock();
    wake_.wait_for(lock, options_.pollInterval, [this] { return stopping_; });
  }
}

std::size_t MaildirSource::pollOnce() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(options_.path / "new")) {
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with('.')) {
      files.push_back(entry.path());
    }
  }
  // Maildir names start with the delivery time, so name order is arrival order.
  std::sort(files.begin(), files.end());
  std::size_t taken = 0;
  for (const fs::path& file : files) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && thread_.joinable()) {
        break;
      }
    }
    if (take(file) == Outcome::Retry) {
      ++counters_.retries;
      break;
    }
    ++taken;
  }
  return taken;
}

MaildirSource::Outcome MaildirSource::take(const fs::path& file) {
  std::uint64_t size = fs::file_size(file);
  if (size > options_.maxMessageBytes) {
    return reject(file,
                  "message of " + std::to_string(size) + " bytes is over the limit of " +
                      std::to_string(options_.maxMessageBytes),
                  std::nullopt, size);
  }
  std::string bytes = readAll(file);
  auto mail = readMail(bytes);
  if (!mail.ok()) {
    return reject(file, mail.error(), sha256Digest(bytes), size);
  }
  if (!mail->from) {
    return reject(file, "the mail has no sender address", mailSourceKey(*mail, bytes), size);
  }
  Message message = envelope(Notification{WorkItemArrived{}});
  message.workItems.push_back(workItemOf(*mail, bytes));
  std::string workItemId;
  std::optional<Response> response = submit(message, &workItemId);
  if (!response) {
    return Outcome::Retry;
  }
  if (response->status == ResponseStatus::Error) {
    // The server refused the document itself: keep the mail aside with the server's reason.
    return reject(file,
                  "refused by the server: " +
                      (response->error ? response->error->code + ": " + response->error->text
                                       : std::string("no reason given")),
                  message.workItems.front().sourceKey, size);
  }
  ++(response->status == ResponseStatus::Duplicate ? counters_.duplicates : counters_.submitted);
  // Also after "duplicate": a crash may have fallen between the commit and the acknowledgement,
  // which the outbox queues at most once per work item.
  if (outbox_ && !workItemId.empty()) {
    outbox_->acknowledge(workItemId, *mail, bytes);
  }
  fs::rename(file, options_.path / "cur" / (file.filename().string() + ":2,S"));
  return Outcome::Done;
}

MaildirSource::Outcome MaildirSource::reject(const fs::path& file, const std::string& reason,
                                             std::optional<std::string> sourceKey,
                                             std::uint64_t size) {
  fs::path kept = fs::path("rejected") / file.filename();
  ContactRejected rejected;
  rejected.reason = cut(reason, kMaxLabel);
  rejected.sourceKey = std::move(sourceKey);
  rejected.reference = kept.string();
  rejected.size = static_cast<std::int64_t>(size);
  if (!submit(envelope(Notification{std::move(rejected)}))) {
    return Outcome::Retry;
  }
  ++counters_.rejected;
  fs::rename(file, options_.path / kept);
  return Outcome::Done;
}

WorkItem MaildirSource::workItemOf(const Mail& mail, std::string_view bytes) const {
  MailItemOptions options;
  options.contactPoint = options_.contactPoint;
  options.maxAttachmentBytes = options_.maxAttachmentBytes;
  options.threading = options_.threading;
  return mailWorkItem(mail, bytes, attachments_, options);
}

Message MaildirSource::envelope(Payload payload) {
  Message message;
  message.id = options_.driverName + "-" + std::to_string(now().time_since_epoch().count()) + "-" +
               std::to_string(++sequence_);
  message.time = now();
  message.sender = {PartyType::Driver, options_.driverName};
  message.addressee = {PartyType::Server, options_.serverId};
  message.payload = std::move(payload);
  return message;
}

std::optional<Response> MaildirSource::submit(const Message& message, std::string* workItemId) {
  std::string answer;
  try {
    answer = sink_.submit(codec_.encode(message));
  } catch (const std::exception& e) {
    std::cerr << "maildir " << options_.driverName << ": server cannot take mail now: " << e.what()
              << '\n';
    return std::nullopt;
  }
  auto decoded = codec_.decode(answer);
  if (!decoded.ok() || !std::holds_alternative<Response>(decoded->payload)) {
    std::cerr << "maildir " << options_.driverName << ": unreadable answer from the server\n";
    return std::nullopt;
  }
  if (workItemId != nullptr && !decoded->workItems.empty() && decoded->workItems.front().id) {
    *workItemId = *decoded->workItems.front().id;
  }
  return std::get<Response>(decoded->payload);
}

std::string MaildirSource::deliver(std::string_view document) {
  if (outbox_) {
    return outbox_->deliver(document);
  }
  Message response = envelope(Response{});
  auto command = codec_.decode(document);
  Response answer;
  // The server delivers only documents it wrote itself; "sendReply" names the usual command.
  answer.kind = command.ok() ? std::string(kindOf(*command)) : "sendReply";
  answer.status = ResponseStatus::Error;
  answer.error = ResponseError{"unsupported", "the Maildir source only receives mail"};
  if (command.ok()) {
    response.correlationId = command->id;
    response.addressee = command->sender;
  }
  response.payload = answer;
  return codec_.encode(response);
}

void registerMaildirDriver(DriverRegistry& registry) {
  registry.add("maildir", [](const DriverContext& context) {
    const DriverSection& section = context.section;
    MaildirOptions options;
    options.driverName = section.name;
    options.serverId = context.serverId;
    options.path = section.path("path");
    options.pollInterval = section.duration("pollInterval", std::chrono::seconds(1));
    options.maxMessageBytes = section.bytes("maxMessageBytes", 25u << 20);
    options.contactPoint = section.optionalText("contactPoint");
    options.maxAttachmentBytes = section.bytes("maxAttachmentBytes", 20u << 20);
    if (auto threading = section.optionalText("threading")) {
      auto mode = threadingFromString(*threading);
      if (!mode) {
        section.fail("threading", "must be join, link or off");
      }
      options.threading = *mode;
    }
    options.smtp = smtpOptionsOfDriver(context.element, section.name);
    return std::make_unique<MaildirSource>(std::move(options), context.sink, context.attachments,
                                           context.metrics);
  });
}

} // namespace switchboard::email
