#pragma once

// The hub behind AgentPush: agents with their connections and histories, the send queues, and
// the threads that serve them. One mutex guards every queue and map; no socket call and no
// Service call happens under it.

#include "switchboard/agent_push.h"
#include "switchboard/message_codec.h"

#include <Poco/Buffer.h>
#include <Poco/Net/WebSocket.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace switchboard::push {

struct Hub;

/// How a connection wants its frames.
enum class Format { Xml, Json };

/// A message to an agent with its sequence number, shared by every connection it goes to (and
/// by the agent's history). Enriched and encoded once, by the first sender that needs it, not
/// under the server's lock; the decoded message is let go once encoded.
class Outgoing {
 public:
  Outgoing(Message message, std::uint64_t seq, std::int64_t created);

  /// The XML frame: <?switchboard seq="N"?> and the message document.
  const std::string& xml(Hub& hub);
  /// The JSON frame: {"type":"message","seq":N,"message":{...}}.
  const std::string& json(Hub& hub);

  const std::uint64_t seq;
  const std::int64_t created;               ///< steady clock, milliseconds
  const std::optional<std::string> offerOf; ///< the work item, when this is an offer

 private:
  Message message_;
  std::once_flag xmlOnce_;
  std::once_flag jsonOnce_;
  std::string xml_;
  std::string json_;
};

struct Frame {
  enum class Kind { Message, Text, Resync, Ping, Pong, Close };
  Kind kind = Kind::Text;
  std::shared_ptr<Outgoing> message; ///< Kind::Message
  std::string payload;               ///< Text (an answer document), Ping, Pong; Close's reason
  std::uint16_t closeCode = 0;       ///< Kind::Close
  std::uint64_t after = 0;           ///< Kind::Resync: the cursor the client gave
  std::uint64_t last = 0;            ///< Kind::Resync: the last sequence number sent so far
};

struct Connection {
  Connection(Poco::Net::WebSocket s, std::string agent, Party who, Format f)
      : socket(std::move(s)), agentId(std::move(agent)), caller(std::move(who)), format(f) {}

  Poco::Net::WebSocket socket;
  const std::string agentId;
  const Party caller;
  const Format format;
  std::size_t reader = 0;
  std::atomic<std::int64_t> lastHeard{0}; ///< steady clock, milliseconds
  Poco::Buffer<char> partial{0};          ///< a fragmented message so far (its reader only)

  // Guarded by Hub::mutex.
  std::deque<Frame> queue;
  bool scheduled = false;            ///< in Hub::ready, or a sender is writing it
  bool closing = false;              ///< a close frame is queued: nothing more is queued
  bool dropped = false;              ///< the socket was shut down; its reader will see the end
  bool registered = false;           ///< listed in its AgentStream
  bool finished = false;             ///< its reader has let it go
  std::deque<std::string> documents; ///< sent by the client, waiting for exchange()
  bool answering = false;            ///< a worker is taking `documents`
};

/// What the hub keeps per agent. Entries stay (they hold the sequence): one per agent that was
/// ever connected or messaged.
struct AgentStream {
  std::uint64_t lastSeq = 0;
  std::deque<std::shared_ptr<Outgoing>> history;
  std::vector<std::shared_ptr<Connection>> connections;
  bool everConnected = false;            ///< history is kept from the first connection on
  std::optional<std::int64_t> awaySince; ///< the last connection went; grace runs
  bool lapsed = false;                   ///< grace ran out: offers are declined as they come
};

/// One reader thread and the sockets it waits on.
struct Reader {
  int epoll = -1;
  int wake = -1; ///< eventfd: stop
  std::thread thread;
  std::mutex mutex; ///< guards owned
  std::unordered_map<Connection*, std::shared_ptr<Connection>> owned;
};

struct Hub {
  Hub(Service& s, MetricsRegistry& metrics, Logger& l, PushOptions o);
  ~Hub();

  void start();
  void stop();
  void deliver(const Message& message);
  void accept(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response,
              const UpgradeContext& context);

  // Under mutex.
  AgentStream& streamLocked(const std::string& agentId);
  void enqueueLocked(const std::shared_ptr<Connection>& connection, Frame frame);
  void closeLocked(const std::shared_ptr<Connection>& connection, std::uint16_t code,
                   std::string reason);
  void dropLocked(const std::shared_ptr<Connection>& connection, const std::string& reason);
  void unregisterLocked(const std::shared_ptr<Connection>& connection);
  void replayLocked(const std::shared_ptr<Connection>& connection, AgentStream& stream,
                    std::uint64_t after);
  void postLocked(std::function<void()> task);

  /// Adds the work item record and the routing reason to an offer (Service calls; no lock).
  void enrich(Message& message);
  /// Declines the offers of an agent that stayed away (Service calls; no lock).
  void reroute(const std::string& agentId, std::optional<std::string> onlyItem);

  // Threads (push_connection.cpp: one connection's reading and writing).
  void senderLoop();
  void maintenanceLoop();
  void workerLoop();
  void readerLoop(Reader& reader);
  /// Reads one frame of `connection`; false when the connection has ended.
  bool readFrame(const std::shared_ptr<Connection>& connection);
  void finish(Reader& reader, const std::shared_ptr<Connection>& connection);
  void answer(const std::shared_ptr<Connection>& connection, std::string_view document);
  void answerAll(const std::shared_ptr<Connection>& connection);
  /// Writes one frame; throws Poco::Exception when the socket fails or times out.
  void write(Connection& connection, Frame& frame);

  Service& service;
  Logger& logger;
  const PushOptions options;
  MessageCodec codec;
  /// The first sequence number of every agent: the start time, so numbers grow across restarts.
  const std::uint64_t seqBase;

  Gauge& connectedAgents;
  Gauge& openConnections;
  Counter& pushed;
  Family<Counter>& dropped;
  Counter& replayed;
  Counter& resyncs;
  Counter& rerouted;

  mutable std::mutex mutex;
  std::condition_variable work;         ///< senders: a connection became ready, or stop
  std::condition_variable changed;      ///< maintenance and stop(): a connection ended, or stop
  std::condition_variable tasksChanged; ///< workers
  std::unordered_map<std::string, AgentStream> agents;
  std::size_t agentsConnected = 0;
  std::vector<std::shared_ptr<Connection>> all; ///< until finished and written
  std::deque<std::shared_ptr<Connection>> ready;
  std::deque<std::function<void()>> tasks;
  std::vector<std::pair<std::string, std::string>> lapsedOffers; ///< agent, item: to decline
  bool running = false;
  bool stopSenders = false;
  bool stopMaintenance = false;
  bool stopWorkers = false;
  std::atomic<bool> stopReaders{false};
  std::size_t nextReader = 0;
  std::vector<std::thread> senders;
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<Reader>> readers;
  std::thread maintenance;
};

std::int64_t steadyMillis();

// Frames (push_frames.cpp).

/// The message document `xml` as a JSON object: attributes become string members, child
/// elements members named after them (arrays for the elements the schema lets repeat), text
/// content "text" (or the value itself for an element with nothing else). Throws
/// std::runtime_error when `xml` is not well-formed.
std::string messageToJson(std::string_view xml);
/// `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);
/// `xml` with <?switchboard seq="N"?> after its XML declaration.
std::string withSequence(const std::string& xml, std::uint64_t seq);
/// The routing trace as one line for the offer's reason (at most 512 bytes).
std::string reasonOf(const std::string& trace);
/// The resync frame in either format.
std::string resyncFrame(Format format, std::uint64_t after, std::uint64_t last);
/// An answer document in either format.
std::string answerFrame(Format format, const std::string& document);

} // namespace switchboard::push
