#pragma once

// The CRM database connector over ODBC. It plugs into the communication server in three ways:
// - as its WorkItemEnricher: a new item's customer is looked up by address (and their history
//   read) before routing; what comes back becomes the customer's reference, name, language, tier
//   and previous agent, and item attributes. When the CRM does not answer within lookupTimeout,
//   or is known to be down, the item is routed at once without it, with crmEnriched=false;
// - as a WorkItemEndObserver: an item that ends becomes an activity record, first written to the
//   connector's durable outbox, then to the CRM database, strictly in order, retried with backoff
//   while the database is away. The store's log of work item steps backs this up: the activity
//   thread follows it (its position kept in the outbox) and queues, once, any end the observer
//   did not deliver: one that was only in memory when the process died, or that came while the
//   connector was not running;
// - as a roster source: every rosterInterval it reads agents and skills and upserts those that
//   changed through the Service, so routing sees them without a restart.
//
// Threads: lookups run on the arriving thread when a lookup connection is idle (a watchdog
// thread cancels them at lookupTimeout), else on one of `poolSize` lookup workers; one activity
// writer, one roster reader. Each has its own connections, so a slow activity or roster
// statement never holds up a lookup.

#include "activity_outbox.h"
#include "odbc_options.h"
#include "odbc_pool.h"

#include "switchboard/crm_hooks.h"
#include "switchboard/metrics.h"
#include "switchboard/service.h"
#include "switchboard/store.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace switchboard::odbc {

/// Attribute set on every item the connector saw: "true" when the CRM answered the lookup
/// (whether or not it knew the customer), "false" when the item was routed without it.
inline constexpr const char* kEnrichedAttribute = "crmEnriched";

class OdbcConnector final : public WorkItemEnricher, public WorkItemEndObserver {
 public:
  struct Stats {
    std::uint64_t lookups = 0;           ///< items the connector was asked about
    std::uint64_t lookupFailures = 0;    ///< routed without enrichment: down, slow, or failed
    bool lookupsOnArrivingThread = true; ///< false once the driver failed to stop a cancelled
                                         ///< statement (lookups go through workers then)
    std::uint64_t activitiesQueued = 0;  ///< written to the outbox
    std::uint64_t activitiesWritten = 0;
    std::uint64_t activityFailures = 0; ///< attempts the CRM refused or missed
    std::uint64_t rosterUpdates = 0;    ///< agents upserted from the CRM
    std::uint64_t rosterFailures = 0;
    std::size_t outboxDepth =
        0; ///< activities not yet in the CRM: in the outbox or on their way to it
  };

  explicit OdbcConnector(OdbcOptions options);
  ~OdbcConnector() override;
  OdbcConnector(const OdbcConnector&) = delete;
  OdbcConnector& operator=(const OdbcConnector&) = delete;

  /// Registers switchboard_crm_* figures in `metrics` (labelled with the connector's name). Call
  /// before start(); `metrics` must outlive the connector.
  void registerMetrics(MetricsRegistry& metrics);

  /// Opens the outbox, starts the threads and, when a roster is configured, reads it once (a
  /// CRM that is down then is not an error: the roster thread tries again). `service` receives
  /// roster upserts and answers the activity writer's reads of ended items; `store` is the
  /// server's, whose log of work item steps the activity writer follows (from where it left off;
  /// on the outbox's first start, from the end of the log). Both must outlive the connector.
  /// Throws std::runtime_error (outbox or store unusable); nothing is left running then.
  void start(Service& service, Store& store);
  /// Stops the threads and moves items that ended meanwhile into the outbox; queued activities
  /// stay there for the next start. Call while the server is still alive. Idempotent.
  void stop();

  // WorkItemEnricher
  std::optional<std::string> enrich(WorkItem& item) override;
  // WorkItemEndObserver
  void workItemEnded(const EndedWorkItem& ended) noexcept override;

  /// Reads agents and skills now and upserts the changed ones. Returns how many were upserted.
  /// Throws DatabaseError.
  std::size_t syncRoster();

  Stats stats() const;

 private:
  struct Lookup;
  struct Fetched;
  struct Breaker {
    std::chrono::steady_clock::time_point openUntil{};
    std::chrono::milliseconds backoff{0};
  };

  /// Stops and joins the threads; answers waiting lookups with nothing.
  void halt();
  void lookupWorker();
  /// Hands the lookup to a worker (which may connect) and waits for it until `deadline`.
  std::optional<std::string> handOff(WorkItem& item,
                                     std::chrono::steady_clock::time_point deadline);
  /// Runs the lookup and (for a customer found) history statements for `item` through `run`.
  /// Throws what `run` throws.
  Fetched fetch(const WorkItem& item,
                const std::function<Rows(const SqlTemplate&, const Values&)>& run) const;
  /// Writes what the CRM returned into `item`; returns the text of its history step.
  static std::string apply(const Fetched& fetched, WorkItem& item);
  std::optional<std::string> enriched(const Fetched& fetched, WorkItem& item);
  std::optional<std::string> unenriched(WorkItem& item, const std::string& why);
  void activityLoop();
  /// Moves ended items into the outbox; false when one could not be (store or outbox failing).
  bool takeEnded();
  /// Reads the store's step log from the saved position and queues the activity of every end
  /// not queued yet (rebuilt from the stored item), then saves the new position. An end that the
  /// observer may still be delivering (in memory, or only just committed) stops the reading until
  /// the next round. False when the store or the outbox failed.
  bool catchUp();
  bool queueFromStore(const StoreEvent& event);
  bool drainOne();
  void rosterLoop();
  bool breakerOpen(Breaker& breaker);
  void breakerFailed(Breaker& breaker);
  void breakerSucceeded(Breaker& breaker);
  void count(std::atomic<std::uint64_t>& counter, Counter* metric);

  OdbcOptions options_;
  Service* service_ = nullptr;
  Store* store_ = nullptr;
  std::int64_t stepPosition_ = 0;  ///< the activity thread's place in the store's step log
  std::int64_t savedPosition_ = 0; ///< as last saved in the outbox
  std::chrono::steady_clock::time_point positionSaved_{};
  std::unique_ptr<ActivityOutbox> outbox_;
  OdbcPool lookupPool_;
  OdbcPool activityPool_;
  OdbcPool rosterPool_;

  mutable std::mutex mutex_;            ///< guards everything below
  std::condition_variable wake_;        ///< activity and roster threads
  std::condition_variable lookupReady_; ///< lookup workers: one is woken per lookup
  bool running_ = false;
  std::deque<std::shared_ptr<Lookup>> lookups_;
  std::deque<EndedWorkItem> ended_;
  Breaker lookupBreaker_;
  Breaker activityBreaker_;
  std::map<std::string, Agent> roster_; ///< what the last pass upserted, by agent id

  std::vector<std::thread> threads_;
  /// Lookups run on the arriving thread while the driver stops cancelled statements in time.
  std::atomic<bool> cancelHonoured_{true};
  std::atomic<std::uint64_t> lookupCount_{0};
  std::atomic<std::uint64_t> lookupFailures_{0};
  std::atomic<std::uint64_t> activitiesQueued_{0};
  std::atomic<std::uint64_t> activitiesWritten_{0};
  std::atomic<std::uint64_t> activityFailures_{0};
  std::atomic<std::uint64_t> rosterUpdates_{0};
  std::atomic<std::uint64_t> rosterFailures_{0};
  struct Instruments {
    Counter* enriched = nullptr;
    Counter* unenriched = nullptr;
    Counter* written = nullptr;
    Counter* writeFailures = nullptr;
  } instruments_;
};

} // namespace switchboard::odbc
