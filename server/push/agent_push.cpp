#include "switchboard/agent_push.h"

#include "push_hub.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard {
namespace push {

std::int64_t steadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const std::string& Outgoing::text(const MessageCodec& codec) {
  std::call_once(once, [&] { encoded = codec.encode(message); });
  return encoded;
}

Hub::Hub(Service& s, MetricsRegistry& metrics, Logger& l, PushOptions o)
    : service(s), logger(l), options(o),
      connectedAgents(metrics.gauge("switchboard_push_connected_agents",
                                    "Agents with at least one open stream connection.")),
      openConnections(
          metrics.gauge("switchboard_push_connections", "Open agent stream connections.")),
      pushed(metrics.counter("switchboard_push_messages_total",
                             "Messages pushed to agent stream connections.")),
      dropped(metrics.counterFamily(
          "switchboard_push_dropped_connections_total",
          "Agent stream connections dropped by the server, by reason: overflow (the client "
          "reads too slowly), sendFailed, heartbeat (no answer to pings).",
          {"reason"})) {
  if (options.heartbeat.count() <= 0 || options.senders <= 0 || options.queueLimit == 0) {
    throw std::invalid_argument(
        "agent push needs a positive heartbeat, sender count and queue limit");
  }
}

void Hub::start() {
  std::lock_guard lock(mutex);
  if (running || !senders.empty()) {
    return;
  }
  running = true;
  for (int i = 0; i < options.senders; ++i) {
    senders.emplace_back([this] { senderLoop(); });
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
  // Clients answer the close; those that do not in time are cut off.
  changed.wait_for(lock, std::chrono::seconds(2), [&] {
    return std::all_of(all.begin(), all.end(), [](const auto& c) { return c->finished; });
  });
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
  std::vector<std::shared_ptr<Connection>> connections = std::move(all);
  all.clear();
  stopSenders = true;
  stopMaintenance = true;
  work.notify_all();
  changed.notify_all();
  lock.unlock();
  for (auto& connection : connections) {
    if (connection->reader.joinable()) {
      connection->reader.join();
    }
  }
  for (auto& sender : senders) {
    sender.join();
  }
  maintenance.join();
  lock.lock();
  senders.clear();
  stopSenders = false;
  stopMaintenance = false;
  ready.clear();
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
    auto found = byAgent.find(message.addressee.id);
    if (found == byAgent.end()) {
      return;
    }
    auto outgoing = std::make_shared<Outgoing>(message);
    // A copy: dropping a connection removes it from the list being walked.
    auto connections = found->second;
    for (const auto& connection : connections) {
      enqueueLocked(connection, Frame{Frame::Kind::Message, outgoing, {}, 0});
    }
  } catch (const std::exception& e) {
    logger.error("push.deliver_failed", {{"agent", message.addressee.id}, {"error", e.what()}});
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
      response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
      response.setContentLength(0);
      response.send();
      return;
    }
  }
  std::optional<Poco::Net::WebSocket> socket;
  try {
    socket.emplace(request, response);
  } catch (const Poco::Net::WebSocketException& e) {
    if (!response.sent()) {
      response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
      response.setContentLength(0);
      response.send();
    }
    return;
  }
  socket->setMaxPayloadSize(static_cast<int>(options.maxInboundBytes));
  socket->setSendTimeout(Poco::Timespan(options.sendTimeout.count() * 1000));
  socket->setReceiveTimeout(Poco::Timespan(options.heartbeat.count() * 1000));
  Party caller = context.principal.agent() ? Party{PartyType::Agent, agentId}
                                           : Party{PartyType::Crm, context.principal.id};
  auto connection = std::make_shared<Connection>(std::move(*socket), agentId, caller);
  connection->lastHeard = steadyMillis();

  std::lock_guard lock(mutex);
  if (!running) {
    try {
      connection->socket.shutdown(Poco::Net::WebSocket::WS_ENDPOINT_GOING_AWAY);
    } catch (const Poco::Exception&) {
    }
    return;
  }
  auto& list = byAgent[agentId];
  list.push_back(connection);
  connection->registered = true;
  all.push_back(connection);
  connectedAgents.set(static_cast<double>(byAgent.size()));
  openConnections.add(1);
  connection->reader = std::thread([this, connection] { readerLoop(connection); });
  logger.info("push.connected", {{"agent", agentId},
                                 {"caller", connection->caller.id},
                                 {"connections", static_cast<std::int64_t>(list.size())}});
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
  enqueueLocked(connection, Frame{Frame::Kind::Close, nullptr, std::move(reason), code});
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
  auto found = byAgent.find(connection->agentId);
  if (found != byAgent.end()) {
    std::erase(found->second, connection);
    if (found->second.empty()) {
      byAgent.erase(found);
    }
  }
  connectedAgents.set(static_cast<double>(byAgent.size()));
  openConnections.sub(1);
}

void Hub::maintenanceLoop() {
  const auto tick = std::clamp(options.heartbeat / 4, std::chrono::milliseconds(10),
                               std::chrono::milliseconds(1000));
  std::int64_t lastPing = steadyMillis();
  std::unique_lock lock(mutex);
  while (!stopMaintenance) {
    changed.wait_for(lock, tick, [&] { return stopMaintenance; });
    if (stopMaintenance) {
      break;
    }
    std::int64_t now = steadyMillis();
    bool ping = now - lastPing >= options.heartbeat.count();
    if (ping) {
      lastPing = now;
    }
    std::vector<std::thread> ended;
    auto connections = all;
    for (const auto& connection : connections) {
      if (connection->finished && !connection->scheduled) {
        ended.push_back(std::move(connection->reader));
        std::erase(all, connection);
      } else if (connection->registered) {
        if (now - connection->lastHeard.load() > 2 * options.heartbeat.count()) {
          dropLocked(connection, "heartbeat");
        } else if (ping) {
          enqueueLocked(connection, Frame{Frame::Kind::Ping, nullptr, "hb", 0});
        }
      }
    }
    if (!ended.empty()) {
      lock.unlock();
      for (auto& reader : ended) {
        if (reader.joinable()) {
          reader.join();
        }
      }
      lock.lock();
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
  auto found = hub_->byAgent.find(agentId);
  return found == hub_->byAgent.end() ? 0 : found->second.size();
}

} // namespace switchboard
