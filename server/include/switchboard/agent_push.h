#pragma once

// Agent push: the agent stream (WebSocket, GET /v1/agents/{id}/stream). It keeps the open
// connections of each agent (an agent may have several: two browser tabs, a desktop and a
// supervisor's integrator connection), pushes every message the communication server sends to
// an agent to that agent's connections as the XML message document (one text frame each), or as
// JSON when the client asked for it, and hands every text frame an agent sends to
// Service::exchange(), answering on the same socket.
//
// Offers are enriched before they are sent: the work item record (customer, subject, body up to
// inlineBodyLimit, attachment references, attributes) travels in the message beside the offer,
// and the offer's reason carries the routing decision, so that a desktop shows it without
// another call. The lookup happens in a sender thread, through the Service, never under the
// communication server's lock.
//
// Cursor. Every message to an agent gets a sequence number of that agent, sent with its frame
// (an XML processing instruction <?switchboard seq="N"?> before the message, or "seq" in JSON).
// Numbers grow across restarts of the server (they start from its start time). The last
// historyLimit messages of each agent are kept (for historyAge); a client that reconnects with
// ?after=N gets the messages after N replayed in order before anything new. When they are no
// longer all kept (or N is unknown), it gets a resync frame instead and reads the state by REST.
//
// Grace. When the last connection of an agent goes away, its offers are declined through the
// Service (so that the items go to the next agent at once) unless the agent reconnects within
// `grace`; offers made to it while it stays away are declined as they come.
//
// Threads. deliver() runs under the communication server's lock: it only appends to the agent's
// history and each connection's bounded queue and wakes a sender. A small pool of sender threads
// writes the queues to the sockets, one sender per connection at a time, so a slow socket delays
// only its own connection. A few reader threads wait on every socket at once (epoll) and read the
// frames that arrive; documents go to a small pool of workers that call Service::exchange() (the
// store), in order per connection, under no lock of the hub. A maintenance thread pings every
// connection each heartbeat, ends the grace of agents that stayed away, and prunes histories.
//
// A connection is dropped (closed without a close handshake, and counted) when its queue
// overflows, when a send fails or times out, when a frame stalls half-way for a second, or when
// nothing has been heard from it for two heartbeats. stop() closes every connection with 1001
// (going away) and waits for them.

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
  /// Reader threads shared by every connection (each waits on its share of the sockets).
  int readers = 2;
  /// Threads that hand the documents agents send to Service::exchange().
  int workers = 2;
  /// An agent whose last connection went away keeps its offers this long; then they are
  /// declined so that the items are routed to other agents. Zero: never.
  std::chrono::milliseconds grace{std::chrono::seconds(30)};
  /// Messages kept per agent for replay on reconnect (?after=N), and for how long.
  std::size_t historyLimit = 64;
  std::chrono::milliseconds historyAge{std::chrono::minutes(10)};
  /// A work item body up to this size travels with its offer; a larger one is left out (read it
  /// with GET /v1/work-items/{id}).
  std::size_t inlineBodyLimit = 16 * 1024;
};

class AgentPush {
 public:
  /// Registers the push metrics in `metrics`: switchboard_push_connected_agents,
  /// switchboard_push_connections, switchboard_push_messages_total,
  /// switchboard_push_dropped_connections_total{reason}, switchboard_push_replayed_total,
  /// switchboard_push_resyncs_total and switchboard_push_rerouted_offers_total. `service`,
  /// `metrics` and `logger` must outlive the hub. Throws std::invalid_argument for a heartbeat,
  /// queue limit or thread count of zero.
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
  /// checked that the caller is an integrator or agent {id}. JSON frames: the subprotocol
  /// "switchboard.v1.json" or the query parameter format=json ("switchboard.v1.xml" and
  /// format=xml ask for the default); ?after=N replays what came after sequence number N. A bad
  /// format, cursor or subprotocol list gets 400 before the upgrade.
  UpgradeHandler upgradeHandler();

  /// Open connections of `agentId` (for tests and operators).
  std::size_t connections(const std::string& agentId) const;

 private:
  std::shared_ptr<push::Hub> hub_;
};

} // namespace switchboard
