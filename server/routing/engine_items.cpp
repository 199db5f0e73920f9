#include "engine_impl.h"

#include <algorithm>

namespace switchboard::routing {

namespace {

constexpr int kMaxMoves = 8;
constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t dayOf(std::int64_t ms) {
  return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
}

} // namespace

void RoutingEngine::Impl::beginCall(std::int64_t now) {
  actions.clear();
  tracesUsed = 0;
  for (const ItemIndex index : retired) {
    // Reset the slot in place, keeping its strings' and vectors' capacity for the next item.
    // Only the fields in the record's first lines, which the item's completion has just read:
    // createItem() sets the others when it reuses the slot and writes those lines anyway
    // (resetting them here read three cold lines of every item a second time).
    ItemRecord& item = items[index];
    ++item.epoch;
    item.history.clear();
    item.state = WorkItemState::New;
    item.queue = kNone;
    item.stage = 0;
    item.waiting = false;
    item.agent = kNone;
    item.attempt = 0;
    item.sticky = kNone;
    item.offerTimer = {};
    item.stickyForced = false;
    freeItems.push_back(index);
  }
  retired.clear();
  const std::int64_t day = dayOf(now);
  if (day > currentDay) {
    const bool rollover = currentDay >= 0;
    currentDay = day;
    if (rollover) {
      for (AgentIndex a = 0; a < agents.size(); ++a) {
        if (agents[a].contactsToday != 0) {
          agents[a].contactsToday = 0;
          unindexAgent(a); // keys must only grow while an agent stays filed
          refreshAgent(a, now);
        }
      }
    }
  }
}

ItemIndex RoutingEngine::Impl::findItem(std::string_view id) const {
  return itemById.find(id, [this](ItemIndex i) -> std::string_view { return items[i].id; });
}

AgentIndex RoutingEngine::Impl::findAgent(std::string_view id) const {
  return agentById.find(id, [this](AgentIndex a) -> std::string_view { return agents[a].id; });
}

AgentIndex RoutingEngine::Impl::lastAgentOf(std::string_view customer) const {
  const std::uint32_t k = customerIndex.find(
      customer, [this](std::uint32_t c) -> std::string_view { return customers[c].id; });
  return k == IdTable::kNotFound ? kNone : customers[k].lastAgent;
}

void RoutingEngine::Impl::rememberAgent(std::string_view customer, std::uint32_t hash,
                                        AgentIndex agent) {
  const std::uint32_t k = customerIndex.find(
      customer, hash, [this](std::uint32_t c) -> std::string_view { return customers[c].id; });
  if (k != IdTable::kNotFound) {
    customers[k].lastAgent = agent;
    return;
  }
  customerIndex.insertHashed(hash, static_cast<std::uint32_t>(customers.size()));
  customers.push_back({std::string(customer), agent});
}

QueueIndex RoutingEngine::Impl::findQueue(std::string_view id) const {
  return queueById.find(id, [this](QueueIndex q) -> std::string_view { return queueNames[q]; });
}

void RoutingEngine::Impl::transition(ItemIndex index, WorkItemState state, std::string_view cause,
                                     std::int64_t now, AgentIndex agent) {
  ItemRecord& item = items[index];
  item.history.push_back({now, state, cause, item.queue, agent});
  ItemChanged changed;
  changed.itemId = item.id;
  changed.state = state;
  changed.previous = item.state;
  changed.cause = cause;
  changed.queueId = item.queue == kNone ? std::string_view{} : queueIds[item.queue];
  changed.agentId = agent == kNone ? std::string_view{} : agentIds[agent];
  changed.time = fromMs(now);
  item.state = state;
  actions.emplace_back(changed);
}

TimerQueue<Timer>::Handle RoutingEngine::Impl::schedule(std::int64_t at, std::int64_t delay,
                                                        TimerKind kind, std::uint32_t target,
                                                        std::uint32_t epoch, std::uint32_t stage) {
  return timers.push(Timer{at, timerSequence++, kind, target, epoch, stage}, delay);
}

void RoutingEngine::Impl::classify(ItemRecord& item, QueueIndex& queue, std::string_view body) {
  const EvalContext context{nullptr, &item, item.arrival, &symbols, &stateValues, body};
  for (const auto& rule : rules) {
    if (!rule.when.matches(context)) {
      continue;
    }
    for (const auto& slot : rule.set) {
      auto it = std::find_if(item.attributes.begin(), item.attributes.end(),
                             [&](const AttributeSlot& s) { return s.name == slot.name; });
      if (it != item.attributes.end()) {
        it->value = slot.value;
      } else {
        item.attributes.push_back(slot);
      }
    }
    if (rule.queue != kNone) {
      if (queue == kNone) {
        queue = rule.queue;
      }
      return;
    }
  }
}

void RoutingEngine::Impl::fileWaiting(ItemIndex index, std::int64_t) {
  ItemRecord& item = items[index];
  QueueRecord& queue = *queues[item.queue];
  // Ageing credit grows with the wait, so it is fixed per item as a credit for arriving early:
  // the order inside the queue never changes with time.
  item.waitKey = WaitKey{item.priority - queue.ageingPerMs * static_cast<double>(item.arrival),
                         item.arrival, item.sequence, index};
  queue.stages[item.stage]->waiting.insert(item.waitKey);
  ++queue.waitingCount;
  item.waiting = true;
}

void RoutingEngine::Impl::unfileWaiting(ItemRecord& item) {
  if (!item.waiting) {
    return;
  }
  QueueRecord& queue = *queues[item.queue];
  queue.stages[item.stage]->waiting.erase(item.waitKey);
  --queue.waitingCount;
  item.waiting = false;
}

void RoutingEngine::Impl::clearSticky(ItemIndex index) {
  ItemRecord& item = items[index];
  if (item.sticky == kNone) {
    return;
  }
  stopHolding(agents[item.sticky], index);
  item.sticky = kNone;
  item.stickyForced = false;
}

void RoutingEngine::Impl::enqueue(ItemIndex index, QueueIndex queueIndex, std::int64_t now,
                                  std::string_view cause, bool freshWait) {
  ItemRecord& item = items[index];
  unfileWaiting(item);
  item.queue = queueIndex;
  if (freshWait) {
    item.queuedAt = now;
  }
  const QueueRecord& queue = *queues[queueIndex];
  const std::uint32_t stage = queue.stageFor(now - item.queuedAt);
  if (queue.stages[stage]->moveTo != kNone) {
    if (++item.moves > kMaxMoves) {
      clearSticky(index);
      transition(index, WorkItemState::Failed, "moveLoop", now);
      retire(index);
      return;
    }
    enqueue(index, queue.stages[stage]->moveTo, now, "escalated", true);
    return;
  }
  ++item.epoch;
  item.stage = stage;
  transition(index, WorkItemState::Queued, cause, now);
  if (queue.maxWait > 0 && now - item.queuedAt >= queue.maxWait) {
    fileWaiting(index, now);
    applyMaxWait(index, now);
    return;
  }
  // Most items are offered at once: file them as waiting, with their timers, only when not.
  // (Routing reads neither, and a failed attempt schedules nothing, so the timers keep their
  // order.)
  if (routeItem(index, now)) {
    return;
  }
  fileWaiting(index, now);
  if (stage + 1 < queue.stages.size()) {
    schedule(item.queuedAt + queue.stages[stage + 1]->startsAfter,
             queue.stages[stage + 1]->startsAfter, TimerKind::Escalate, index, item.epoch,
             stage + 1);
  }
  if (queue.maxWait > 0) {
    schedule(item.queuedAt + queue.maxWait, queue.maxWait, TimerKind::MaxWait, index, item.epoch);
  }
  if (item.sticky != kNone && item.stickyUntil > now) {
    schedule(item.stickyUntil, TimerQueue<Timer>::kNoDelay, TimerKind::StickyEnd, index,
             item.epoch);
  }
}

bool RoutingEngine::Impl::routeItem(ItemIndex index, std::int64_t now) {
  ItemRecord& item = items[index];
  ++decisionCount;
  ++item.attempt;
  Trace* trace = newTrace(item, now);
  const Choice choice = chooseAgent(item, now, trace);
  if (choice.dropSticky) {
    clearSticky(index);
  }
  if (choice.winner == kNone) {
    if (trace != nullptr) {
      --tracesUsed; // no action carries it
    }
    return false;
  }
  if (trace != nullptr) {
    trace->outcome = choice.outcome;
    if (options.trace == TraceLevel::Full) {
      fillFullTrace(item, now, *trace);
    }
  }
  offer(index, choice.winner, now, trace);
  return true;
}

void RoutingEngine::Impl::offer(ItemIndex index, AgentIndex agentIndex, std::int64_t now,
                                Trace* trace) {
  prefetchAgent(agentIndex); // its capacity mixes are read only at the refiling at the end
  ItemRecord& item = items[index];
  AgentRecord& agent = agents[agentIndex];
  QueueRecord& queue = *queues[item.queue];
  unfileWaiting(item);
  if (item.sticky == agentIndex) {
    clearSticky(index);
  }
  ++item.epoch;
  item.agent = agentIndex;
  ++agent.held[item.medium];
  ++agent.offersPending;
  agent.offered.push_back(index);
  if (std::find(queue.ordering.begin(), queue.ordering.end(), OrderKey::RoundRobin) !=
      queue.ordering.end()) {
    if (queue.roundRobinTurn.size() <= agentIndex) {
      queue.roundRobinTurn.resize(agents.size(), 0);
    }
    queue.roundRobinTurn[agentIndex] = ++queue.roundRobinCounter;
    ++agent.turns;
  }
  if (trace != nullptr) {
    trace->winner = agent.idView;
  }
  transition(index, WorkItemState::Offered, "offered", now, agentIndex);
  const std::int64_t expires = now + queue.offerTimeout;
  item.offerTimer =
      schedule(expires, queue.offerTimeout, TimerKind::OfferExpiry, index, item.epoch);
  actions.emplace_back(
      OfferMade{item.id, agent.idView, queueIds[item.queue], fromMs(now), fromMs(expires), trace});
  ++offerCount;
  refreshAgent(agentIndex, now);
}

void RoutingEngine::Impl::applyMaxWait(ItemIndex index, std::int64_t now) {
  ItemRecord& item = items[index];
  const QueueRecord& queue = *queues[item.queue];
  unfileWaiting(item);
  clearSticky(index);
  ++item.epoch;
  switch (queue.maxWaitOutcome) {
  case MaxWaitOutcome::Abandon:
    transition(index, WorkItemState::Abandoned, "maxWait", now);
    retire(index);
    return;
  case MaxWaitOutcome::Fail:
    transition(index, WorkItemState::Failed, "maxWait", now);
    retire(index);
    return;
  case MaxWaitOutcome::MoveQueue:
    if (++item.moves > kMaxMoves) {
      transition(index, WorkItemState::Failed, "moveLoop", now);
      retire(index);
      return;
    }
    enqueue(index, queue.maxWaitQueue, now, "maxWait", true);
    return;
  }
}

void RoutingEngine::Impl::retire(ItemIndex index) {
  ItemRecord& item = items[index];
  unfileWaiting(item);
  clearSticky(index);
  item.live = false;
  ++item.epoch;
  itemById.erase(item.id, item.idHash,
                 [this](ItemIndex i) -> std::string_view { return items[i].id; });
  retired.push_back(index);
}

void RoutingEngine::Impl::fire(const Timer& timer) {
  if (timer.kind == TimerKind::Cancelled) {
    return;
  }
  const std::int64_t at = timer.at;
  if (timer.kind == TimerKind::WrapUpEnd) {
    AgentRecord& agent = agents[timer.target];
    if (!agent.wrapping || agent.wrapEpoch != timer.epoch) {
      return;
    }
    agent.wrapping = false;
    agent.idleSince = at;
    refreshAgent(timer.target, at);
    backfill(timer.target, at);
    return;
  }
  ItemRecord& item = items[timer.target];
  if (!item.live || item.epoch != timer.epoch) {
    return;
  }
  switch (timer.kind) {
  case TimerKind::OfferExpiry: {
    if (item.state != WorkItemState::Offered) {
      return;
    }
    const AgentIndex agentIndex = item.agent;
    AgentRecord& agent = agents[agentIndex];
    releaseOffer(timer.target);
    item.excluded.push_back(agentIndex);
    ++agent.missedInRow;
    refreshAgent(agentIndex, at);
    enqueue(timer.target, item.queue, at, "offerTimeout", false);
    if (options.missedOffersLimit > 0 && agent.missedInRow >= options.missedOffersLimit &&
        agent.presence == Presence::Ready) {
      setPresence(agentIndex, Presence::NotReady, symbols.intern("missed offers"), at);
    } else {
      backfill(agentIndex, at);
    }
    return;
  }
  case TimerKind::Escalate: {
    if (!item.waiting || item.stage + 1 != timer.stage) {
      return;
    }
    const QueueRecord& queue = *queues[item.queue];
    const Stage& next = *queue.stages[timer.stage];
    if (next.moveTo != kNone) {
      if (++item.moves > kMaxMoves) {
        transition(timer.target, WorkItemState::Failed, "moveLoop", at);
        retire(timer.target);
        return;
      }
      enqueue(timer.target, next.moveTo, at, "escalated", true);
      return;
    }
    unfileWaiting(item);
    item.stage = timer.stage;
    fileWaiting(timer.target, at);
    transition(timer.target, WorkItemState::Queued, "escalated", at);
    if (timer.stage + 1 < queue.stages.size()) {
      schedule(item.queuedAt + queue.stages[timer.stage + 1]->startsAfter,
               queue.stages[timer.stage + 1]->startsAfter, TimerKind::Escalate, timer.target,
               item.epoch, timer.stage + 1);
    }
    routeItem(timer.target, at);
    return;
  }
  case TimerKind::MaxWait:
    if (item.waiting) {
      applyMaxWait(timer.target, at);
    }
    return;
  case TimerKind::StickyEnd:
    if (item.waiting && item.sticky != kNone) {
      clearSticky(timer.target);
      routeItem(timer.target, at);
    }
    return;
  case TimerKind::WrapUpEnd:
  case TimerKind::Cancelled:
    return;
  }
}

} // namespace switchboard::routing
