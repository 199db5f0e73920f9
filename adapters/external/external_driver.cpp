#include "external_driver.h"

#include "switchboard/timestamp.h"

#include <algorithm>

namespace switchboard::external {
namespace {

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

} // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  std::size_t length = std::max(a.size(), b.size());
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < length; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned char>(x ^ y);
  }
  return difference == 0 && !a.empty();
}

ExternalDriver::ExternalDriver(ExternalOptions options, MessageSink& sink, Logger& logger,
                               ExternalObserver observer)
    : options_(std::move(options)), sink_(sink), logger_(logger), observer_(std::move(observer)),
      http_(std::make_shared<Session>()) {
  http_->id = 1;
  if (options_.key.empty()) {
    throw std::invalid_argument("external driver '" + options_.name + "' needs a key");
  }
}

ExternalDriver::~ExternalDriver() {
  stop();
}

void ExternalDriver::start() {
  Lock lock(mutex_);
  running_ = true;
}

void ExternalDriver::stop() {
  Lock lock(mutex_);
  running_ = false;
  active_.reset();
  outbox_.clear();
  changed_.notify_all();
}

bool ExternalDriver::running() const {
  Lock lock(mutex_);
  return running_;
}

bool ExternalDriver::checkKey(std::string_view presented) const {
  return constantTimeEquals(presented, options_.key);
}

bool ExternalDriver::liveLocked() const {
  if (!running_ || !active_) {
    return false;
  }
  return active_->websocket ||
         std::chrono::steady_clock::now() - lastHeard_ < options_.heartbeatTimeout;
}

bool ExternalDriver::registered() const {
  Lock lock(mutex_);
  return liveLocked();
}

bool ExternalDriver::waitRegistered(std::chrono::milliseconds timeout) const {
  Lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return liveLocked(); });
}

std::vector<std::string> ExternalDriver::registeredMedia() const {
  Lock lock(mutex_);
  return media_;
}

Message ExternalDriver::envelope(Payload payload) {
  Message message;
  message.id = options_.serverId + ".ext." + options_.name + "." + std::to_string(++sequence_);
  message.time = now();
  message.sender = {PartyType::Server, options_.serverId};
  message.addressee = {PartyType::Driver, options_.name};
  message.payload = std::move(payload);
  return message;
}

std::string ExternalDriver::answerError(const Message& request, const std::string& code,
                                        const std::string& text) {
  Message response = envelope(
      Response{std::string(kindOf(request)), ResponseStatus::Error, ResponseError{code, text}});
  response.correlationId = request.id;
  return codec_.encode(response);
}

std::string ExternalDriver::refuse(const Message& request, const std::string& code,
                                   const std::string& text) {
  ++counters_.refused;
  logger_.warn("external.refused", {{"driver", options_.name}, {"code", code}, {"reason", text}});
  if (observer_.refused) {
    observer_.refused(code, text);
  }
  return answerError(request, code, text);
}

// The answer to a command that the driver did not answer: it looks as if the driver wrote it, as
// the server reads every command's answer as the driver's response.
std::string ExternalDriver::failCommand(std::string_view document, const std::string& code,
                                        const std::string& text) {
  ++counters_.commandsFailed;
  logger_.warn("external.command_failed",
               {{"driver", options_.name}, {"code", code}, {"reason", text}});
  Message response;
  response.id = options_.name + ".srv." + std::to_string(++sequence_);
  response.time = now();
  response.sender = {PartyType::Driver, options_.name};
  response.addressee = {PartyType::Server, options_.serverId};
  auto command = codec_.decode(document);
  std::string kind = "sendReply";
  if (command.ok()) {
    kind = std::string(kindOf(*command));
    response.correlationId = command->id;
    response.addressee = command->sender;
  }
  response.payload = Response{kind, ResponseStatus::Error, ResponseError{code, text}};
  return codec_.encode(response);
}

std::string ExternalDriver::deliver(std::string_view document) {
  auto command = codec_.decode(document);
  if (!command.ok()) {
    return failCommand(document, "invalidMessage", command.error().toString());
  }
  auto pending = std::make_shared<Pending>();
  std::shared_ptr<Session> session;
  {
    Lock lock(mutex_);
    if (!liveLocked()) {
      return failCommand(document, "driverUnavailable",
                         "driver '" + options_.name +
                             "' is not connected; the command was not sent, send it again later");
    }
    if (!pending_.emplace(command->id, pending).second) {
      return failCommand(document, "invalidMessage",
                         "a command with id " + command->id + " is already waiting");
    }
    session = active_;
    if (!session->websocket) {
      outbox_.emplace_back(document);
      changed_.notify_all();
    }
  }
  ++counters_.commandsSent;
  if (session->websocket) {
    try {
      session->send(std::string(document));
    } catch (const std::exception& e) {
      Lock lock(mutex_);
      pending_.erase(command->id);
      return failCommand(document, "driverUnavailable",
                         "sending to driver '" + options_.name + "' failed: " + e.what());
    }
  }
  Lock lock(mutex_);
  bool answered = changed_.wait_for(lock, options_.commandTimeout, [&] {
    return pending->answer.has_value() || !running_ || active_ != session;
  });
  pending_.erase(command->id);
  if (pending->answer) {
    return std::move(*pending->answer);
  }
  std::string text(document);
  auto queued = std::find(outbox_.begin(), outbox_.end(), text);
  bool taken = queued == outbox_.end();
  if (!taken) {
    outbox_.erase(queued);
  }
  lock.unlock();
  if (!taken) {
    return failCommand(document, "driverUnavailable",
                       "driver '" + options_.name + "' did not fetch the command within " +
                           std::to_string(options_.commandTimeout.count()) +
                           " ms (GET .../commands)");
  }
  if (answered) {
    return failCommand(document, "driverUnavailable",
                       "driver '" + options_.name + "' went away before it answered");
  }
  return failCommand(document, "driverTimeout",
                     "driver '" + options_.name + "' took the command but did not answer within " +
                         std::to_string(options_.commandTimeout.count()) + " ms");
}

std::shared_ptr<Session> ExternalDriver::openSession(std::function<void(const std::string&)> send) {
  auto session = std::make_shared<Session>();
  session->websocket = true;
  session->send = std::move(send);
  Lock lock(mutex_);
  session->id = nextSessionId_++;
  return session;
}

void ExternalDriver::closeSession(const std::shared_ptr<Session>& session) {
  Lock lock(mutex_);
  if (active_ == session) {
    active_.reset();
    logger_.info("external.disconnected", {{"driver", options_.name}});
    changed_.notify_all();
  }
}

std::string ExternalDriver::registerSession(const Message& message,
                                            const RegisterDriver& registration,
                                            const std::shared_ptr<Session>& session) {
  if (registration.driver != options_.name) {
    return refuse(message, "forbidden",
                  "this connection is for driver '" + options_.name + "', not '" +
                      registration.driver + "'");
  }
  for (const std::string& medium : registration.media) {
    if (!options_.media.empty() &&
        std::find(options_.media.begin(), options_.media.end(), medium) == options_.media.end()) {
      return refuse(message, "unsupportedMedium",
                    "driver '" + options_.name + "' is not configured for medium '" + medium + "'");
    }
  }
  {
    Lock lock(mutex_);
    if (liveLocked() && active_ != session) {
      lock.unlock();
      return refuse(message, "driverNameInUse",
                    "driver '" + options_.name + "' is connected already on another " +
                        (active_->websocket ? "WebSocket" : "HTTP session"));
    }
    if (!running_) {
      lock.unlock();
      return refuse(message, "driverUnavailable", "the server is stopping");
    }
    active_ = session;
    media_ = registration.media;
    lastHeard_ = std::chrono::steady_clock::now();
    changed_.notify_all();
  }
  ++counters_.registrations;
  std::string media;
  for (const auto& medium : registration.media) {
    media += (media.empty() ? "" : " ") + medium;
  }
  logger_.info("external.registered", {{"driver", options_.name},
                                       {"transport", session->websocket ? "websocket" : "http"},
                                       {"media", media},
                                       {"software", registration.software.value_or("")}});
  Message response = envelope(Response{"registerDriver", ResponseStatus::Ok, std::nullopt});
  response.correlationId = message.id;
  return codec_.encode(response);
}

std::string ExternalDriver::receive(std::string_view document,
                                    const std::shared_ptr<Session>& session) {
  auto decoded = codec_.decode(document);
  if (!decoded.ok()) {
    std::string reason = decoded.error().toString();
    ++counters_.badDocuments;
    logger_.warn("external.bad_document", {{"driver", options_.name}, {"reason", reason}});
    if (observer_.badDocument) {
      observer_.badDocument(reason);
    }
    try {
      sink_.submit(document); // keeps the dead letter and counts it
    } catch (const std::exception&) {
    }
    throw InvalidDocument(reason);
  }
  ++counters_.received;
  const Message& message = *decoded;
  if (message.sender.type != PartyType::Driver || message.sender.id != options_.name) {
    return refuse(message, "forbidden",
                  "the sender must be driver '" + options_.name + "', the key's driver");
  }
  if (const auto* request = std::get_if<Request>(&message.payload)) {
    if (const auto* registration = std::get_if<RegisterDriver>(request)) {
      return registerSession(message, *registration, session);
    }
  }
  {
    Lock lock(mutex_);
    if (active_ != session || !liveLocked()) {
      lock.unlock();
      return refuse(message, "notRegistered",
                    "send registerDriver first (again after a reconnect or a long silence)");
    }
    lastHeard_ = std::chrono::steady_clock::now();
    if (std::holds_alternative<Response>(message.payload)) {
      auto waiting = message.correlationId ? pending_.find(*message.correlationId) : pending_.end();
      if (waiting == pending_.end()) {
        lock.unlock();
        logger_.warn(
            "external.unexpected_response",
            {{"driver", options_.name}, {"correlationId", message.correlationId.value_or("")}});
        return {};
      }
      waiting->second->answer.emplace(document);
      changed_.notify_all();
      return {};
    }
    if (std::holds_alternative<Notification>(message.payload) &&
        std::holds_alternative<WorkItemArrived>(std::get<Notification>(message.payload)) &&
        message.workItems.size() == 1 &&
        std::find(media_.begin(), media_.end(), message.workItems.front().medium) == media_.end()) {
      std::string medium = message.workItems.front().medium;
      lock.unlock();
      return refuse(message, "unsupportedMedium",
                    "driver '" + options_.name + "' did not register medium '" + medium + "'");
    }
  }
  if (const auto* request = std::get_if<Request>(&message.payload)) {
    if (std::holds_alternative<Ping>(*request)) {
      Message response = envelope(Response{"ping", ResponseStatus::Ok, std::nullopt});
      response.correlationId = message.id;
      return codec_.encode(response);
    }
  }
  try {
    return sink_.submit(document);
  } catch (const InvalidDocument&) {
    throw;
  } catch (const std::exception& e) {
    return answerError(message, "storeUnavailable", e.what());
  }
}

std::optional<std::string> ExternalDriver::nextCommand(std::chrono::milliseconds wait) {
  Lock lock(mutex_);
  if (active_ != http_ || !liveLocked()) {
    throw std::logic_error("register over HTTP first (POST registerDriver)");
  }
  lastHeard_ = std::chrono::steady_clock::now();
  changed_.wait_for(lock, wait, [&] { return !outbox_.empty() || active_ != http_; });
  lastHeard_ = std::chrono::steady_clock::now();
  if (outbox_.empty() || active_ != http_) {
    return std::nullopt;
  }
  std::string command = std::move(outbox_.front());
  outbox_.pop_front();
  return command;
}

void ExternalDriver::reportError(std::string text) {
  ++counters_.reportedErrors;
  logger_.warn("external.driver_reported_error", {{"driver", options_.name}, {"reason", text}});
  if (observer_.reportedError) {
    observer_.reportedError(text);
  }
}

bool ExternalDriver::push(const std::string& document) {
  std::shared_ptr<Session> session;
  {
    Lock lock(mutex_);
    if (!liveLocked()) {
      return false;
    }
    session = active_;
    if (!session->websocket) {
      outbox_.push_back(document);
      changed_.notify_all();
      return true;
    }
  }
  try {
    session->send(document);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace switchboard::external
