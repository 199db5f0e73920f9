#include "odbc_connector.h"

#include "column_names.h"

#include "switchboard/timestamp.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <iostream>
#include <limits>

namespace switchboard::odbc {
namespace {

using namespace std::chrono;

constexpr const char* kStepPosition = "work-item-steps";
constexpr std::string_view kStepPrefix = "crm: "; ///< begins the history step of an enrichment
// Later than any step: eventCursorAt() answers with the end of the log.
constexpr Timestamp kEndOfTime{milliseconds(std::numeric_limits<std::int64_t>::max() / 2)};
// How long an end seen in the store's log may wait for the observer before the log's reader
// queues it itself: the observer is called under the core's lock as the step is recorded, so
// it is at most the moment of a commit behind.
constexpr auto kObserverGrace = seconds(5);

void setAttribute(std::vector<Attribute>& attributes, const std::string& name,
                  const std::string& value) {
  for (Attribute& attribute : attributes) {
    if (attribute.name == name) {
      attribute.value = value;
      return;
    }
  }
  attributes.push_back({name, value});
}

// Writes one result row into the item: the customer's fields by their column names, everything
// else as item attributes named after the column. Appends ", name=value" for each to `described`
// (the history step's text).
void applyRow(const Rows& rows, WorkItem& item, std::string& described) {
  if (rows.rows.empty()) {
    return;
  }
  const auto& row = rows.rows.front();
  Customer& customer = item.customer ? *item.customer : item.customer.emplace();
  for (std::size_t c = 0; c < rows.columns.size() && c < row.size(); ++c) {
    if (!row[c] || row[c]->empty()) {
      continue;
    }
    const std::string& value = *row[c];
    const std::string key = canonical(rows.columns[c]);
    if (key == "customerref") {
      customer.ref = value;
    } else if (key == "customername") {
      customer.name = value;
    } else if (key == "language") {
      customer.language = value;
    } else if (key == "tier") {
      customer.tier = value;
    } else if (key == "previousagent" || key == "lastagentid" || key == "lastagent") {
      customer.lastAgentId = value;
    } else {
      setAttribute(item.attributes, rows.columns[c], value);
    }
    described.append(described.size() > kStepPrefix.size() ? ", " : "")
        .append(rows.columns[c])
        .append("=")
        .append(value);
  }
}

const Address* customerAddress(const WorkItem& item, const std::string& kind) {
  if (!item.customer) {
    return nullptr;
  }
  for (const Address& address : item.customer->addresses) {
    if (address.kind == kind) {
      return &address;
    }
  }
  return nullptr;
}

std::optional<std::string> time(const std::optional<Timestamp>& value) {
  if (!value) {
    return std::nullopt;
  }
  return formatTimestamp(*value);
}

// The values an activity statement may bind, from the ended item as stored.
Values activityValues(const EndedWorkItem& ended, const StoredWorkItem& stored) {
  const WorkItem& item = stored.item;
  Values values;
  values["workItemId"] = ended.workItemId;
  values["medium"] = item.medium;
  values["state"] = std::string(toString(ended.state));
  values["agentId"] = ended.agentId ? ended.agentId : item.agentId;
  values["queueId"] = ended.queueId ? ended.queueId : item.queueId;
  values["customerRef"] = item.customer ? item.customer->ref : std::nullopt;
  values["address"] = item.customer && !item.customer->addresses.empty()
                          ? std::optional<std::string>(item.customer->addresses.front().value)
                          : std::nullopt;
  values["subject"] = item.subject;
  values["disposition"] = ended.disposition;
  values["notes"] = ended.notes;
  std::optional<Timestamp> created = item.created;
  if (!created && !item.history.empty()) {
    created = item.history.front().time;
  }
  values["created"] = time(created);
  std::optional<Timestamp> accepted;
  for (const HistoryEntry& step : item.history) {
    if (step.state == WorkItemState::Accepted) {
      accepted = step.time;
    }
  }
  values["accepted"] = time(accepted);
  values["ended"] = formatTimestamp(ended.time);
  // Where the CRM finds the body or transcript: the work item in Switchboard's REST API.
  values["reference"] = "/v1/work-items/" + ended.workItemId;
  values["thread"] = item.thread;
  values["source"] = stored.source;
  values["cause"] = ended.cause;
  return values;
}

} // namespace

struct OdbcConnector::Fetched {
  const LookupStatement* statement = nullptr; ///< nothing: the item has no address to look up
  std::string addressKind;
  std::string address;
  Rows customer;
  std::optional<Rows> history;
};

struct OdbcConnector::Lookup {
  WorkItem item;
  std::promise<std::optional<Fetched>> done;
  std::atomic<bool> abandoned{false};
};

OdbcConnector::OdbcConnector(OdbcOptions options)
    : options_(std::move(options)), lookupPool_(options_.connection.reveal(), options_.poolSize,
                                                options_.connectTimeout, options_.queryTimeout),
      activityPool_(options_.connection.reveal(), 1, options_.connectTimeout,
                    options_.queryTimeout),
      rosterPool_(options_.connection.reveal(), 1, options_.connectTimeout, options_.queryTimeout) {
}

OdbcConnector::~OdbcConnector() {
  halt();
}

void OdbcConnector::registerMetrics(MetricsRegistry& metrics) {
  auto& lookups = metrics.counterFamily(
      "switchboard_crm_lookups_total",
      "Work items the CRM connector looked up, by connector and outcome: enriched, or "
      "unenriched (the CRM database was down, slow or failed; routed without it).",
      {"connector", "outcome"});
  instruments_.enriched = &lookups.with({options_.name, "enriched"});
  instruments_.unenriched = &lookups.with({options_.name, "unenriched"});
  auto& activities = metrics.counterFamily(
      "switchboard_crm_activities_total",
      "Activity records by connector and outcome: written to the CRM database, or failed "
      "attempts (retried from the outbox).",
      {"connector", "outcome"});
  instruments_.written = &activities.with({options_.name, "written"});
  instruments_.writeFailures = &activities.with({options_.name, "failed"});
  metrics.addCollector("switchboard_crm_outbox_activities",
                       "Activity records waiting in the connector's outbox for the CRM database.",
                       MetricType::Gauge, {"connector"}, [this] {
                         return std::vector<CollectedSample>{
                             {{options_.name}, static_cast<double>(stats().outboxDepth)}};
                       });
}

void OdbcConnector::count(std::atomic<std::uint64_t>& counter, Counter* metric) {
  counter.fetch_add(1, std::memory_order_relaxed);
  if (metric != nullptr) {
    metric->inc();
  }
}

void OdbcConnector::start(Service& service, Store& store) {
  std::unique_lock lock(mutex_);
  if (running_) {
    return;
  }
  service_ = &service;
  store_ = &store;
  if (!options_.activity.empty()) {
    outbox_ = std::make_unique<ActivityOutbox>(options_.outbox);
    try {
      if (std::optional<std::int64_t> saved = outbox_->position(kStepPosition)) {
        stepPosition_ = *saved;
      } else {
        // A new outbox starts with what ends from now on; one that existed resumes where it was.
        stepPosition_ = store.eventCursorAt(StoreEvent::Subject::WorkItem, kEndOfTime);
        outbox_->savePosition(kStepPosition, stepPosition_);
      }
    } catch (const std::exception& e) {
      outbox_.reset();
      throw std::runtime_error("odbc " + options_.name + ": the store's step log: " + e.what());
    }
    savedPosition_ = stepPosition_;
  }
  running_ = true;
  lock.unlock();
  if (!options_.agents.empty()) {
    try {
      syncRoster();
    } catch (const std::exception& e) {
      rosterFailures_.fetch_add(1);
      std::cerr << "odbc " << options_.name << ": roster not read at start: " << e.what() << '\n';
    }
  }
  try {
    if (!options_.lookups.empty()) {
      for (std::size_t i = 0; i < options_.poolSize; ++i) {
        threads_.emplace_back([this] { lookupWorker(); });
      }
    }
    if (outbox_) {
      threads_.emplace_back([this] { activityLoop(); });
    }
    if (!options_.agents.empty() && options_.rosterInterval.count() > 0) {
      threads_.emplace_back([this] { rosterLoop(); });
    }
  } catch (...) {
    halt();
    throw;
  }
}

void OdbcConnector::stop() {
  halt();
  if (outbox_ && service_ != nullptr) {
    // Items that ended while the server was stopping go to the outbox for the next start.
    takeEnded();
    if (stepPosition_ != savedPosition_) {
      try {
        outbox_->savePosition(kStepPosition, stepPosition_);
        savedPosition_ = stepPosition_;
      } catch (const std::exception& e) {
        std::cerr << "odbc " << options_.name << ": " << e.what() << '\n';
      }
    }
  }
}

void OdbcConnector::halt() {
  {
    std::lock_guard lock(mutex_);
    if (!running_ && threads_.empty()) {
      return;
    }
    running_ = false;
  }
  wake_.notify_all();
  lookupReady_.notify_all();
  for (std::thread& thread : threads_) {
    thread.join();
  }
  threads_.clear();
  std::lock_guard lock(mutex_);
  for (auto& lookup : lookups_) {
    lookup->done.set_value(std::nullopt);
  }
  lookups_.clear();
}

// ------------------------------------------------------------------------------------ breaker

bool OdbcConnector::breakerOpen(Breaker& breaker) {
  return steady_clock::now() < breaker.openUntil;
}

void OdbcConnector::breakerFailed(Breaker& breaker) {
  breaker.backoff = breaker.backoff.count() == 0
                        ? options_.retryBackoff
                        : std::min(breaker.backoff * 2, options_.maxBackoff);
  breaker.openUntil = steady_clock::now() + breaker.backoff;
}

void OdbcConnector::breakerSucceeded(Breaker& breaker) {
  breaker.backoff = milliseconds(0);
  breaker.openUntil = {};
}

// ----------------------------------------------------------------------------------- enrichment

std::optional<std::string> OdbcConnector::enrich(WorkItem& item) {
  lookupCount_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    if (!running_ || options_.lookups.empty()) {
      return std::nullopt;
    }
    if (breakerOpen(lookupBreaker_)) {
      return unenriched(item, "database unavailable");
    }
  }
  const auto deadline = steady_clock::now() + options_.lookupTimeout;
  // On this thread when a connection is open and idle: no hand-off, no connect that could hang;
  // the pool's watchdog cancels the statement at the deadline.
  const auto tick = std::clamp(options_.lookupTimeout / 10, milliseconds(5), milliseconds(50));
  std::optional<OdbcPool::Lease> lease =
      cancelHonoured_.load(std::memory_order_relaxed) ? lookupPool_.tryIdle(tick) : std::nullopt;
  if (lease) {
    std::optional<Fetched> fetched;
    bool cancelled = false;
    try {
      fetched = fetch(item, [&](const SqlTemplate& sql, const Values& values) {
        return lease->run(sql, values, deadline);
      });
    } catch (const StatementCancelled&) {
      cancelled = true;
    } catch (const std::exception&) {
      // Most likely a stale connection (the database restarted): a worker tries a fresh one
      // within what is left of lookupTimeout.
    }
    lease.reset();
    if (steady_clock::now() > deadline + options_.lookupTimeout &&
        cancelHonoured_.exchange(false)) {
      // The driver let a cancelled statement run on: from now on only workers wait for it, and
      // arrivals never wait beyond lookupTimeout.
      std::cerr << "odbc " << options_.name
                << ": the ODBC driver did not stop a statement cancelled at lookupTimeout; "
                   "lookups are handed to worker threads from now on\n";
    }
    const bool late = steady_clock::now() > deadline;
    if (fetched) {
      if (!late) {
        // An answer that came too late says the database is slow, not that it is back.
        std::lock_guard lock(mutex_);
        breakerSucceeded(lookupBreaker_);
      }
      return enriched(*fetched, item);
    }
    if (cancelled || late) {
      std::lock_guard lock(mutex_);
      breakerFailed(lookupBreaker_);
      return unenriched(item, "no answer within " + std::to_string(options_.lookupTimeout.count()) +
                                  "ms");
    }
  }
  return handOff(item, deadline);
}

std::optional<std::string> OdbcConnector::unenriched(WorkItem& item, const std::string& why) {
  count(lookupFailures_, instruments_.unenriched);
  setAttribute(item.attributes, kEnrichedAttribute, "false");
  return "crm: " + why + "; routed without enrichment";
}

std::optional<std::string> OdbcConnector::enriched(const Fetched& fetched, WorkItem& item) {
  if (instruments_.enriched != nullptr) {
    instruments_.enriched->inc();
  }
  return apply(fetched, item);
}

std::optional<std::string> OdbcConnector::handOff(WorkItem& item,
                                                  steady_clock::time_point deadline) {
  auto lookup = std::make_shared<Lookup>();
  {
    std::lock_guard lock(mutex_);
    if (!running_) {
      return std::nullopt;
    }
    // Lookups that wait for a worker are the ones a slow database would make arrivals wait for
    // on top of their own: beyond a few per worker, do not queue more.
    if (lookups_.size() >= options_.poolSize * 4) {
      return unenriched(item, "too many lookups waiting");
    }
    lookup->item = item;
    lookups_.push_back(lookup);
  }
  lookupReady_.notify_one();
  std::future<std::optional<Fetched>> answer = lookup->done.get_future();
  if (answer.wait_until(deadline) != std::future_status::ready) {
    lookup->abandoned = true;
    {
      // A database that does not answer is treated as one that failed: the next arrivals skip
      // it for the backoff instead of each waiting lookupTimeout.
      std::lock_guard lock(mutex_);
      breakerFailed(lookupBreaker_);
    }
    return unenriched(item,
                      "no answer within " + std::to_string(options_.lookupTimeout.count()) + "ms");
  }
  std::optional<Fetched> fetched = answer.get();
  if (!fetched) {
    return unenriched(item, "lookup failed");
  }
  return enriched(*fetched, item);
}

void OdbcConnector::lookupWorker() {
  std::unique_lock lock(mutex_);
  while (true) {
    lookupReady_.wait(lock, [&] { return !running_ || !lookups_.empty(); });
    if (!running_) {
      return;
    }
    std::shared_ptr<Lookup> lookup = lookups_.front();
    lookups_.pop_front();
    if (lookup->abandoned) {
      lookup->done.set_value(std::nullopt);
      continue;
    }
    lock.unlock();
    std::optional<Fetched> fetched;
    try {
      fetched = fetch(lookup->item, [&](const SqlTemplate& sql, const Values& values) {
        return lookupPool_.run(sql, values);
      });
    } catch (const std::exception&) {
    }
    lock.lock();
    if (!fetched) {
      breakerFailed(lookupBreaker_);
    } else if (!lookup->abandoned) {
      // An answer that came too late says the database is slow, not that it is back.
      breakerSucceeded(lookupBreaker_);
    }
    lookup->done.set_value(std::move(fetched));
  }
}

OdbcConnector::Fetched
OdbcConnector::fetch(const WorkItem& item,
                     const std::function<Rows(const SqlTemplate&, const Values&)>& run) const {
  Fetched fetched;
  const Address* address = nullptr;
  for (const LookupStatement& candidate : options_.lookups) {
    if ((address = customerAddress(item, candidate.addressKind)) != nullptr) {
      fetched.statement = &candidate;
      break;
    }
  }
  if (fetched.statement == nullptr) {
    return fetched;
  }
  fetched.addressKind = address->kind;
  fetched.address = address->value;
  // Only the values the two statements bind (most lookups bind the address alone).
  Values values;
  auto set = [&](const char* name, auto&& value) {
    auto uses = [&](const SqlTemplate& sql) {
      return std::find(sql.names().begin(), sql.names().end(), name) != sql.names().end();
    };
    if (uses(fetched.statement->sql) || uses(options_.history)) {
      values.emplace(name, std::forward<decltype(value)>(value));
    }
  };
  set("address", address->value);
  set("addressKind", address->kind);
  set("medium", item.medium);
  set("contactPoint",
      item.contactPoint ? std::optional<std::string>(item.contactPoint->value) : std::nullopt);
  set("subject", item.subject);
  set("workItemId", item.id);
  fetched.customer = run(fetched.statement->sql, values);
  if (fetched.customer.rows.empty() || options_.history.empty()) {
    return fetched;
  }
  // The history is read for the customer the lookup found (or the item already named).
  std::optional<std::string> ref = item.customer ? item.customer->ref : std::nullopt;
  const auto& row = fetched.customer.rows.front();
  for (std::size_t c = 0; c < fetched.customer.columns.size() && c < row.size(); ++c) {
    if (row[c] && !row[c]->empty() && canonical(fetched.customer.columns[c]) == "customerref") {
      ref = row[c];
    }
  }
  if (ref) {
    values["customerRef"] = ref;
    fetched.history = run(options_.history, values);
  }
  return fetched;
}

std::string OdbcConnector::apply(const Fetched& fetched, WorkItem& item) {
  setAttribute(item.attributes, kEnrichedAttribute, "true");
  if (fetched.statement == nullptr) {
    return "crm: no address to look up";
  }
  if (fetched.customer.rows.empty()) {
    return "crm: no customer for " + fetched.addressKind + " " + fetched.address;
  }
  std::string described(kStepPrefix);
  described.reserve(256);
  applyRow(fetched.customer, item, described);
  if (fetched.history) {
    applyRow(*fetched.history, item, described);
  }
  return described;
}

// ----------------------------------------------------------------------------------- activities

void OdbcConnector::workItemEnded(const EndedWorkItem& ended) noexcept {
  try {
    {
      std::lock_guard lock(mutex_);
      if (!outbox_ || !running_) {
        return;
      }
      ended_.push_back(ended);
    }
    wake_.notify_all();
  } catch (...) {
    // Out of memory while queueing: the activity is lost, the server goes on.
  }
}

// Moves ended items into the outbox: each is read back from the store (its medium, subject,
// customer and times) and made durable before the CRM is tried.
bool OdbcConnector::takeEnded() {
  std::unique_lock lock(mutex_);
  while (!ended_.empty()) {
    EndedWorkItem ended = ended_.front();
    lock.unlock();
    auto details = service_->workItem(ended.workItemId);
    if (!details.ok()) {
      // The store cannot answer now; keep the item in memory and try again on the next round.
      return false;
    }
    try {
      if (outbox_->add(ended.workItemId, activityValues(ended, details->stored))) {
        count(activitiesQueued_, nullptr);
      }
    } catch (const std::exception& e) {
      std::cerr << "odbc " << options_.name << ": " << e.what() << '\n';
      return false;
    }
    lock.lock();
    ended_.pop_front();
  }
  return true;
}

bool OdbcConnector::catchUp() {
  constexpr std::size_t kPage = 500;
  for (;;) {
    std::vector<StoreEvent> steps;
    try {
      steps = store_->events(StoreEvent::Subject::WorkItem, stepPosition_, kPage);
    } catch (const std::exception& e) {
      std::cerr << "odbc " << options_.name << ": reading the store's step log: " << e.what()
                << '\n';
      return false;
    }
    std::int64_t reached = stepPosition_;
    bool held = false;
    try {
      for (const StoreEvent& step : steps) {
        if ((step.state == toString(WorkItemState::Completed) ||
             step.state == toString(WorkItemState::Abandoned)) &&
            !outbox_->queued(step.subjectId)) {
          bool inMemory = false;
          {
            std::lock_guard lock(mutex_);
            for (const EndedWorkItem& ended : ended_) {
              inMemory = inMemory || ended.workItemId == step.subjectId;
            }
          }
          if (inMemory || system_clock::now() - step.time < kObserverGrace) {
            held = true; // the observer's copy (with its disposition and notes) comes first
            break;
          }
          if (!queueFromStore(step)) {
            held = true;
            break;
          }
        }
        reached = step.id;
      }
      stepPosition_ = reached;
      // Saved once a second, not per round: a position that lags after a crash only means
      // reading some steps again, and what they ended is queued already.
      if (stepPosition_ != savedPosition_ && steady_clock::now() - positionSaved_ >= seconds(1)) {
        outbox_->savePosition(kStepPosition, stepPosition_);
        savedPosition_ = stepPosition_;
        positionSaved_ = steady_clock::now();
      }
    } catch (const std::exception& e) {
      std::cerr << "odbc " << options_.name << ": " << e.what() << '\n';
      return false;
    }
    if (held || steps.size() < kPage) {
      return true;
    }
  }
}

// An end the observer did not deliver, rebuilt from the stored item: the disposition and notes
// come from the step that recorded them ("disposition D: notes"), when it was committed.
bool OdbcConnector::queueFromStore(const StoreEvent& step) {
  auto details = service_->workItem(step.subjectId);
  if (!details.ok()) {
    return details.error().code == ServiceErrorCode::NotFound; // nothing to write for it
  }
  const StoredWorkItem& stored = details->stored;
  EndedWorkItem ended;
  ended.workItemId = step.subjectId;
  ended.state = step.state == toString(WorkItemState::Abandoned) ? WorkItemState::Abandoned
                                                                 : WorkItemState::Completed;
  ended.time = step.time;
  ended.cause = step.cause;
  constexpr std::string_view kDisposition = "disposition ";
  for (const HistoryEntry& entry : stored.item.history) {
    if (entry.state != WorkItemState::Completed || !entry.cause.starts_with(kDisposition)) {
      continue;
    }
    std::string text = entry.cause.substr(kDisposition.size());
    const auto colon = text.find(": ");
    std::string disposition = text.substr(0, colon);
    if (disposition != "none") {
      ended.disposition = disposition;
    }
    if (colon != std::string::npos) {
      ended.notes = text.substr(colon + 2);
    }
  }
  if (outbox_->add(ended.workItemId, activityValues(ended, stored))) {
    count(activitiesQueued_, nullptr);
    std::cerr << "odbc " << options_.name << ": activity of " << ended.workItemId
              << " queued from the store's log (it ended while the connector could not take it)\n";
  }
  return true;
}

bool OdbcConnector::drainOne() {
  std::optional<QueuedActivity> next = outbox_->front();
  if (!next) {
    return false;
  }
  try {
    activityPool_.run(options_.activity, next->values);
  } catch (const DatabaseError& e) {
    count(activityFailures_, instruments_.writeFailures);
    outbox_->failed(next->sequence, e.what());
    if (next->attempts == 0) {
      // Once per activity: the outbox keeps the latest reason (last_error) for the rest.
      std::cerr << "odbc " << options_.name << ": activity of " << next->workItemId
                << " not written yet, will retry: " << e.what() << '\n';
    }
    throw;
  }
  outbox_->remove(next->sequence);
  count(activitiesWritten_, instruments_.written);
  return true;
}

void OdbcConnector::activityLoop() {
  std::unique_lock lock(mutex_);
  while (running_) {
    lock.unlock();
    const bool taken = takeEnded() && catchUp();
    bool wrote = false;
    bool failed = false;
    lock.lock();
    const bool open = breakerOpen(activityBreaker_);
    lock.unlock();
    if (!open) {
      try {
        wrote = drainOne();
      } catch (const std::exception&) {
        failed = true;
      }
    }
    lock.lock();
    if (failed) {
      breakerFailed(activityBreaker_);
    } else if (wrote) {
      breakerSucceeded(activityBreaker_);
      continue;
    }
    // Nothing written: wait for a new ended item (unless the last could not be taken: then a
    // second), the end of the backoff, or stop.
    auto until = breakerOpen(activityBreaker_) ? activityBreaker_.openUntil
                                               : steady_clock::now() + seconds(1);
    if (!taken) {
      until = std::min(until, steady_clock::now() + seconds(1));
    }
    wake_.wait_until(lock, until, [&] { return !running_ || (taken && !ended_.empty()); });
  }
}

OdbcConnector::Stats OdbcConnector::stats() const {
  Stats stats;
  stats.lookups = lookupCount_.load();
  stats.lookupFailures = lookupFailures_.load();
  stats.lookupsOnArrivingThread = cancelHonoured_.load();
  stats.activitiesQueued = activitiesQueued_.load();
  stats.activitiesWritten = activitiesWritten_.load();
  stats.activityFailures = activityFailures_.load();
  stats.rosterUpdates = rosterUpdates_.load();
  stats.rosterFailures = rosterFailures_.load();
  if (outbox_) {
    stats.outboxDepth = outbox_->size();
    std::lock_guard lock(mutex_); // not around the outbox: the core may wait for this lock
    stats.outboxDepth += ended_.size();
  }
  return stats;
}

} // namespace switchboard::odbc
