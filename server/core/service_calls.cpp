#include "switchboard/communication_server.h"

#include "switchboard/routing/message_conversion.h"

#include <memory>

namespace switchboard {
namespace {

ServiceError routingError(const routing::RoutingError& error) {
  switch (error.code) {
  case routing::RoutingErrorCode::UnknownAgent:
    return {ServiceErrorCode::NotFound, "unknown agent", error.message};
  case routing::RoutingErrorCode::UnknownItem:
    return {ServiceErrorCode::NotFound, "unknown work item", error.message};
  case routing::RoutingErrorCode::UnknownQueue:
    return {ServiceErrorCode::NotFound, "unknown queue", error.message};
  case routing::RoutingErrorCode::DuplicateItem:
    return {ServiceErrorCode::Conflict, "duplicate work item", error.message};
  case routing::RoutingErrorCode::WrongState:
    return {ServiceErrorCode::Conflict, "not allowed in this state", error.message};
  case routing::RoutingErrorCode::BadConfig:
    break;
  }
  return {ServiceErrorCode::BadRequest, "bad routing request", error.message};
}

ServiceError unavailable(const std::exception& e) {
  return {ServiceErrorCode::Unavailable, "store unavailable", e.what()};
}

ServiceError unknownItem(const std::string& id) {
  return {ServiceErrorCode::NotFound, "unknown work item", "no work item " + id};
}

// Waits until every write is durable; the store's failure, if one failed.
std::optional<ServiceError> durable(std::vector<std::shared_future<void>>& writes) {
  try {
    for (auto& write : writes) {
      write.get();
    }
  } catch (const std::exception& e) {
    return unavailable(e);
  }
  return std::nullopt;
}

} // namespace

// ---------------------------------------------------------------------------------------- agents

std::vector<Agent> CommunicationServer::agents() {
  Lock lock(mutex_);
  std::vector<Agent> result;
  for (const auto& [id, profile] : profiles_) {
    result.push_back(agentLocked(id));
  }
  return result;
}

ServiceResult<Agent> CommunicationServer::agent(const std::string& id) {
  Lock lock(mutex_);
  if (!profiles_.contains(id)) {
    return ServiceError{ServiceErrorCode::NotFound, "unknown agent", "no agent " + id};
  }
  return agentLocked(id);
}

ServiceResult<Agent> CommunicationServer::upsertAgent(const Agent& profile) {
  if (profile.id.empty()) {
    return ServiceError{ServiceErrorCode::BadRequest, "agent without id", "an agent needs an id"};
  }
  for (const Skill& skill : profile.skills) {
    if (skill.level < 0 || skill.level > 10) {
      return ServiceError{ServiceErrorCode::BadRequest, "skill level out of range",
                          "skill " + skill.name + " has level " + std::to_string(skill.level) +
                              "; levels are 0 to 10"};
    }
  }
  Lock lock(mutex_);
  Agent stored = profile;
  stored.state.reset();
  stored.stateReason.reset();
  stored.stateSince.reset();
  auto upserted = engine_.upsertAgent(routing::agentFromMessage(stored), clock_());
  if (!upserted.ok()) {
    return routingError(upserted.error());
  }
  profiles_[profile.id] = stored;
  Writes writes = apply(*upserted, profile.id);
  StoredAgent record{agentLocked(profile.id), false, clock_()};
  if (auto view = engine_.agent(profile.id)) {
    record.loggedIn = view->state != AgentState::LoggedOut;
  }
  writes.push_back(store_.saveAgent(record));
  Agent result = record.agent;
  lock.unlock();
  if (auto failed = durable(writes)) {
    return *failed;
  }
  return result;
}

ServiceResult<Agent> CommunicationServer::setAgentState(const std::string& id, AgentState state,
                                                        const std::optional<std::string>& reason) {
  if (state != AgentState::LoggedOut && state != AgentState::NotReady &&
      state != AgentState::Ready) {
    return ServiceError{ServiceErrorCode::BadRequest, "state set by the server",
                        std::string(toString(state)) +
                            " is set by the server; agents choose loggedOut, notReady or ready"};
  }
  Lock lock(mutex_);
  if (!profiles_.contains(id)) {
    return ServiceError{ServiceErrorCode::NotFound, "unknown agent", "no agent " + id};
  }
  std::string why = reason.value_or(state == AgentState::NotReady ? "login" : "");
  auto changed = timed([&] { return engine_.setAgentState(id, state, why, clock_()); });
  if (!changed.ok()) {
    return routingError(changed.error());
  }
  Writes writes = apply(*changed, id);
  Agent result = agentLocked(id);
  bool wake = timerDueSooner();
  lock.unlock();
  if (wake) {
    wake_.notify_all();
  }
  if (auto failed = durable(writes)) {
    return *failed;
  }
  return result;
}

// ------------------------------------------------------------------------------------ work items

ServiceResult<std::vector<StoredWorkItem>>
CommunicationServer::workItems(const WorkItemFilter& filter) {
  try {
    return store_.workItems(filter);
  } catch (const std::exception& e) {
    return unavailable(e);
  }
}

ServiceResult<WorkItemDetails> CommunicationServer::workItem(const std::string& id,
                                                             Freshness freshness) {
  std::optional<StoredWorkItem> stored;
  try {
    stored = store_.workItem(id, true);
  } catch (const std::exception& e) {
    return unavailable(e);
  }
  if (!stored) {
    return unknownItem(id);
  }
  // Routing changes are written behind the decisions, and an agent may be pushed an offer before
  // its write commits. A read must not see an older state than the one already pushed: when the
  // live state is ahead of the stored one, wait for the writes queued so far and read again.
  bool behind = false;
  if (freshness == Freshness::Pushed) {
    Lock lock(mutex_);
    if (auto live = engine_.itemState(id)) {
      behind = *live != stored->item.state.value_or(WorkItemState::New);
    }
  }
  if (behind) {
    try {
      store_.flush();
      stored = store_.workItem(id, true);
    } catch (const std::exception& e) {
      return unavailable(e);
    }
    if (!stored) {
      return unknownItem(id);
    }
  }
  WorkItemDetails details{std::move(*stored), std::nullopt};
  Lock lock(mutex_);
  if (auto trace = traces_.find(id); trace != traces_.end()) {
    details.trace = trace->second;
  }
  return details;
}

ServiceResult<ArrivalOutcome> CommunicationServer::createWorkItem(const WorkItem& item,
                                                                  const std::string& source) {
  try {
    return arrive(item, source);
  } catch (const std::exception& e) {
    return unavailable(e);
  }
}

void CommunicationServer::createWorkItemAsync(
    const WorkItem& item, const std::string& source, const Post& post,
    std::function<void(ServiceResult<ArrivalOutcome>)> done) {
  std::shared_ptr<Arrival> arrival;
  std::optional<std::string> reserved;
  try {
    arrival = std::make_shared<Arrival>(prepareArrival(item, source));
    if (routableBeforeCommit(*arrival)) {
      reserved = store_.reserveWorkItemId();
    }
  } catch (const std::exception& e) {
    done(unavailable(e));
    return;
  }
  if (reserved) {
    arriveRouted(arrival, *reserved, post, std::move(done));
    return;
  }
  // The committer thread only hands the outcome on; routing it (and asking the CRM) runs on
  // the caller's threads.
  store_.commitArrivalAsync(arrival->record,
                            [this, arrival, post, done = std::move(done)](
                                std::optional<ArrivalOutcome> outcome, const std::string& failure) {
                              post([this, arrival, outcome = std::move(outcome), failure, done]() {
                                if (!outcome) {
                                  done(unavailable(StoreError(failure)));
                                  return;
                                }
                                try {
                                  done(completeArrival(*arrival, *outcome));
                                } catch (const std::exception& e) {
                                  done(unavailable(e));
                                }
                              });
                            });
}

// The arrival and its first routing steps are one row and one write, where routing after the
// commit cost a second write (an update and its history). The engine knows the item before the
// store does; what the routing sends (an offer) waits for the commit, like the answer. A
// change another caller makes to the item meanwhile queues behind the arrival's write, which
// is queued under the lock.
void CommunicationServer::arriveRouted(const std::shared_ptr<Arrival>& arrival,
                                       const std::string& id, const Post& post,
                                       std::function<void(ServiceResult<ArrivalOutcome>)> done) {
  auto held = std::make_shared<HeldBack>();
  try {
    NewWorkItem& record = arrival->record;
    WorkItem& item = record.item;
    item.id = id;
    record.reservedId = id;
    if (enricher_ != nullptr) {
      if (std::optional<std::string> enriched = enricher_->enrich(item)) {
        record.steps.push_back({clock_(), WorkItemState::New, enriched->substr(0, 512), "crm"});
      }
    }
    auto spec = routing::itemFromMessage(item);
    Lock lock(mutex_);
    auto routed = spec.ok() ? timed([&] { return engine_.submit(*spec, record.receivedAt); })
                            : routing::Outcome(spec.error());
    if (!routed.ok()) {
      // Kept, failed, with the reason in its history, as an item committed first would be.
      item.state = WorkItemState::Failed;
      record.steps.push_back(
          {record.receivedAt, WorkItemState::Failed, routed.error().message, "router"});
      count("failed");
    } else {
      itemSources_[id] = record.source;
      rememberThreadKeys(item, id);
      apply(*routed, "router", &item, held.get());
      for (WorkItemChange& step : held->steps) {
        if (step.record) {
          std::optional<std::string> queueId = item.queueId;
          std::optional<std::string> agentId = item.agentId;
          item = std::move(*step.record); // what classification added
          item.id = id;
          item.queueId = queueId;
          item.agentId = agentId;
        }
        item.state = step.state;
        if (step.queueId) {
          item.queueId = *step.queueId;
        }
        if (step.agentId) {
          item.agentId = *step.agentId;
        }
        record.offerExpires =
            step.state == WorkItemState::Offered ? step.offerExpires : std::nullopt;
        step.entry.state = step.state;
        record.steps.push_back(std::move(step.entry));
      }
      held->steps.clear();
    }
    bool wake = timerDueSooner();
    try {
      store_.commitArrivalAsync(
          record, [this, arrival, held, post, done](std::optional<ArrivalOutcome> outcome,
                                                    const std::string& failure) {
            post([this, arrival, held, outcome = std::move(outcome), failure, done]() {
              committedRouted(*arrival, *held, outcome, failure, done);
            });
          });
    } catch (const std::exception& e) {
      lock.unlock();
      committedRouted(*arrival, *held, std::nullopt, e.what(), done);
      return;
    }
    lock.unlock();
    if (wake) {
      wake_.notify_all();
    }
  } catch (const std::exception& e) {
    done(unavailable(e));
  }
}

void CommunicationServer::committedRouted(
    const Arrival& arrival, const HeldBack& held, const std::optional<ArrivalOutcome>& outcome,
    const std::string& failure, const std::function<void(ServiceResult<ArrivalOutcome>)>& done) {
  if (!outcome) {
    try {
      // The engine knows an item the store refused: it leaves the engine, and what it held (an
      // agent's reservation) goes to others. Its offer was never sent.
      Lock lock(mutex_);
      auto ended = engine_.abandon(*arrival.record.reservedId, "not stored: " + failure, clock_());
      if (ended.ok()) {
        apply(*ended, "server");
      }
    } catch (const std::exception&) {
      // The caller hears of the failure below; the engine's books are the lesser worry.
    }
    done(unavailable(StoreError(failure)));
    return;
  }
  {
    Lock lock(mutex_);
    count("arrived");
    for (const Message& message : held.outbound) {
      publish(message);
    }
  }
  done(*outcome);
}

// Waits for `writes` and answers with the item as stored.
ServiceResult<StoredWorkItem> CommunicationServer::finish(const std::string& workItemId,
                                                          Writes writes) {
  if (auto failed = durable(writes)) {
    return *failed;
  }
  try {
    std::optional<StoredWorkItem> stored = store_.workItem(workItemId, false);
    if (!stored) {
      return unknownItem(workItemId);
    }
    return std::move(*stored);
  } catch (const std::exception& e) {
    return unavailable(e);
  }
}

ServiceResult<StoredWorkItem>
CommunicationServer::route(const std::string& workItemId, const std::string& actor,
                           const std::function<routing::Outcome()>& call) {
  Lock lock(mutex_);
  routing::Outcome outcome = timed(call);
  if (!outcome.ok()) {
    return routingError(outcome.error());
  }
  Writes writes = apply(*outcome, actor);
  bool wake = timerDueSooner();
  lock.unlock();
  if (wake) {
    wake_.notify_all();
  }
  return finish(workItemId, std::move(writes));
}

ServiceResult<StoredWorkItem> CommunicationServer::accept(const std::string& workItemId,
                                                          const std::string& agentId) {
  return route(workItemId, agentId, [&] { return engine_.accept(workItemId, agentId, clock_()); });
}

ServiceResult<StoredWorkItem>
CommunicationServer::decline(const std::string& workItemId, const std::string& agentId,
                             const std::optional<std::string>& reason) {
  return route(workItemId, agentId, [&] {
    return engine_.decline(workItemId, agentId, reason.value_or("declined"), clock_());
  });
}

ServiceResult<StoredWorkItem> CommunicationServer::transfer(const TransferRequest& request) {
  return route(request.workItemId, request.agentId.value_or("api"), [&] {
    return request.targetType == TransferTarget::Queue
               ? engine_.transferToQueue(request.workItemId, request.target, clock_())
               : engine_.transferToAgent(request.workItemId, request.target, clock_());
  });
}

ServiceResult<StoredWorkItem> CommunicationServer::complete(const CompleteRequest& request) {
  if (request.agentId) {
    Lock lock(mutex_);
    auto item = engine_.item(request.workItemId);
    if (item && item->agentId != *request.agentId) {
      return ServiceError{ServiceErrorCode::Conflict, "not the agent's work item",
                          request.workItemId + " is held by " +
                              (item->agentId.empty() ? "nobody" : item->agentId)};
    }
  }
  std::string actor = request.agentId.value_or("api");
  if (request.disposition || request.notes) {
    Lock lock(mutex_);
    endNotes_[request.workItemId] = {request.disposition, request.notes};
  }
  auto result = route(request.workItemId, actor,
                      [&] { return engine_.complete(request.workItemId, clock_()); });
  if (!result.ok()) {
    Lock lock(mutex_);
    endNotes_.erase(request.workItemId);
  }
  if (result.ok() && (request.disposition || request.notes)) {
    WorkItemChange note;
    note.workItemId = request.workItemId;
    note.state = WorkItemState::Completed;
    std::string cause = "disposition " + request.disposition.value_or("none");
    if (request.notes) {
      cause += ": " + *request.notes;
    }
    note.entry = {clock_(), WorkItemState::Completed, cause.substr(0, 512), actor};
    return finish(request.workItemId, {store_.recordChange(note)});
  }
  return result;
}

ServiceResult<StoredWorkItem> CommunicationServer::reply(const SendReply& reply) {
  std::optional<StoredWorkItem> stored;
  try {
    stored = store_.workItem(reply.workItemId, false);
  } catch (const std::exception& e) {
    return unavailable(e);
  }
  if (!stored) {
    return unknownItem(reply.workItemId);
  }
  Lock lock(mutex_);
  auto driver = drivers_.find(stored->source);
  if (driver == drivers_.end()) {
    return ServiceError{ServiceErrorCode::Conflict, "no driver for the reply",
                        "work item " + reply.workItemId + " came from '" + stored->source +
                            "', which has no driver in this server to carry a reply"};
  }
  Message command = outgoing(PartyType::Driver, stored->source);
  command.payload = Command{reply};
  ChannelDriver* target = driver->second;
  lock.unlock();
  // The driver answers once its outbox holds the reply; the lock is not held meanwhile.
  auto answer = codec_.decode(target->deliver(codec_.encode(command)));
  if (!answer.ok() || !std::holds_alternative<Response>(answer->payload)) {
    return ServiceError{ServiceErrorCode::Internal, "unreadable answer from the driver",
                        answer.ok() ? "not a response" : answer.error().toString()};
  }
  const Response& response = std::get<Response>(answer->payload);
  if (response.status == ResponseStatus::Error) {
    return ServiceError{ServiceErrorCode::Conflict, "the driver refused the reply",
                        response.error ? response.error->code + ": " + response.error->text
                                       : "no reason given"};
  }
  WorkItemChange replied;
  replied.workItemId = reply.workItemId;
  replied.state = stored->item.state.value_or(WorkItemState::Accepted);
  replied.entry = {clock_(), replied.state,
                   "reply " + reply.replyId + " handed to " + stored->source,
                   reply.agentId.value_or("api")};
  return finish(reply.workItemId, {store_.recordChange(replied)});
}

// ---------------------------------------------------------------------------------------- queues

std::vector<QueueStatus> CommunicationServer::queues() {
  Lock lock(mutex_);
  Timestamp now = clock_();
  std::vector<QueueStatus> result;
  for (const routing::QueueSpec& spec : options_.queues) {
    QueueStatus status;
    status.id = spec.id;
    QueueWaits::Summary waits = queueWaits_.summary(spec.id);
    status.waiting = waits.waiting;
    if (waits.oldestSince) {
      status.oldestWait =
          std::max(std::chrono::milliseconds{0},
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - *waits.oldestSince));
    }
    if (auto agents = engine_.queueAgents(spec.id)) {
      status.agentsReady = agents->ready;
      status.agentsBusy = agents->busy;
    }
    auto counters = counters_.find(spec.id);
    bool today = counters != counters_.end() &&
                 counters->second.day ==
                     std::chrono::floor<std::chrono::days>(now).time_since_epoch().count();
    if (today) {
      status.answeredToday = counters->second.answered;
      status.abandonedToday = counters->second.abandoned;
      if (counters->second.answered > 0) {
        status.serviceLevel = static_cast<double>(counters->second.answeredInTime) /
                              static_cast<double>(counters->second.answered);
      }
    }
    result.push_back(std::move(status));
  }
  return result;
}

// ------------------------------------------------------------------------------------ operations

std::vector<DeadLetter> CommunicationServer::deadLetters(std::size_t limit) {
  return store_.deadLetters(limit);
}

std::optional<StoredResponse> CommunicationServer::storedResponse(const std::string& key) {
  return store_.response(key);
}

void CommunicationServer::storeResponse(const StoredResponse& response) {
  store_.saveResponse(response);
}

void CommunicationServer::storeResponseAsync(
    const StoredResponse& response, const Post& post,
    std::function<void(const std::optional<std::string>&)> done) {
  // The store calls back on its committer thread, which only hands the result on.
  store_.saveResponseAsync(
      response, [post, done = std::move(done)](const std::optional<std::string>& failure) {
        post([done, failure] { done(failure); });
      });
}

} // namespace switchboard
