#pragma once

// The hub behind AgentPush: connections by agent, their send queues, and the threads that
// serve them. One mutex guards every queue and map; no socket call blocks under it.

#include "switchboard/agent_push.h"
#include "switchboard/message_codec.h"

#include <Poco/Net/WebSocket.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace switchboard::push {

/// A message from the server, shared by every connection it goes to and encoded once, by the
/// first sender that needs it (not under the server's lock).
struct Outgoing {
  explicit Outgoing(Message m) : message(std::move(m)) {}
  const std::string& text(const MessageCodec& codec);

  Message message;
  std::once_flag once;
  std::string encoded;
};

struct Frame {
  enum class Kind { Message, Text, Ping, Pong, Close };
  Kind kind = Kind::Text;
  std::shared_ptr<Outgoing> message; ///< Kind::Message
  std::string payload;               ///< Text, Ping, Pong; the reason of a Close
  std::uint16_t closeCode = 0;       ///< Kind::Close
};

struct Connection {
  Connection(Poco::Net::WebSocket s, std::string agent, Party who)
      : socket(std::move(s)), agentId(std::move(agent)), caller(std::move(who)) {}

  Poco::Net::WebSocket socket;
  const std::string agentId;
  const Party caller;
  std::thread reader;
  std::atomic<std::int64_t> lastHeard{0}; ///< steady clock, milliseconds

  // Guarded by Hub::mutex.
  std::deque<Frame> queue;
  bool scheduled = false;  ///< in Hub::ready, or a sender is writing it
  bool closing = false;    ///< a close frame is queued: nothing more is queued
  bool dropped = false;    ///< the socket was shut down; its reader is ending
  bool registered = false; ///< listed in Hub::byAgent
  bool finished = false;   ///< the reader has ended
};

struct Hub {
  Hub(Service& s, MetricsRegistry& metrics, Logger& l, PushOptions o);

  void start();
  void stop();
  void deliver(const Message& message);
  void accept(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              const UpgradeContext& context);

  // Under mutex.
  void enqueueLocked(const std::shared_ptr<Connection>& connection, Frame frame);
  void closeLocked(const std::shared_ptr<Connection>& connection, std::uint16_t code,
                   std::string reason);
  void dropLocked(const std::shared_ptr<Connection>& connection, const std::string& reason);
  void unregisterLocked(const std::shared_ptr<Connection>& connection);

  // Threads (push_connection.cpp: one connection's reading and writing).
  void senderLoop();
  void maintenanceLoop();
  void readerLoop(const std::shared_ptr<Connection>& connection);
  void answer(const std::shared_ptr<Connection>& connection, std::string_view document);
  /// Writes one frame; throws Poco::Exception when the socket fails or times out.
  void write(Connection& connection, Frame& frame);

  Service& service;
  Logger& logger;
  const PushOptions options;
  MessageCodec codec;

  Gauge& connectedAgents;
  Gauge& openConnections;
  Counter& pushed;
  Family<Counter>& dropped;

  mutable std::mutex mutex;
  std::condition_variable work;    ///< senders: a connection became ready, or stop
  std::condition_variable changed; ///< maintenance and stop(): a reader ended, or stop
  std::map<std::string, std::vector<std::shared_ptr<Connection>>> byAgent;
  std::vector<std::shared_ptr<Connection>> all; ///< until their reader is joined
  std::deque<std::shared_ptr<Connection>> ready;
  bool running = false;
  bool stopSenders = false;
  bool stopMaintenance = false;
  std::vector<std::thread> senders;
  std::thread maintenance;
};

std::int64_t steadyMillis();

} // namespace switchboard::push
