#pragma once

// The communication server's core: it joins the durable store, the routing engine and the
// channel drivers, and offers them to front ends as a Service and to drivers as a MessageSink.
//
// Order of work for everything that arrives: commit to the store, then acknowledge, then route.
// The routing engine is single-threaded; one mutex serialises it, and store commits happen
// outside that mutex so that concurrent arrivals share transactions (group commit). State
// changes the engine decides are written behind, in order; a call whose answer promises a state
// (accept, complete ...) waits until its changes are durable before it answers.

#include "switchboard/channel_driver.h"
#include "switchboard/crm_hooks.h"
#include "switchboard/message_codec.h"
#include "switchboard/metrics.h"
#include "switchboard/queue_waits.h"
#include "switchboard/routing/routing_engine.h"
#include "switchboard/service.h"
#include "switchboard/store.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace switchboard {

using Clock = std::function<Timestamp()>;

/// The wall clock, to the millisecond.
Timestamp systemNow();

/// An agent profile of the configuration as the message format shows it: capacity per medium
/// is the largest any of its mixes allows; list attributes are joined with spaces.
Agent profileOf(const routing::AgentSpec& spec);

struct CoreOptions {
  std::string serverId = "sb-1";
  routing::EngineOptions engine;
  std::vector<routing::QueueSpec> queues;
  std::vector<routing::RuleSpec> rules;
  std::vector<routing::AgentSpec> agents; ///< profiles from the configuration
  /// An item answered within this wait counts as within the service level.
  std::chrono::milliseconds serviceLevelThreshold{std::chrono::seconds(20)};
  /// Run the engine's timers (offer expiry, escalation ...) on a thread of the server's own.
  /// Tests turn it off and call tick().
  bool runTimers = true;
};

/// Told of every message the server sends to agents or the CRM (offers, state changes ...).
/// Called with the server's lock held: it must not call back into the server.
using MessageListener = std::function<void(const Message&)>;

class CommunicationServer final : public Service, public MessageSink {
 public:
  CommunicationServer(CoreOptions options, Store& store, Clock clock = systemNow);
  ~CommunicationServer() override;
  CommunicationServer(const CommunicationServer&) = delete;
  CommunicationServer& operator=(const CommunicationServer&) = delete;

  /// Configures routing, saves the configured agents, takes up every unfinished work item from
  /// the store (recovery) and starts the timers. Throws std::invalid_argument for a routing
  /// configuration the engine refuses, StoreError when the store fails.
  void start();
  /// Stops the timers and waits until every write is durable. Safe to call twice.
  void stop();

  /// Lets replies and other commands for items of driver `name` reach it.
  void attachDriver(const std::string& name, ChannelDriver& driver);
  void detachDriver(const std::string& name);
  void addListener(MessageListener listener);
  /// CRM hooks (crm_hooks.h). Set before start(); the objects must outlive the server. A null
  /// enricher turns enrichment off.
  void setEnricher(WorkItemEnricher* enricher);
  void addEndObserver(WorkItemEndObserver& observer);

  /// Fires the engine's due timers now (what the timer thread does).
  void tick();

  /// Registers the server's figures in `metrics`: live work items by state and queue, work
  /// items by outcome, routing decision latency, dead letters by source, store commits. Call
  /// before start(); `metrics` must outlive the server.
  void registerMetrics(MetricsRegistry& metrics);

  // MessageSink
  std::string submit(std::string_view document) override;

  // Service
  std::vector<Agent> agents() override;
  ServiceResult<Agent> agent(const std::string& id) override;
  ServiceResult<Agent> upsertAgent(const Agent& profile) override;
  ServiceResult<Agent> setAgentState(const std::string& id, AgentState state,
                                     const std::optional<std::string>& reason) override;
  ServiceResult<std::vector<StoredWorkItem>> workItems(const WorkItemFilter& filter) override;
  ServiceResult<WorkItemDetails> workItem(const std::string& id,
                                          Freshness freshness = Freshness::Pushed) override;
  ServiceResult<ArrivalOutcome> createWorkItem(const WorkItem& item,
                                               const std::string& source) override;
  void createWorkItemAsync(const WorkItem& item, const std::string& source, const Post& post,
                           std::function<void(ServiceResult<ArrivalOutcome>)> done) override;
  ServiceResult<StoredWorkItem> accept(const std::string& workItemId,
                                       const std::string& agentId) override;
  ServiceResult<StoredWorkItem> decline(const std::string& workItemId, const std::string& agentId,
                                        const std::optional<std::string>& reason) override;
  ServiceResult<StoredWorkItem> transfer(const TransferRequest& request) override;
  ServiceResult<StoredWorkItem> complete(const CompleteRequest& request) override;
  ServiceResult<StoredWorkItem> reply(const SendReply& reply) override;
  std::vector<QueueStatus> queues() override;
  ServiceResult<std::string> exchange(std::string_view document, const Party& caller) override;
  std::vector<DeadLetter> deadLetters(std::size_t limit) override;
  std::optional<StoredResponse> storedResponse(const std::string& key) override;
  void storeResponse(const StoredResponse& response) override;
  void storeResponseAsync(const StoredResponse& response, const Post& post,
                          std::function<void(const std::optional<std::string>&)> done) override;
  bool ready() override;

 private:
  struct QueueCounters {
    std::int64_t day = 0; ///< days since the epoch the counts are for
    std::uint64_t answered = 0;
    std::uint64_t answeredInTime = 0;
    std::uint64_t abandoned = 0;
  };
  using Writes = std::vector<std::shared_future<void>>;
  struct Instruments {
    Family<Counter>* outcomes = nullptr;    ///< work items by outcome
    Family<Counter>* deadLetters = nullptr; ///< by source
    Histogram* decisions = nullptr;         ///< routing calls, seconds
  };
  using Lock = std::unique_lock<std::mutex>;

  // Lifecycle and routing (communication_server.cpp).
  void count(const std::string& outcome);
  void countDeadLetter(const std::string& source);
  /// Runs a routing call, timing it when metrics are registered.
  routing::Outcome timed(const std::function<routing::Outcome()>& call);
  void recover();
  /// What apply() leaves to an arrival routed before its commit: the steps of the arrived
  /// item, which the arrival's own write carries, and the messages, sent once it is committed.
  struct HeldBack {
    std::vector<WorkItemChange> steps;
    std::vector<Message> outbound;
  };
  /// Records the engine's actions in the store, keeps the books (waits, counters, traces) and
  /// sends the messages. `arrived`: the item just submitted, whose first step carries what
  /// classification added. `held`: the arrived item's steps and the messages go there instead.
  /// Called with the lock held.
  Writes apply(routing::Actions actions, const std::string& actor,
               const WorkItem* arrived = nullptr, HeldBack* held = nullptr);
  ServiceResult<ArrivalOutcome> arrive(const WorkItem& item, const std::string& source);
  Agent agentLocked(const std::string& id) const;
  void publish(const Message& message);
  Message outgoing(PartyType type, const std::string& id);
  void timerLoop();

  // Shared by the service calls (service_calls.cpp).
  ServiceResult<StoredWorkItem> finish(const std::string& workItemId, Writes writes);
  ServiceResult<StoredWorkItem> route(const std::string& workItemId, const std::string& actor,
                                      const std::function<routing::Outcome()>& call);

  // Threading and contacts kept without routing (contact_threading.cpp, docs/message.md 4.4).
  struct ThreadTarget {
    std::string workItemId; ///< the earlier item the contact answers
    std::string thread;     ///< its thread: its own id when it started one
    bool open = false;      ///< still live in the engine
    bool join = true;       ///< join it while open (else a new item in its thread)
  };
  /// An arrival between its two halves: prepared for the store, then routed once committed.
  struct Arrival {
    NewWorkItem record;                 ///< what the store commits
    std::optional<ThreadTarget> target; ///< the earlier item it answers, if any
  };
  Arrival prepareArrival(const WorkItem& item, const std::string& source);
  ServiceResult<ArrivalOutcome> completeArrival(Arrival& arrival, const ArrivalOutcome& outcome);
  /// Whether `arrival` may be routed before its commit: no idempotency key (it cannot be a
  /// duplicate), not kept unrouted, not a reply to an earlier item.
  static bool routableBeforeCommit(const Arrival& arrival);
  /// Routes `arrival` under the reserved id `id`, then commits it with its routing steps in
  /// one write; its messages (an offer) go out and `done` runs once it is committed.
  void arriveRouted(const std::shared_ptr<Arrival>& arrival, const std::string& id,
                    const Post& post, std::function<void(ServiceResult<ArrivalOutcome>)> done);
  /// The end of arriveRouted(), on a thread of `post`, once the store has answered.
  void committedRouted(const Arrival& arrival, const HeldBack& held,
                       const std::optional<ArrivalOutcome>& outcome, const std::string& failure,
                       const std::function<void(ServiceResult<ArrivalOutcome>)>& done);
  /// The earlier item an arriving contact answers (attributes inReplyTo, workItemRef), if any.
  std::optional<ThreadTarget> threadTargetOf(const WorkItem& item);
  /// Lets later contacts find `workItemId` by the keys of `item` (source key, replyKeys).
  /// Called with the lock held.
  void rememberThreadKeys(const WorkItem& item, const std::string& workItemId);
  void rememberThreadKey(const std::string& key, const std::string& workItemId);
  /// Ends a committed arrival that is not routed: a contact marked noRoute, or a reply joining
  /// its open item. Nothing when the arrival is to be routed.
  std::optional<ArrivalOutcome> keepUnrouted(const WorkItem& item, const ArrivalOutcome& outcome,
                                             const std::string& source,
                                             const std::optional<ThreadTarget>& target,
                                             Timestamp time);
  /// For a deliveryReport naming the id of the reply sent (externalId): adds it to the item's
  /// replyKeys attribute in `event`'s record, so that the customer's answer finds the item.
  void noteReplyKey(const Notification& notification, const WorkItem& stored,
                    WorkItemChange& event);

  /// Whether the timer thread must wake early for a timer sooner than it sleeps until. Called
  /// with the lock held; the caller notifies wake_ after unlocking.
  bool timerDueSooner() const;

  // Documents (message_exchange.cpp).
  Message answer(const Message& request);
  Message handle(const Message& message);
  Message handleNotification(const Message& message, const Notification& notification);
  Message handleCommand(const Message& message, const Command& command);
  Message handleRequest(const Message& message, const Request& request);

  CoreOptions options_;
  Store& store_;
  Clock clock_;
  MessageCodec codec_;

  mutable std::mutex mutex_; ///< guards everything below
  routing::RoutingEngine engine_;
  std::map<std::string, Agent> profiles_;
  std::map<std::string, std::string> traces_;      ///< work item -> its last routing decision
  std::map<std::string, std::string> itemSources_; ///< live work item -> driver that brought it
  QueueWaits queueWaits_; ///< live work items: since when, and in which queue they wait
  std::map<std::string, QueueCounters> counters_;
  std::map<std::string, ChannelDriver*> drivers_;
  std::map<std::string, std::string> threadKeys_; ///< source key or reply id -> work item
  std::deque<std::string> threadKeyOrder_;        ///< oldest first, to bound threadKeys_
  std::vector<MessageListener> listeners_;
  WorkItemEnricher* enricher_ = nullptr;
  std::vector<WorkItemEndObserver*> endObservers_;
  /// Disposition and notes of a complete in progress, for the end observers.
  std::map<std::string, std::pair<std::optional<std::string>, std::optional<std::string>>>
      endNotes_;
  Instruments instruments_;
  std::uint64_t messageSequence_ = 0;
  bool started_ = false;
  bool stopping_ = false;
  std::condition_variable wake_;
  /// The timer the timer thread sleeps until (nullopt: none, it polls). A change wakes it only
  /// when it brings a timer due sooner, not on every arrival.
  std::optional<Timestamp> timerWakesAt_;
  std::thread timer_;
};

} // namespace switchboard
