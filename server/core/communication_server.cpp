#include "switchboard/communication_server.h"

#include "switchboard/routing/message_conversion.h"

#include <algorithm>
#include <iostream>

namespace switchboard {
namespace {

using namespace std::chrono;

std::int64_t dayOf(Timestamp time) {
  return floor<days>(time).time_since_epoch().count();
}

// Owned copies of the engine's actions: its string views die with the next engine call.
struct ChangeRecord {
  WorkItemChange change;
  std::optional<std::string> trace;
};

} // namespace

Timestamp systemNow() {
  return time_point_cast<milliseconds>(system_clock::now());
}

Agent profileOf(const routing::AgentSpec& spec) {
  Agent agent;
  agent.id = spec.id;
  if (!spec.name.empty()) {
    agent.name = spec.name;
  }
  if (!spec.site.empty()) {
    agent.site = spec.site;
  }
  agent.seniority = spec.seniority;
  agent.skills = spec.skills;
  for (const routing::AttributeSpec& attribute : spec.attributes) {
    std::string value;
    for (const std::string& part : attribute.values) {
      value += (value.empty() ? "" : " ") + part;
    }
    agent.attributes.push_back({attribute.name, value});
  }
  for (const routing::CapacityMix& mix : spec.capacity) {
    for (const routing::MediumLimit& limit : mix.limits) {
      auto same = std::find_if(agent.capacity.begin(), agent.capacity.end(),
                               [&](const Capacity& c) { return c.medium == limit.medium; });
      if (same == agent.capacity.end()) {
        agent.capacity.push_back({limit.medium, limit.max, std::nullopt});
      } else {
        same->max = std::max(same->max, limit.max);
      }
    }
  }
  return agent;
}

CommunicationServer::CommunicationServer(CoreOptions options, Store& store, Clock clock)
    : options_(std::move(options)), store_(store), clock_(std::move(clock)),
      engine_(options_.engine) {}

CommunicationServer::~CommunicationServer() {
  stop();
}

void CommunicationServer::start() {
  Lock lock(mutex_);
  Timestamp now = clock_();
  for (const routing::QueueSpec& queue : options_.queues) {
    auto configured = engine_.upsertQueue(queue, now);
    if (!configured.ok()) {
      throw std::invalid_argument("queue '" + queue.id + "': " + configured.error().message);
    }
  }
  if (auto rules = engine_.setRules(options_.rules); !rules.ok()) {
    throw std::invalid_argument("classification rules: " + rules.error().message);
  }
  lock.unlock();
  recover();
  lock.lock();
  started_ = true;
  stopping_ = false;
  if (options_.runTimers) {
    timer_ = std::thread([this] { timerLoop(); });
  }
}

void CommunicationServer::stop() {
  {
    Lock lock(mutex_);
    if (!started_) {
      return;
    }
    started_ = false;
    stopping_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable()) {
    timer_.join();
  }
  store_.flush();
}

// Agents come back as the store knows them, with the configuration's profiles applied on top;
// an agent that was logged in returns not ready (reason "recovered") until it says otherwise.
// Unfinished items return to their queue; an accepted item returns to its agent.
void CommunicationServer::recover() {
  std::map<std::string, StoredAgent> stored;
  for (StoredAgent& agent : store_.agents()) {
    stored[agent.agent.id] = std::move(agent);
  }
  Writes writes;
  Lock lock(mutex_);
  Timestamp now = clock_();
  std::map<std::string, const routing::AgentSpec*> configured;
  for (const routing::AgentSpec& spec : options_.agents) {
    configured[spec.id] = &spec;
    StoredAgent& entry = stored[spec.id];
    bool loggedIn = entry.loggedIn;
    entry.agent = profileOf(spec);
    entry.loggedIn = loggedIn;
    entry.updated = now;
    writes.push_back(store_.saveAgent(entry));
  }
  for (const auto& [id, entry] : stored) {
    Agent profile = entry.agent;
    profile.state.reset();
    profile.stateReason.reset();
    profiles_[id] = profile;
    auto spec = configured.find(id);
    engine_.upsertAgent(
        spec != configured.end() ? *spec->second : routing::agentFromMessage(profile), now);
    if (entry.loggedIn) {
      apply(engine_.setAgentState(id, AgentState::NotReady, "recovered", now).value(), "server");
    }
  }
  std::vector<StoredWorkItem> open = store_.openWorkItems();
  lock.unlock();
  for (const StoredWorkItem& stored_item : open) {
    // Kept without routing or joined to the open item it answers, but the server stopped before
    // it could say so: say so now. (Items are recovered oldest first, so the one it answers is
    // back in the engine already.)
    std::optional<ThreadTarget> target;
    if (stored_item.item.state.value_or(WorkItemState::New) == WorkItemState::New) {
      target = threadTargetOf(stored_item.item);
    }
    if (keepUnrouted(stored_item.item, {*stored_item.item.id, false}, stored_item.source, target,
                     now)) {
      continue;
    }
    auto spec = routing::itemFromMessage(stored_item.item);
    if (!spec.ok()) {
      std::cerr << "recovery: work item " << stored_item.item.id.value_or("?")
                << " cannot be routed: " << spec.error().message << '\n';
      continue;
    }
    spec->arrival = stored_item.item.created;
    lock.lock();
    itemSources_[*stored_item.item.id] = stored_item.source;
    rememberThreadKeys(stored_item.item, *stored_item.item.id);
    queueWaits_.noteSince(*stored_item.item.id, stored_item.item.created.value_or(now));
    if (stored_item.item.state == WorkItemState::Accepted && stored_item.item.agentId) {
      auto restored = engine_.restore(*spec, *stored_item.item.agentId, now);
      if (!restored.ok()) {
        std::cerr << "recovery: work item " << *stored_item.item.id << " of agent "
                  << *stored_item.item.agentId << ": " << restored.error().message << '\n';
      }
    } else {
      auto submitted = engine_.submit(*spec, now);
      if (submitted.ok()) {
        auto more = apply(*submitted, "server");
        writes.insert(writes.end(), more.begin(), more.end());
      }
    }
    lock.unlock();
  }
  for (auto& write : writes) {
    write.get();
  }
}

CommunicationServer::Writes CommunicationServer::apply(routing::Actions actions,
                                                       const std::string& actor,
                                                       const WorkItem* arrived, HeldBack* held) {
  std::vector<ChangeRecord> changes;
  std::vector<std::pair<std::string, AgentState>> agentChanges;
  std::vector<Message> outbound;
  for (const routing::Action& action : actions) {
    if (const auto* changed = std::get_if<routing::ItemChanged>(&action)) {
      // The store records the arrival itself; the engine's "submitted" step (new to new) would
      // only repeat it, at the cost of a write per arrival.
      if (changed->state == changed->previous && changed->cause == "submitted") {
        continue;
      }
      WorkItemChange change;
      change.workItemId = std::string(changed->itemId);
      change.state = changed->state;
      if (!changed->queueId.empty()) {
        change.queueId = std::string(changed->queueId);
      }
      if (!changed->agentId.empty()) {
        change.agentId = std::string(changed->agentId);
      }
      change.entry.time = changed->time;
      change.entry.state = changed->state;
      change.entry.cause = std::string(changed->cause);
      change.entry.actorId = changed->agentId.empty() ? actor : std::string(changed->agentId);
      changes.push_back({std::move(change), std::nullopt});
    } else if (const auto* offer = std::get_if<routing::OfferMade>(&action)) {
      for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
        if (it->change.workItemId == offer->itemId) {
          it->change.offerExpires = offer->expires;
          if (offer->trace != nullptr) {
            it->trace = routing::formatTrace(*offer->trace);
          }
          break;
        }
      }
      Message message = outgoing(PartyType::Agent, std::string(offer->agentId));
      message.payload = Command{routing::offerCommand(*offer)};
      outbound.push_back(std::move(message));
    } else if (const auto* agentChange = std::get_if<routing::AgentChanged>(&action)) {
      agentChanges.emplace_back(std::string(agentChange->agentId), agentChange->state);
      Message message = outgoing(PartyType::Crm, "crm");
      message.payload = Notification{routing::agentNotification(*agentChange)};
      outbound.push_back(std::move(message));
    }
  }

  // The engine's actions are copied: it may be asked again. What classification rules added to
  // a new item (topic, language ...) travels with its first step, so that agents and the CRM
  // see why it went where it went.
  if (arrived != nullptr && !changes.empty()) {
    if (std::optional<routing::ItemView> view = engine_.item(*arrived->id)) {
      WorkItem classified = *arrived;
      routing::applyToMessage(*view, classified);
      std::string added;
      for (const Attribute& attribute : classified.attributes) {
        if (std::find(arrived->attributes.begin(), arrived->attributes.end(), attribute) ==
            arrived->attributes.end()) {
          added += (added.empty() ? "" : ", ") + attribute.name + "=" + attribute.value;
        }
      }
      if (!added.empty()) {
        for (ChangeRecord& record : changes) {
          if (record.change.workItemId == *arrived->id) {
            classified.history.clear();
            record.change.record = std::move(classified);
            record.change.entry.cause = (record.change.entry.cause + ": " + added).substr(0, 512);
            break;
          }
        }
      }
    }
  }

  Writes writes;
  Timestamp now = clock_();
  for (ChangeRecord& record : changes) {
    const WorkItemChange& change = record.change;
    if (record.trace) {
      traces_[change.workItemId] = std::move(*record.trace);
    }
    if (change.state == WorkItemState::Queued && change.queueId) {
      queueWaits_.enter(change.workItemId, *change.queueId, change.entry.time);
    } else {
      queueWaits_.leave(change.workItemId);
    }
    if (change.queueId &&
        (change.state == WorkItemState::Accepted || change.state == WorkItemState::Abandoned)) {
      QueueCounters& counters = counters_[*change.queueId];
      if (counters.day != dayOf(now)) {
        counters = QueueCounters{dayOf(now)};
      }
      if (change.state == WorkItemState::Abandoned) {
        ++counters.abandoned;
      } else {
        ++counters.answered;
        auto since = queueWaits_.since(change.workItemId);
        if (!since || change.entry.time - *since <= options_.serviceLevelThreshold) {
          ++counters.answeredInTime;
        }
      }
    }
    if (change.state == WorkItemState::Completed || change.state == WorkItemState::Abandoned) {
      EndedWorkItem ended;
      ended.workItemId = change.workItemId;
      ended.state = change.state;
      ended.time = change.entry.time;
      ended.agentId = change.agentId;
      ended.queueId = change.queueId;
      ended.cause = change.entry.cause;
      if (auto notes = endNotes_.find(change.workItemId); notes != endNotes_.end()) {
        ended.disposition = notes->second.first;
        ended.notes = notes->second.second;
        endNotes_.erase(notes);
      }
      for (WorkItemEndObserver* observer : endObservers_) {
        observer->workItemEnded(ended);
      }
    }
    if (change.state == WorkItemState::Completed || change.state == WorkItemState::Abandoned ||
        change.state == WorkItemState::Failed) {
      count(std::string(toString(change.state)));
      queueWaits_.forget(change.workItemId);
      itemSources_.erase(change.workItemId);
    }
    if (held != nullptr && arrived != nullptr && change.workItemId == *arrived->id) {
      held->steps.push_back(std::move(record.change));
    } else {
      writes.push_back(store_.recordChange(change));
    }
  }
  for (const auto& [agentId, state] : agentChanges) {
    StoredAgent stored;
    stored.agent = agentLocked(agentId);
    stored.loggedIn = state != AgentState::LoggedOut;
    stored.updated = now;
    stored.stateChanged = true;
    writes.push_back(store_.saveAgent(stored));
  }
  if (held != nullptr) {
    held->outbound = std::move(outbound);
    return writes;
  }
  for (const Message& message : outbound) {
    publish(message);
  }
  return writes;
}

Agent CommunicationServer::agentLocked(const std::string& id) const {
  Agent agent;
  if (auto profile = profiles_.find(id); profile != profiles_.end()) {
    agent = profile->second;
  }
  agent.id = id;
  if (auto view = engine_.agent(id)) {
    Agent live = routing::agentToMessage(*view);
    agent.state = live.state;
    agent.stateReason = live.stateReason;
    agent.stateSince = live.stateSince;
    agent.lastContact = live.lastContact;
    agent.contactsToday = live.contactsToday;
    for (Capacity& capacity : agent.capacity) {
      for (const Capacity& held : live.capacity) {
        if (held.medium == capacity.medium) {
          capacity.active = held.active;
        }
      }
    }
  }
  return agent;
}

Message CommunicationServer::outgoing(PartyType type, const std::string& id) {
  Message message;
  message.id = options_.serverId + "." + std::to_string(++messageSequence_);
  message.time = clock_();
  message.sender = {PartyType::Server, options_.serverId};
  message.addressee = {type, id};
  return message;
}

void CommunicationServer::publish(const Message& message) {
  for (const MessageListener& listener : listeners_) {
    listener(message);
  }
}

void CommunicationServer::addListener(MessageListener listener) {
  Lock lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void CommunicationServer::setEnricher(WorkItemEnricher* enricher) {
  Lock lock(mutex_);
  enricher_ = enricher;
}

void CommunicationServer::addEndObserver(WorkItemEndObserver& observer) {
  Lock lock(mutex_);
  endObservers_.push_back(&observer);
}

void CommunicationServer::attachDriver(const std::string& name, ChannelDriver& driver) {
  Lock lock(mutex_);
  drivers_[name] = &driver;
}

void CommunicationServer::detachDriver(const std::string& name) {
  Lock lock(mutex_);
  drivers_.erase(name);
}

void CommunicationServer::registerMetrics(MetricsRegistry& metrics) {
  instruments_.outcomes =
      &metrics.counterFamily("switchboard_work_items_total",
                             "Work items by outcome: arrived, duplicate, completed, "
                             "abandoned, failed.",
                             {"outcome"});
  instruments_.deadLetters = &metrics.counterFamily(
      "switchboard_dead_letters_total",
      "Documents and contacts that could not be processed, kept as dead letters, by source.",
      {"source"});
  instruments_.decisions = &metrics.histogram(
      "switchboard_routing_call_seconds",
      "Time of each routing engine call that can decide offers (submit, state, decline, timers).",
      {0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.001, 0.005, 0.025});
  metrics.addCollector("switchboard_live_work_items", "Unfinished work items by state and queue.",
                       MetricType::Gauge, {"state", "queue"}, [this] {
                         std::map<std::pair<std::string, std::string>, double> counts;
                         Lock lock(mutex_);
                         for (const auto& [id, source] : itemSources_) {
                           if (auto item = engine_.item(id)) {
                             counts[{std::string(toString(item->state)), item->queueId}] += 1;
                           }
                         }
                         std::vector<CollectedSample> samples;
                         for (const auto& [key, value] : counts) {
                           samples.push_back({{key.first, key.second}, value});
                         }
                         return samples;
                       });
  auto storeFigure = [this](double (*field)(const StoreStats&)) {
    return [this, field] { return std::vector<CollectedSample>{{{}, field(store_.stats())}}; };
  };
  metrics.addCollector(
      "switchboard_store_transactions_total", "Store transactions committed.", MetricType::Counter,
      {}, storeFigure([](const StoreStats& s) { return static_cast<double>(s.transactions); }));
  metrics.addCollector(
      "switchboard_store_writes_total",
      "Writes committed, over all transactions (group commit batches them).", MetricType::Counter,
      {}, storeFigure([](const StoreStats& s) { return static_cast<double>(s.writes); }));
  metrics.addCollector("switchboard_store_commit_seconds_total",
                       "Time spent committing; divided by transactions, the commit latency.",
                       MetricType::Counter, {}, storeFigure([](const StoreStats& s) {
                         return static_cast<double>(s.commitMicrosTotal) / 1e6;
                       }));
  metrics.addCollector(
      "switchboard_store_failures_total", "Store transactions that failed.", MetricType::Counter,
      {}, storeFigure([](const StoreStats& s) { return static_cast<double>(s.failures); }));
}

void CommunicationServer::count(const std::string& outcome) {
  if (instruments_.outcomes != nullptr) {
    instruments_.outcomes->with({outcome}).inc();
  }
}

void CommunicationServer::countDeadLetter(const std::string& source) {
  if (instruments_.deadLetters != nullptr) {
    instruments_.deadLetters->with({source}).inc();
  }
}

routing::Outcome CommunicationServer::timed(const std::function<routing::Outcome()>& call) {
  if (instruments_.decisions == nullptr) {
    return call();
  }
  auto start = steady_clock::now();
  routing::Outcome outcome = call();
  instruments_.decisions->observe(duration<double>(steady_clock::now() - start).count());
  return outcome;
}

void CommunicationServer::tick() {
  Lock lock(mutex_);
  apply(engine_.advance(clock_()), "server");
}

void CommunicationServer::timerLoop() {
  Lock lock(mutex_);
  while (!stopping_) {
    Timestamp now = clock_();
    std::optional<Timestamp> due = engine_.nextDue();
    if (due && *due <= now) {
      apply(engine_.advance(now), "server");
      continue;
    }
    // Woken early by a change that brings a sooner timer (timerDueSooner()).
    timerWakesAt_ = due;
    if (due) {
      wake_.wait_until(lock, time_point<system_clock, milliseconds>(*due));
    } else {
      wake_.wait_for(lock, seconds(1));
    }
  }
}

bool CommunicationServer::timerDueSooner() const {
  std::optional<Timestamp> due = engine_.nextDue();
  return due && (!timerWakesAt_ || *due < *timerWakesAt_);
}

ServiceResult<ArrivalOutcome> CommunicationServer::arrive(const WorkItem& arrived,
                                                          const std::string& source) {
  Arrival arrival = prepareArrival(arrived, source);
  ArrivalOutcome outcome = store_.commitArrival(arrival.record);
  return completeArrival(arrival, outcome);
}

CommunicationServer::Arrival CommunicationServer::prepareArrival(const WorkItem& arrived,
                                                                 const std::string& source) {
  Arrival arrival{NewWorkItem{source, arrived, clock_()}, threadTargetOf(arrived)};
  // A reply joins the conversation it answers: its thread is known before the commit.
  if (arrival.target) {
    arrival.record.item.thread = arrival.target->thread;
  }
  return arrival;
}

ServiceResult<ArrivalOutcome> CommunicationServer::completeArrival(Arrival& arrival,
                                                                   const ArrivalOutcome& outcome) {
  const std::string& source = arrival.record.source;
  count(outcome.duplicate ? "duplicate" : "arrived");
  if (outcome.duplicate) {
    return outcome;
  }
  if (auto kept = keepUnrouted(arrival.record.item, outcome, source, arrival.target,
                               arrival.record.receivedAt)) {
    return *kept;
  }
  // The record is not needed any more: the committed item takes its place without a copy.
  WorkItem committed = std::move(arrival.record.item);
  committed.id = outcome.workItemId;
  // The CRM is asked outside the lock: a slow database delays this arrival only. The enricher
  // is set before start() and never changes while items arrive.
  std::optional<std::string> enriched;
  if (enricher_ != nullptr) {
    enriched = enricher_->enrich(committed);
  }
  auto spec = routing::itemFromMessage(committed);
  Lock lock(mutex_);
  if (enriched) {
    // Queued before the routing steps, so that the stored record (and recovery) has what the
    // CRM added.
    WorkItemChange change;
    change.workItemId = outcome.workItemId;
    change.state = WorkItemState::New;
    change.entry = {clock_(), WorkItemState::New, enriched->substr(0, 512), "crm"};
    change.record = committed;
    change.record->created = arrival.record.receivedAt;
    change.record->history.clear();
    store_.recordChange(change);
  }
  auto routed = spec.ok() ? timed([&] { return engine_.submit(*spec, arrival.record.receivedAt); })
                          : routing::Outcome(spec.error());
  if (!routed.ok()) {
    // Committed but not routable (no rule chose a queue, a queue that does not exist): the item
    // is kept, failed, with the reason in its history.
    WorkItemChange failed;
    failed.workItemId = outcome.workItemId;
    failed.state = WorkItemState::Failed;
    failed.entry = {arrival.record.receivedAt, WorkItemState::Failed, routed.error().message,
                    "router"};
    store_.recordChange(failed);
    count("failed");
    return outcome;
  }
  itemSources_[outcome.workItemId] = source;
  rememberThreadKeys(committed, outcome.workItemId);
  apply(*routed, "router", &committed);
  bool wake = timerDueSooner();
  lock.unlock();
  if (wake) {
    wake_.notify_all();
  }
  return outcome;
}

bool CommunicationServer::ready() {
  {
    Lock lock(mutex_);
    if (!started_) {
      return false;
    }
  }
  // Ready means the store answers too: a read that touches it, cheap enough for every probe.
  try {
    store_.response("readiness-probe");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace switchboard
