#include "switchboard/agent_push.h"

#include "push_hub.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StringTokenizer.h>
#include <Poco/URI.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace switchboard {
namespace push {
namespace {

constexpr const char* kJsonProtocol = "switchboard.v1.json";
constexpr const char* kXmlProtocol = "switchboard.v1.xml";

std::uint64_t startSequence() {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<std::uint64_t>(ms) * 1000;
}

std::optional<std::string> offerItemOf(const Message& message) {
  if (const auto* command = std::get_if<Command>(&message.payload)) {
    if (const auto* offer = std::get_if<Offer>(command)) {
      return offer->workItemId;
    }
  }
  return std::nullopt;
}

void refuse(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
            const std::string& reason) {
  response.setStatusAndReason(status);
  response.setContentType("text/plain");
  response.setContentLength(static_cast<std::streamsize>(reason.size()));
  response.send() << reason;
}

// What the client asked for: the frame format and the cursor.
struct StreamRequest {
  Format format = Format::Xml;
  std::optional<std::string> protocol; ///< the subprotocol to answer with
  std::optional<std::uint64_t> after;
  std::string error;
};

StreamRequest readStreamRequest(const Poco::Net::HTTPServerRequest& request) {
  StreamRequest wanted;
  std::optional<Format> byQuery;
  for (const auto& [name, value] : Poco::URI(request.getURI()).getQueryParameters()) {
    if (name == "format") {
      if (value == "json") {
        byQuery = Format::Json;
      } else if (value == "xml") {
        byQuery = Format::Xml;
      } else {
        wanted.error = "format must be xml or json";
      }
    } else if (name == "after") {
      std::uint64_t after = 0;
      auto [end, failed] = std::from_chars(value.data(), value.data() + value.size(), after);
      if (failed != std::errc() || end != value.data() + value.size()) {
        wanted.error = "after must be a sequence number";
      } else {
        wanted.after = after;
      }
    }
  }
  std::optional<Format> byProtocol;
  if (request.has("Sec-WebSocket-Protocol")) {
    Poco::StringTokenizer offered(request.get("Sec-WebSocket-Protocol"), ",",
                                  Poco::StringTokenizer::TOK_TRIM |
                                      Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    for (const std::string& protocol : offered) {
      if (protocol == kJsonProtocol || protocol == kXmlProtocol) {
        byProtocol = protocol == kJsonProtocol ? Format::Json : Format::Xml;
        wanted.protocol = protocol;
        break;
      }
    }
    if (!byProtocol) {
      wanted.error = std::string("no supported subprotocol offered; this stream speaks ") +
                     kXmlProtocol + " and " + kJsonProtocol;
    }
  }
  if (byQuery && byProtocol && *byQuery != *byProtocol) {
    wanted.error = "the format parameter and the subprotocol disagree";
  }
  wanted.format = byProtocol.value_or(byQuery.value_or(Format::Xml));
  return wanted;
}

} // namespace

std::int64_t steadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Outgoing::Outgoing(Message message, std::uint64_t s, std::int64_t at)
    : seq(s), created(at), offerOf(offerItemOf(message)), message_(std::move(message)) {}

const std::string& Outgoing::xml(Hub& hub) {
  std::call_once(xmlOnce_, [&] {
    hub.enrich(message_);
    xml_ = withSequence(hub.codec.encode(message_), seq);
    message_ = Message{};
  });
  return xml_;
}

const std::string& Outgoing::json(Hub& hub) {
  std::call_once(jsonOnce_, [&] {
    const std::string& document = xml(hub);
    json_ = "{\"type\":\"message\",\"seq\":" + std::to_string(seq) + ",";
    try {
      json_ += "\"message\":" + messageToJson(document) + "}";
    } catch (const std::exception& e) {
      // Never expected of the codec's own output; the client still gets the message.
      hub.logger.error("push.json_failed", {{"error", e.what()}});
      json_ += "\"document\":" + jsonString(document) + "}";
    }
  });
  return json_;
}

Hub::Hub(Service& s, MetricsRegistry& metrics, Logger& l, PushOptions o)
    : service(s), logger(l), options(o), seqBase(startSequence()),
      connectedAgents(metrics.gauge("switchboard_push_connected_agents",
                                    "Agents with at least one open stream connection.")),
      openConnections(
          metrics.gauge("switchboard_push_connections", "Open agent stream connections.")),
      pushed(metrics.counter("switchboard_push_messages_total",
                             "Messages pushed to agent stream connections.")),
      dropped(metrics.counterFamily(
          "switchboard_push_dropped_connections_total",
          "Agent stream connections dropped by the server, by reason: overflow (the client "
          "reads too slowly), sendFailed, sendTimeout, stalled (a frame stopped half-way), "
          "protocolError, heartbeat (no answer to pings).",
          {"reason"})),
      replayed(metrics.counter("switchboard_push_replayed_total",
                               "Messages replayed to reconnecting clients (?after=N).")),
      resyncs(metrics.counter("switchboard_push_resyncs_total",
                              "Reconnects whose cursor was beyond the kept history.")),
      rerouted(metrics.counter(
          "switchboard_push_rerouted_offers_total",
          "Offers declined for agents whose connections were gone longer than the grace.")) {
  if (options.heartbeat.count() <= 0 || options.senders <= 0 || options.readers <= 0 ||
      options.workers <= 0 || options.queueLimit == 0 || options.grace.count() < 0) {
    throw std::invalid_argument("agent push needs a positive heartbeat, queue limit and thread "
                                "counts, and a grace of zero or more");
  }
}

Hub::~Hub() {
  for (auto& reader : readers) {
    if (reader->epoll >= 0) {
      ::close(reader->epoll);
    }
    if (reader->wake >= 0) {
      ::close(reader->wake);
    }
  }
}

void Hub::start() {
  std::lock_guard lock(mutex);
  if (running || !senders.empty()) {
    return;
  }
  for (int i = 0; i < options.readers; ++i) {
    auto reader = std::make_unique<Reader>();
    reader->epoll = ::epoll_create1(EPOLL_CLOEXEC);
    reader->wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (reader->epoll < 0 || reader->wake < 0) {
      throw std::runtime_error("agent push: cannot create an epoll instance");
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;
    ::epoll_ctl(reader->epoll, EPOLL_CTL_ADD, reader->wake, &event);
    readers.push_back(std::move(reader));
  }
  running = true;
  stopReaders = false;
  for (auto& reader : readers) {
    Reader* raw = reader.get();
    raw->thread = std::thread([this, raw] { readerLoop(*raw); });
  }
  for (int i = 0; i < options.senders; ++i) {
    senders.emplace_back([this] { senderLoop(); });
  }
  for (int i = 0; i < options.workers; ++i) {
    workers.emplace_back([this] { workerLoop(); });
  }
  maintenance = std::thread([this] { maintenanceLoop(); });
}

void Hub::stop() {
  std::unique_lock lock(mutex);
  if (!running) {
    return;
  }
  running = false;
  for (auto& connection : all) {
    closeLocked(connection, Poco::Net::WebSocket::WS_ENDPOINT_GOING_AWAY, "server stopping");
  }
  auto allFinished = [&] {
    return std::all_of(all.begin(), all.end(), [](const auto& c) { return c->finished; });
  };
  // Clients answer the close; those that do not in time are cut off.
  changed.wait_for(lock, std::chrono::seconds(2), allFinished);
  for (auto& connection : all) {
    if (!connection->finished && !connection->dropped) {
      connection->dropped = true;
      unregisterLocked(connection);
      try {
        connection->socket.impl()->shutdown();
      } catch (const Poco::Exception&) {
      }
    }
  }
  // A shut-down socket reads as ended at once: its reader lets it go.
  changed.wait_for(lock, std::chrono::seconds(2), allFinished);
  stopReaders = true;
  lock.unlock();
  for (auto& reader : readers) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(reader->wake, &one, sizeof one);
  }
  for (auto& reader : readers) {
    reader->thread.join();
  }
  lock.lock();
  stopSenders = true;
  stopMaintenance = true;
  stopWorkers = true;
  work.notify_all();
  changed.notify_all();
  tasksChanged.notify_all();
  lock.unlock();
  for (auto& sender : senders) {
    sender.join();
  }
  for (auto& worker : workers) {
    worker.join();
  }
  maintenance.join();
  lock.lock();
  for (auto& reader : readers) {
    ::close(reader->epoll);
    ::close(reader->wake);
    reader->epoll = -1;
    reader->wake = -1;
  }
  readers.clear();
  senders.clear();
  workers.clear();
  all.clear();
  ready.clear();
  tasks.clear();
  lapsedOffers.clear();
  stopSenders = false;
  stopMaintenance = false;
  stopWorkers = false;
}

AgentStream& Hub::streamLocked(const std::string& agentId) {
  AgentStream& stream = agents[agentId];
  if (stream.lastSeq == 0) {
    stream.lastSeq = seqBase;
  }
  return stream;
}

void Hub::deliver(const Message& message) {
  if (message.addressee.type != PartyType::Agent) {
    return;
  }
  try {
    std::lock_guard lock(mutex);
    if (!running) {
      return;
    }
    AgentStream& stream = streamLocked(message.addressee.id);
    // Only a client that connected before can hold a cursor: agents that work over REST alone
    // cost no history, and no copy of their messages under the server's lock.
    if (!stream.everConnected) {
      ++stream.lastSeq;
      return;
    }
    auto outgoing = std::make_shared<Outgoing>(message, ++stream.lastSeq, steadyMillis());
    stream.history.push_back(outgoing);
    while (stream.history.size() > options.historyLimit) {
      stream.history.pop_front();
    }
    if (stream.connections.empty()) {
      if (stream.lapsed && outgoing->offerOf) {
        lapsedOffers.emplace_back(message.addressee.id, *outgoing->offerOf);
        changed.notify_all();
      }
      return;
    }
    // A copy: dropping a connection removes it from the list being walked.
    auto connections = stream.connections;
    for (const auto& connection : connections) {
      enqueueLocked(connection, Frame{Frame::Kind::Message, outgoing, {}, 0, 0, 0});
    }
  } catch (const std::exception& e) {
    logger.error("push.deliver_failed", {{"agent", message.addressee.id}, {"error", e.what()}});
  }
}

void Hub::enrich(Message& message) {
  auto* command = std::get_if<Command>(&message.payload);
  auto* offer = command != nullptr ? std::get_if<Offer>(command) : nullptr;
  if (offer == nullptr) {
    return;
  }
  try {
    // The offer being pushed is newer than the store; only the item's content is read here.
    ServiceResult<WorkItemDetails> details =
        service.workItem(offer->workItemId, Service::Freshness::Stored);
    if (!details.ok()) {
      logger.warn("push.enrich_failed",
                  {{"workItem", offer->workItemId}, {"error", details.error().detail}});
      return;
    }
    WorkItem item = std::move(details.value().stored.item);
    // The store may not have the offer yet (state changes are written behind): the offer is
    // the newer truth.
    item.state = WorkItemState::Offered;
    item.agentId = offer->agentId;
    if (offer->queueId) {
      item.queueId = offer->queueId;
    }
    item.history.clear();
    if (item.body && item.body->text.size() > options.inlineBodyLimit) {
      item.body.reset();
    }
    if (message.workItems.empty()) {
      message.workItems.push_back(std::move(item));
    }
    if (!offer->reason && details.value().trace) {
      offer->reason = reasonOf(*details.value().trace);
    }
  } catch (const std::exception& e) {
    logger.warn("push.enrich_failed", {{"workItem", offer->workItemId}, {"error", e.what()}});
  }
}

void Hub::accept(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                 const UpgradeContext& context) {
  std::string agentId;
  for (const auto& [name, value] : context.params) {
    if (name == "id") {
      agentId = value;
    }
  }
  {
    std::lock_guard lock(mutex);
    if (!running || agentId.empty()) {
      refuse(response, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "not running");
      return;
    }
  }
  StreamRequest wanted = readStreamRequest(request);
  if (!wanted.error.empty()) {
    refuse(response, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, wanted.error);
    return;
  }
  if (wanted.protocol) {
    response.set("Sec-WebSocket-Protocol", *wanted.protocol);
  }
  std::optional<Poco::Net::WebSocket> socket;
  try {
    socket.emplace(request, response);
  } catch (const Poco::Net::WebSocketException& e) {
    if (!response.sent()) {
      refuse(response, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST, e.displayText());
    }
    return;
  }
  // A push is one small frame that must leave now: Nagle would hold it back until the client
  // acknowledges the previous one (up to its delayed-ACK timeout).
  socket->setNoDelay(true);
  socket->setMaxPayloadSize(static_cast<int>(options.maxInboundBytes));
  socket->setSendTimeout(Poco::Timespan(options.sendTimeout.count() * 1000));
  // Readers read only sockets with bytes waiting: a receive waits only when a frame stops
  // half-way, and then not for long, since the reader serves other sockets too.
  socket->setReceiveTimeout(Poco::Timespan(1, 0));
  Party caller = context.principal.agent() ? Party{PartyType::Agent, agentId}
                                           : Party{PartyType::Crm, context.principal.id};
  auto connection =
      std::make_shared<Connection>(std::move(*socket), agentId, caller, wanted.format);
  connection->lastHeard = steadyMillis();

  std::lock_guard lock(mutex);
  if (!running) {
    try {
      connection->socket.shutdown(Poco::Net::WebSocket::WS_ENDPOINT_GOING_AWAY);
    } catch (const Poco::Exception&) {
    }
    return;
  }
  AgentStream& stream = streamLocked(agentId);
  if (stream.connections.empty()) {
    ++agentsConnected;
  }
  stream.connections.push_back(connection);
  stream.everConnected = true;
  stream.awaySince.reset();
  stream.lapsed = false;
  connection->registered = true;
  all.push_back(connection);
  connectedAgents.set(static_cast<double>(agentsConnected));
  openConnections.add(1);
  if (wanted.after) {
    replayLocked(connection, stream, *wanted.after);
  }

  connection->reader = nextReader++ % readers.size();
  Reader& reader = *readers[connection->reader];
  {
    std::lock_guard owned(reader.mutex);
    reader.owned.emplace(connection.get(), connection);
  }
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.ptr = connection.get();
  if (::epoll_ctl(reader.epoll, EPOLL_CTL_ADD, connection->socket.impl()->sockfd(), &event) != 0) {
    std::lock_guard owned(reader.mutex);
    reader.owned.erase(connection.get());
    connection->finished = true;
    dropLocked(connection, "sendFailed");
    return;
  }
  logger.info("push.connected",
              {{"agent", agentId},
               {"caller", connection->caller.id},
               {"format", wanted.format == Format::Json ? "json" : "xml"},
               {"connections", static_cast<std::int64_t>(stream.connections.size())}});
}

void Hub::replayLocked(const std::shared_ptr<Connection>& connection, AgentStream& stream,
                       std::uint64_t after) {
  if (after == stream.lastSeq) {
    return;
  }
  bool kept =
      after < stream.lastSeq && !stream.history.empty() && stream.history.front()->seq <= after + 1;
  if (!kept) {
    resyncs.inc();
    enqueueLocked(connection, Frame{Frame::Kind::Resync, nullptr, {}, 0, after, stream.lastSeq});
    return;
  }
  for (const auto& outgoing : stream.history) {
    if (outgoing->seq > after) {
      replayed.inc();
      enqueueLocked(connection, Frame{Frame::Kind::Message, outgoing, {}, 0, 0, 0});
    }
  }
}

void Hub::enqueueLocked(const std::shared_ptr<Connection>& connection, Frame frame) {
  if (connection->dropped || connection->closing) {
    return;
  }
  if (frame.kind == Frame::Kind::Close) {
    connection->closing = true;
  } else if (connection->queue.size() >= options.queueLimit) {
    dropLocked(connection, "overflow");
    return;
  }
  connection->queue.push_back(std::move(frame));
  if (!connection->scheduled) {
    connection->scheduled = true;
    ready.push_back(connection);
    work.notify_one();
  }
}

void Hub::closeLocked(const std::shared_ptr<Connection>& connection, std::uint16_t code,
                      std::string reason) {
  // A close reason must fit a control frame (125 bytes with the code).
  if (reason.size() > 120) {
    reason.resize(120);
  }
  enqueueLocked(connection, Frame{Frame::Kind::Close, nullptr, std::move(reason), code, 0, 0});
}

void Hub::dropLocked(const std::shared_ptr<Connection>& connection, const std::string& reason) {
  if (connection->dropped) {
    return;
  }
  connection->dropped = true;
  connection->queue.clear();
  dropped.with({reason}).inc();
  unregisterLocked(connection);
  // Shutting the socket down wakes its reader and fails a send in progress; the descriptor is
  // closed only when the last reference goes, so no other thread writes to a reused one.
  try {
    connection->socket.impl()->shutdown();
  } catch (const Poco::Exception&) {
  }
  logger.warn("push.dropped", {{"agent", connection->agentId}, {"reason", reason}});
}

void Hub::unregisterLocked(const std::shared_ptr<Connection>& connection) {
  if (!connection->registered) {
    return;
  }
  connection->registered = false;
  auto found = agents.find(connection->agentId);
  if (found != agents.end()) {
    AgentStream& stream = found->second;
    std::erase(stream.connections, connection);
    if (stream.connections.empty()) {
      --agentsConnected;
      if (running && options.grace.count() > 0) {
        stream.awaySince = steadyMillis();
      }
    }
  }
  connectedAgents.set(static_cast<double>(agentsConnected));
  openConnections.sub(1);
}

void Hub::postLocked(std::function<void()> task) {
  tasks.push_back(std::move(task));
  tasksChanged.notify_one();
}

void Hub::workerLoop() {
  std::unique_lock lock(mutex);
  for (;;) {
    tasksChanged.wait(lock, [&] { return stopWorkers || !tasks.empty(); });
    if (stopWorkers) {
      return;
    }
    std::function<void()> task = std::move(tasks.front());
    tasks.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      logger.error("push.task_failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

void Hub::reroute(const std::string& agentId, std::optional<std::string> onlyItem) {
  {
    std::lock_guard lock(mutex);
    auto found = agents.find(agentId);
    if (found != agents.end() && !found->second.connections.empty()) {
      return; // back in time
    }
  }
  std::vector<std::string> items;
  if (onlyItem) {
    items.push_back(*onlyItem);
  } else {
    WorkItemFilter filter;
    filter.state = WorkItemState::Offered;
    filter.agentId = agentId;
    filter.limit = 1000;
    auto offered = service.workItems(filter);
    if (!offered.ok()) {
      logger.warn("push.reroute_failed", {{"agent", agentId}, {"error", offered.error().detail}});
      return;
    }
    for (const StoredWorkItem& stored : offered.value()) {
      items.push_back(*stored.item.id);
    }
  }
  for (const std::string& item : items) {
    auto declined = service.decline(item, agentId, std::string("agent disconnected"));
    if (declined.ok()) {
      rerouted.inc();
      logger.info("push.offer_rerouted", {{"agent", agentId}, {"workItem", item}});
    } else if (declined.error().code != ServiceErrorCode::Conflict &&
               declined.error().code != ServiceErrorCode::NotFound) {
      logger.warn("push.reroute_failed",
                  {{"agent", agentId}, {"workItem", item}, {"error", declined.error().detail}});
    }
  }
}

void Hub::maintenanceLoop() {
  auto limit = options.heartbeat;
  if (options.grace.count() > 0) {
    limit = std::min(limit, options.grace);
  }
  const auto tick =
      std::clamp(limit / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  std::int64_t lastPing = steadyMillis();
  std::unique_lock lock(mutex);
  while (!stopMaintenance) {
    changed.wait_for(lock, tick, [&] { return stopMaintenance || !lapsedOffers.empty(); });
    if (stopMaintenance) {
      break;
    }
    std::int64_t now = steadyMillis();
    for (auto& [agent, item] : lapsedOffers) {
      postLocked([this, agentId = agent, itemId = item] { reroute(agentId, itemId); });
    }
    lapsedOffers.clear();
    bool ping = now - lastPing >= options.heartbeat.count();
    if (ping) {
      lastPing = now;
    }
    auto connections = all;
    for (const auto& connection : connections) {
      if (connection->finished && !connection->scheduled) {
        std::erase(all, connection);
      } else if (connection->registered) {
        if (now - connection->lastHeard.load() > 2 * options.heartbeat.count()) {
          dropLocked(connection, "heartbeat");
        } else if (ping) {
          enqueueLocked(connection, Frame{Frame::Kind::Ping, nullptr, "hb", 0, 0, 0});
        }
      }
    }
    for (auto& [agentId, stream] : agents) {
      if (stream.awaySince && now - *stream.awaySince >= options.grace.count()) {
        stream.awaySince.reset();
        stream.lapsed = true;
        postLocked([this, agent = agentId] { reroute(agent, std::nullopt); });
      }
      while (!stream.history.empty() &&
             now - stream.history.front()->created > options.historyAge.count()) {
        stream.history.pop_front();
      }
    }
  }
}

} // namespace push

AgentPush::AgentPush(Service& service, MetricsRegistry& metrics, Logger& logger,
                     PushOptions options)
    : hub_(std::make_shared<push::Hub>(service, metrics, logger, options)) {}

AgentPush::~AgentPush() {
  stop();
}

void AgentPush::start() {
  hub_->start();
}

void AgentPush::stop() {
  hub_->stop();
}

void AgentPush::subscribe(CommunicationServer& server) {
  std::weak_ptr<push::Hub> weak = hub_;
  server.addListener([weak](const Message& message) {
    if (auto hub = weak.lock()) {
      hub->deliver(message);
    }
  });
}

void AgentPush::deliver(const Message& message) {
  hub_->deliver(message);
}

UpgradeHandler AgentPush::upgradeHandler() {
  std::weak_ptr<push::Hub> weak = hub_;
  return [weak](Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
                const UpgradeContext& context) {
    auto hub = weak.lock();
    if (!hub) {
      response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
      response.setContentLength(0);
      response.send();
      return;
    }
    hub->accept(request, response, context);
  };
}

std::size_t AgentPush::connections(const std::string& agentId) const {
  std::lock_guard lock(hub_->mutex);
  auto found = hub_->agents.find(agentId);
  return found == hub_->agents.end() ? 0 : found->second.connections.size();
}

} // namespace switchboard
