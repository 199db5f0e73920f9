#include "external_endpoint.h"

#include <Poco/Buffer.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/URI.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

namespace switchboard::external {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::WebSocket;

constexpr std::string_view kPrefix = "/v1/drivers/";
constexpr std::size_t kMaxReportBytes = 4096;
constexpr std::chrono::seconds kDefaultPollWait{25};
constexpr int kFin = WebSocket::FRAME_FLAG_FIN;

struct Problem {
  HTTPResponse::HTTPStatus status;
  std::string type;
  std::string title;
  std::string detail;
};

void sendProblem(Poco::Net::HTTPServerResponse& response, const Problem& problem,
                 std::string_view instance) {
  Poco::JSON::Object object;
  object.set("type", "urn:switchboard:problem:" + problem.type);
  object.set("title", problem.title);
  object.set("status", static_cast<int>(problem.status));
  object.set("detail", problem.detail);
  object.set("instance", std::string(instance));
  std::ostringstream body;
  object.stringify(body);
  std::string text = std::move(body).str();
  response.setStatusAndReason(problem.status);
  response.setContentType("application/problem+json");
  response.set("Cache-Control", "no-store");
  if (problem.status == HTTPResponse::HTTP_UNAUTHORIZED) {
    response.set("WWW-Authenticate", "Bearer realm=\"switchboard-drivers\"");
  }
  response.setContentLength64(static_cast<Poco::Int64>(text.size()));
  response.sendBuffer(text.data(), text.size());
}

void sendBody(Poco::Net::HTTPServerResponse& response, HTTPResponse::HTTPStatus status,
              const std::string& contentType, const std::string& body) {
  response.setStatusAndReason(status);
  response.set("Cache-Control", "no-store");
  if (!contentType.empty()) {
    response.setContentType(contentType);
  }
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  response.sendBuffer(body.data(), body.size());
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Reads at most `limit` bytes of body; nothing when there are more.
std::optional<std::string> readBody(Poco::Net::HTTPServerRequest& request, std::size_t limit) {
  if (request.hasContentLength() &&
      request.getContentLength64() > static_cast<Poco::Int64>(limit)) {
    return std::nullopt;
  }
  std::string body;
  std::istream& in = request.stream();
  char buffer[16384];
  while (in) {
    in.read(buffer, sizeof buffer);
    auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) {
      break;
    }
    if (body.size() + got > limit) {
      return std::nullopt;
    }
    body.append(buffer, got);
  }
  return body;
}

} // namespace

struct ExternalEndpoint::Impl {
  Impl(Logger& l, MetricsRegistry* metrics)
      : logger(l), badDocuments(metrics == nullptr
                                    ? nullptr
                                    : &metrics->counterFamily(
                                          "switchboard_external_bad_documents_total",
                                          "Documents from external drivers that are not messages.",
                                          {"driver"})),
        authFailures(metrics == nullptr
                         ? nullptr
                         : &metrics->counterFamily(
                               "switchboard_external_auth_failures_total",
                               "Requests to the external driver endpoint refused, by reason: "
                               "unknownDriver, missingKey, wrongKey.",
                               {"reason"})),
        connected(metrics == nullptr
                      ? nullptr
                      : &metrics->gauge("switchboard_external_connections",
                                        "Open WebSocket connections of external drivers.")) {}

  void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
  ExternalDriver* authenticate(Poco::Net::HTTPServerRequest& request,
                               Poco::Net::HTTPServerResponse& response, const std::string& name,
                               const std::string& path);
  void connect(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
               Poco::Net::HTTPServerResponse& response);
  void messages(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
                Poco::Net::HTTPServerResponse& response, const std::string& path);
  void commands(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
                Poco::Net::HTTPServerResponse& response, const std::string& path);
  void errors(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
              Poco::Net::HTTPServerResponse& response, const std::string& path);
  void authFailed(const std::string& reason) {
    if (authFailures != nullptr) {
      authFailures->with({reason}).inc();
    }
  }

  Logger& logger;
  Family<Counter>* badDocuments;
  Family<Counter>* authFailures;
  Gauge* connected;

  /// One WebSocket and the thread that reads it.
  struct Connection {
    std::string driver;
    std::shared_ptr<WebSocket> socket;
    std::thread reader;
    std::atomic<bool> finished{false};
  };

  void serve(ExternalDriver& driver, const std::shared_ptr<Connection>& connection);
  /// Shuts the sockets of `leaving` and joins their readers; called without the mutex.
  static void end(std::vector<std::shared_ptr<Connection>>& leaving);

  std::mutex mutex;
  std::map<std::string, ExternalDriver*> drivers;
  std::vector<std::shared_ptr<Connection>> connections;
};

ExternalDriver* ExternalEndpoint::Impl::authenticate(Poco::Net::HTTPServerRequest& request,
                                                     Poco::Net::HTTPServerResponse& response,
                                                     const std::string& name,
                                                     const std::string& path) {
  ExternalDriver* driver = nullptr;
  {
    std::lock_guard lock(mutex);
    auto found = drivers.find(name);
    if (found != drivers.end()) {
      driver = found->second;
    }
  }
  if (driver == nullptr) {
    authFailed("unknownDriver");
    logger.warn("external.unknown_driver", {{"driver", name.substr(0, 128)}});
    sendProblem(
        response,
        {HTTPResponse::HTTP_NOT_FOUND, "not-found", "Not found",
         "no external driver named '" + name.substr(0, 128) + "' is configured in this server"},
        path);
    return nullptr;
  }
  std::string header = request.get("Authorization", "");
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() || lower(header.substr(0, kBearer.size())) != kBearer) {
    authFailed("missingKey");
    sendProblem(response,
                {HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "Unauthorized",
                 "send the driver's key as \"Authorization: Bearer <key>\""},
                path);
    return nullptr;
  }
  if (!driver->checkKey(std::string_view(header).substr(kBearer.size()))) {
    authFailed("wrongKey");
    logger.warn("external.wrong_key", {{"driver", name}});
    sendProblem(response,
                {HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "Unauthorized",
                 "this is not the key of driver '" + name + "'"},
                path);
    return nullptr;
  }
  return driver;
}

void ExternalEndpoint::Impl::handle(Poco::Net::HTTPServerRequest& request,
                                    Poco::Net::HTTPServerResponse& response) {
  const std::string& uri = request.getURI();
  std::string path = uri.substr(0, uri.find('?'));
  std::string name;
  std::string what;
  if (path.starts_with(kPrefix)) {
    std::string rest = path.substr(kPrefix.size());
    auto slash = rest.find('/');
    if (slash != std::string::npos && slash > 0) {
      try {
        Poco::URI::decode(rest.substr(0, slash), name);
      } catch (const Poco::Exception&) {
        name.clear(); // a broken escape names no driver
      }
      what = rest.substr(slash + 1);
    }
  }
  const std::string& method = request.getMethod();
  bool known = (method == "GET" && (what == "connect" || what == "commands")) ||
               (method == "POST" && (what == "messages" || what == "errors"));
  if (name.empty() || !known) {
    sendProblem(response,
                {HTTPResponse::HTTP_NOT_FOUND, "no-route", "No such endpoint",
                 "no endpoint " + method + " " + path},
                path);
    return;
  }
  ExternalDriver* driver = authenticate(request, response, name, path);
  if (driver == nullptr) {
    return;
  }
  if (what == "connect") {
    connect(*driver, request, response);
  } else if (what == "messages") {
    messages(*driver, request, response, path);
  } else if (what == "commands") {
    commands(*driver, request, response, path);
  } else {
    errors(*driver, request, response, path);
  }
}

void ExternalEndpoint::Impl::messages(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
                                      Poco::Net::HTTPServerResponse& response,
                                      const std::string& path) {
  std::string type = lower(request.getContentType().substr(0, request.getContentType().find(';')));
  if (type != "application/xml" && type != "text/xml") {
    sendProblem(response,
                {HTTPResponse::HTTP_UNSUPPORTEDMEDIATYPE, "unsupported-media-type",
                 "Unsupported media type",
                 "send the message as application/xml, not '" + request.getContentType() + "'"},
                path);
    return;
  }
  auto body = readBody(request, driver.options().maxMessageBytes);
  if (!body) {
    response.setKeepAlive(false);
    sendProblem(
        response,
        {HTTPResponse::HTTP_REQUESTENTITYTOOLARGE, "payload-too-large", "Request body too large",
         "the body is larger than " + std::to_string(driver.options().maxMessageBytes) + " bytes"},
        path);
    return;
  }
  try {
    std::string answer = driver.receive(*body, driver.httpSession());
    if (answer.empty()) {
      sendBody(response, HTTPResponse::HTTP_NO_CONTENT, "", "");
    } else {
      sendBody(response, HTTPResponse::HTTP_OK, "application/xml; charset=utf-8", answer);
    }
  } catch (const InvalidDocument& e) {
    if (badDocuments != nullptr) {
      badDocuments->with({driver.name()}).inc();
    }
    sendProblem(response,
                {HTTPResponse::HTTP_BAD_REQUEST, "bad-request", "not a valid message", e.what()},
                path);
  }
}

void ExternalEndpoint::Impl::commands(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
                                      Poco::Net::HTTPServerResponse& response,
                                      const std::string& path) {
  std::chrono::milliseconds wait = kDefaultPollWait;
  try {
    for (const auto& [name, value] : Poco::URI(request.getURI()).getQueryParameters()) {
      if (name == "wait") {
        std::size_t used = 0;
        long seconds = std::stol(value, &used);
        if (used != value.size() || seconds < 0) {
          throw std::invalid_argument(value);
        }
        wait = std::chrono::seconds(seconds);
      }
    }
  } catch (const std::exception&) {
    sendProblem(response,
                {HTTPResponse::HTTP_BAD_REQUEST, "bad-request", "Bad request",
                 "wait is a whole number of seconds"},
                path);
    return;
  }
  // A poll must end before the driver counts as gone.
  wait = std::min(wait, driver.options().heartbeatTimeout / 2);
  try {
    auto command = driver.nextCommand(wait);
    if (command) {
      sendBody(response, HTTPResponse::HTTP_OK, "application/xml; charset=utf-8", *command);
    } else {
      sendBody(response, HTTPResponse::HTTP_NO_CONTENT, "", "");
    }
  } catch (const std::logic_error& e) {
    sendProblem(response,
                {HTTPResponse::HTTP_CONFLICT, "conflict", "notRegistered",
                 std::string(e.what()) + "; a driver connected over WebSocket gets its commands "
                                         "there"},
                path);
  }
}

void ExternalEndpoint::Impl::errors(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
                                    Poco::Net::HTTPServerResponse& response,
                                    const std::string& path) {
  auto body = readBody(request, kMaxReportBytes);
  if (!body) {
    response.setKeepAlive(false);
    sendProblem(response,
                {HTTPResponse::HTTP_REQUESTENTITYTOOLARGE, "payload-too-large",
                 "Request body too large",
                 "a report is at most " + std::to_string(kMaxReportBytes) + " bytes"},
                path);
    return;
  }
  driver.reportError(*body);
  sendBody(response, HTTPResponse::HTTP_NO_CONTENT, "", "");
}

void ExternalEndpoint::Impl::connect(ExternalDriver& driver, Poco::Net::HTTPServerRequest& request,
                                     Poco::Net::HTTPServerResponse& response) {
  std::shared_ptr<WebSocket> socket;
  try {
    socket = std::make_shared<WebSocket>(request, response);
  } catch (const Poco::Net::WebSocketException&) {
    if (!response.sent()) {
      sendBody(response, HTTPResponse::HTTP_BAD_REQUEST, "text/plain",
               "this endpoint takes WebSocket upgrades only\n");
    }
    return;
  }
  socket->setMaxPayloadSize(static_cast<int>(driver.options().maxMessageBytes));
  socket->setReceiveTimeout(
      Poco::Timespan(std::chrono::microseconds(driver.options().heartbeatTimeout).count()));
  socket->setSendTimeout(
      Poco::Timespan(std::chrono::microseconds(driver.options().commandTimeout).count()));
  auto connection = std::make_shared<Connection>();
  connection->driver = driver.name();
  connection->socket = socket;
  // The connection gets a thread of its own, so that a connected driver does not hold one of the
  // HTTP server's threads.
  std::vector<std::shared_ptr<Connection>> finished;
  {
    std::lock_guard lock(mutex);
    auto attached = drivers.find(driver.name());
    if (attached == drivers.end() || attached->second != &driver) {
      finished.push_back(connection); // detached meanwhile
    } else {
      auto done = std::stable_partition(connections.begin(), connections.end(),
                                        [](const auto& open) { return !open->finished; });
      finished.assign(std::make_move_iterator(done), std::make_move_iterator(connections.end()));
      connections.erase(done, connections.end());
      connections.push_back(connection);
      connection->reader = std::thread([this, &driver, connection] {
        serve(driver, connection);
        connection->finished = true;
      });
    }
  }
  end(finished);
}

void ExternalEndpoint::Impl::serve(ExternalDriver& driver,
                                   const std::shared_ptr<Connection>& connection) {
  const std::shared_ptr<WebSocket>& socket = connection->socket;
  const std::size_t maxBytes = driver.options().maxMessageBytes;
  auto sendLock = std::make_shared<std::mutex>();
  auto send = [socket, sendLock](const std::string& text, int flags) {
    std::lock_guard lock(*sendLock);
    socket->sendFrame(text.data(), static_cast<int>(text.size()), flags);
  };
  auto close = [&send](std::uint16_t code, std::string reason) {
    reason.resize(std::min<std::size_t>(reason.size(), 120));
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xff);
    payload += reason;
    try {
      send(payload, kFin | WebSocket::FRAME_OP_CLOSE);
    } catch (const std::exception&) {
    }
  };
  auto session = driver.openSession(
      [send](const std::string& document) { send(document, WebSocket::FRAME_TEXT); });
  if (connected != nullptr) {
    connected->add(1);
  }
  logger.info("external.connected", {{"driver", driver.name()}});

  Poco::Buffer<char> buffer(0);
  std::string message;
  bool fragmented = false;
  for (;;) {
    int flags = 0;
    int received = 0;
    try {
      buffer.resize(0);
      received = socket->receiveFrame(buffer, flags);
    } catch (const Poco::TimeoutException&) {
      close(WebSocket::WS_POLICY_VIOLATION, "nothing heard within the heartbeat time-out");
      break;
    } catch (const Poco::Net::WebSocketException& e) {
      if (e.code() == WebSocket::WS_ERR_PAYLOAD_TOO_BIG) {
        close(WebSocket::WS_PAYLOAD_TOO_BIG, "message too large");
      }
      break;
    } catch (const std::exception&) {
      break;
    }
    if (received == 0 && flags == 0) {
      break;
    }
    int opcode = flags & WebSocket::FRAME_OP_BITMASK;
    try {
      if (opcode == WebSocket::FRAME_OP_CLOSE) {
        close(WebSocket::WS_NORMAL_CLOSE, "");
        break;
      }
      if (opcode == WebSocket::FRAME_OP_PING) {
        send(std::string(buffer.begin(), buffer.end()), kFin | WebSocket::FRAME_OP_PONG);
        continue;
      }
      if (opcode == WebSocket::FRAME_OP_PONG) {
        continue;
      }
      // A message may come in fragments: a text frame, then continuation frames up to FIN.
      bool continuation = opcode == WebSocket::FRAME_OP_CONT;
      if ((opcode != WebSocket::FRAME_OP_TEXT && !continuation) || continuation != fragmented) {
        close(WebSocket::WS_PAYLOAD_NOT_ACCEPTABLE, fragmented || continuation
                                                        ? "a fragmented message was interrupted"
                                                        : "send messages as text frames");
        break;
      }
      if (message.size() + buffer.size() > maxBytes) {
        close(WebSocket::WS_PAYLOAD_TOO_BIG, "message too large");
        break;
      }
      message.append(buffer.begin(), buffer.size());
      fragmented = (flags & WebSocket::FRAME_FLAG_FIN) == 0;
      if (fragmented) {
        continue;
      }
      std::string answer = driver.receive(message, session);
      message.clear();
      if (!answer.empty()) {
        send(answer, WebSocket::FRAME_TEXT);
      }
    } catch (const InvalidDocument& e) {
      if (badDocuments != nullptr) {
        badDocuments->with({driver.name()}).inc();
      }
      // A document that is not a message has no id to answer to: the close says why.
      close(WebSocket::WS_MALFORMED_PAYLOAD, std::string("not a valid message: ") + e.what());
      break;
    } catch (const std::exception& e) {
      logger.warn("external.connection_failed", {{"driver", driver.name()}, {"error", e.what()}});
      break;
    }
  }
  driver.closeSession(session);
  if (connected != nullptr) {
    connected->sub(1);
  }
  try {
    socket->close();
  } catch (const std::exception&) {
  }
}

ExternalEndpoint::ExternalEndpoint(Logger& logger, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(logger, metrics)) {}

ExternalEndpoint::~ExternalEndpoint() {
  shutdown();
}

void ExternalEndpoint::attach(ExternalDriver& driver) {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->drivers.emplace(driver.name(), &driver).second) {
    throw std::invalid_argument("external driver '" + driver.name() + "' is attached already");
  }
}

void ExternalEndpoint::Impl::end(std::vector<std::shared_ptr<Connection>>& leaving) {
  for (auto& connection : leaving) {
    try {
      // A TCP shutdown, not a close frame: a frame could interleave with a send in progress.
      connection->socket->impl()->shutdown();
    } catch (const std::exception&) {
    }
  }
  for (auto& connection : leaving) {
    if (connection->reader.joinable()) {
      connection->reader.join();
    }
  }
  leaving.clear();
}

void ExternalEndpoint::detach(const std::string& name) {
  std::vector<std::shared_ptr<Impl::Connection>> leaving;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->drivers.erase(name);
    auto kept = std::stable_partition(impl_->connections.begin(), impl_->connections.end(),
                                      [&](const auto& open) { return open->driver != name; });
    leaving.assign(std::make_move_iterator(kept),
                   std::make_move_iterator(impl_->connections.end()));
    impl_->connections.erase(kept, impl_->connections.end());
  }
  Impl::end(leaving);
}

void ExternalEndpoint::shutdown() {
  std::vector<std::shared_ptr<Impl::Connection>> leaving;
  {
    std::lock_guard lock(impl_->mutex);
    leaving.swap(impl_->connections);
  }
  Impl::end(leaving);
}

void ExternalEndpoint::handle(Poco::Net::HTTPServerRequest& request,
                              Poco::Net::HTTPServerResponse& response) {
  impl_->handle(request, response);
}

void ExternalEndpoint::install(HttpApi& api) {
  auto handler = [this](Poco::Net::HTTPServerRequest& request,
                        Poco::Net::HTTPServerResponse& response,
                        const UpgradeContext&) { impl_->handle(request, response); };
  api.addOwnRoute("GET", "/v1/drivers/{name}/connect", handler);
  api.addOwnRoute("POST", "/v1/drivers/{name}/messages", handler);
  api.addOwnRoute("GET", "/v1/drivers/{name}/commands", handler);
  api.addOwnRoute("POST", "/v1/drivers/{name}/errors", handler);
}

} // namespace switchboard::external
