#pragma once

// Agent push: the agent stream (WebSocket, GET /v1/agents/{id}/stream). It keeps the open
// connections of each agent (an agent may have several: two browser tabs, a desktop and a
// supervisor's integrator connection), pushes every message the communication server sends to
// an agent to that agent's connections as the XML message document (one text frame each), and
// hands every text frame an agent sends to Service::exchange(), answering on the same socket.
//
// Threads. deliver() runs under the communication server's lock: it only appends to each
// connection's bounded queue and wakes a sender. A small pool of sender threads writes the
// queues to the sockets, one sender per connection at a time, so a slow socket delays only its
// own connection. Each connection has a reader thread of its own, which may block in
// Service::exchange() (the store) under no lock of the hub. A maintenance thread pings every
// connection each heartbeat and joins the readers of closed connections.
//
// A connection is dropped (closed without a close handshake, and counted) when its queue
// overflows, when a send fails or times out, or when nothing has been heard from it for two
// heartbeats. stop() closes every connection with 1001 (going away) and waits for them.
//
// Not in this version: JSON frames, replay of missed messages on reconnect, re-routing an offer
// whose agent disconnected.

#include "switchboard/communication_server.h"
#include "switchboard/http_api.h"
#include "switchboard/log.h"
#include "switchboard/metrics.h"
#include "switchboard/service.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace switchboard {

namespace push {
struct Hub;
} // namespace push

struct PushOptions {
  /// A ping is sent to every connection this often; a connection that sends nothing (no pong,
  /// no message) for twice as long is dropped.
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};
  /// Frames waiting to be sent on one connection; one more drops the connection.
  std::size_t queueLimit = 1024;
  /// A send that blocks this long (the client reads nothing) drops the connection.
  std::chrono::milliseconds sendTimeout{std::chrono::seconds(10)};
  /// The largest message an agent may send; a larger one closes the connection (1009).
  std::size_t maxInboundBytes = 1024 * 1024;
  /// Sender threads shared by every connection.
  int senders = 2;
};

class AgentPush {
 public:
  /// Registers the push metrics in `metrics`: switchboard_push_connected_agents,
  /// switchboard_push_connections, switchboard_push_messages_total and
  /// switchboard_push_dropped_connections_total{reason}. `service`, `metrics` and `logger` must
  /// outlive the hub. Throws std::invalid_argument for a heartbeat or sender count of zero.
  AgentPush(Service& service, MetricsRegistry& metrics, Logger& logger, PushOptions options = {});
  /// Stops.
  ~AgentPush();
  AgentPush(const AgentPush&) = delete;
  AgentPush& operator=(const AgentPush&) = delete;

  /// Starts the sender and maintenance threads. Connections are refused (503) before start().
  void start();
  /// Closes every connection (1001, going away), waits up to two seconds for the clients to
  /// answer the close, drops the rest and joins every thread. Idempotent.
  void stop();

  /// Adds deliver() as a listener of `server`. The listener holds only a weak reference to the
  /// hub: it does nothing once the hub is destroyed, so the server may outlive the hub.
  void subscribe(CommunicationServer& server);

  /// Queues `message` for every connection of its addressee, when that is an agent. Never
  /// blocks on a socket, never throws; cheap when the agent has no connection.
  void deliver(const Message& message);

  /// The handler for HttpApi::addUpgradeRoute("/v1/agents/{id}/stream", ...): accepts the
  /// WebSocket handshake and keeps the connection for agent {id}. The HttpApi has already
  /// checked that the caller is an integrator or agent {id}.
  UpgradeHandler upgradeHandler();

  /// Open connections of `agentId` (for tests and operators).
  std::size_t connections(const std::string& agentId) const;

 private:
  std::shared_ptr<push::Hub> hub_;
};

} // namespace switchboard
