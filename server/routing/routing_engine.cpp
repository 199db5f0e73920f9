#include "switchboard/routing/routing_engine.h"

#include "engine_impl.h"
#include "text_match.h"

#include <algorithm>
#include <cstring>

namespace switchboard::routing {

namespace {

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

} // namespace

RoutingEngine::RoutingEngine(EngineOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RoutingEngine::~RoutingEngine() = default;

// ------------------------------------------------------------------------------- configuration

Outcome RoutingEngine::upsertQueue(const QueueSpec& spec, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  auto record = std::make_unique<QueueRecord>();
  if (auto built = d.buildQueue(spec, *record); !built) {
    return built.error();
  }
  QueueIndex q = d.findQueue(spec.id);
  std::vector<WaitKey> waiting;
  if (q != kNone) {
    for (const auto& stage : d.queues[q]->stages) {
      waiting.insert(waiting.end(), stage->waiting.begin(), stage->waiting.end());
    }
    for (const WaitKey& key : waiting) {
      d.items[key.item].waiting = false;
    }
    for (auto& agent : d.agents) {
      Impl::removeMembership(agent, d.queues[q].get());
      Impl::updateMemberMasks(agent);
    }
    record->roundRobinTurn = std::move(d.queues[q]->roundRobinTurn);
    record->roundRobinCounter = d.queues[q]->roundRobinCounter;
    d.queues[q] = std::move(record);
    const auto last = static_cast<std::uint32_t>(d.queues[q]->stages.size() - 1);
    for (auto& item : d.items) {
      if (item.live && item.queue == q) {
        item.stage = std::min(item.stage, last);
      }
    }
  } else {
    q = static_cast<QueueIndex>(d.queues.size());
    d.queues.push_back(std::move(record));
    d.queueById.insert(spec.id, q);
    d.queueNames.push_back(spec.id);
    d.queueIds.push_back(d.symbols.text(d.queues[q]->idSymbol));
  }
  QueueRecord& queue = *d.queues[q];
  queue.roundRobinTurn.resize(d.agents.size(), 0);
  if (d.options.matcher == Matcher::Indexed) {
    for (AgentIndex a = 0; a < d.agents.size(); ++a) {
      AgentRecord& agent = d.agents[a];
      if (auto filed = d.membershipOf(a, q)) {
        if (agent.indexed) {
          Impl::readyOf(filed->membership)
              .append(filed->key, d.agentHot[a].version, filed->membership.stages);
        }
        Impl::addMembership(agent, *filed);
        Impl::updateMemberMasks(agent);
      }
    }
  }
  queue.ready.sortAll();
  queue.lateReady.sortAll();
  std::sort(waiting.begin(), waiting.end());
  for (const WaitKey& key : waiting) {
    if (d.items[key.item].live && !d.items[key.item].waiting) {
      d.enqueue(key.item, q, now, "queueChanged", false);
    }
  }
  for (AgentIndex a = 0; a < d.agents.size(); ++a) {
    if (d.agents[a].routable) {
      d.backfill(a, now);
    }
  }
  return d.done();
}

Result<bool, RoutingError> RoutingEngine::setRules(const std::vector<RuleSpec>& rules) {
  std::vector<CompiledRule> compiled;
  if (auto built = impl_->buildRules(rules, compiled); !built) {
    return built.error();
  }
  impl_->rules = std::move(compiled);
  return true;
}

Outcome RoutingEngine::upsertAgent(const AgentSpec& spec, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  if (spec.id.empty()) {
    return Impl::fail(RoutingErrorCode::BadConfig, "agent id must not be empty");
  }
  AgentIndex a = d.findAgent(spec.id);
  if (a == kNone) {
    a = static_cast<AgentIndex>(d.agents.size());
    d.agents.emplace_back();
    d.agentHot.emplace_back();
    d.agentIds.emplace_back();
    AgentRecord& agent = d.agents.back();
    agent.contactsToday = spec.contactsToday;
    if (spec.lastContact) {
      agent.idleSince = toMs(*spec.lastContact);
      agent.idleKnown = true;
    }
    d.agentById.insert(spec.id, a);
    for (auto& queue : d.queues) {
      queue->roundRobinTurn.resize(d.agents.size(), 0);
    }
  }
  d.unindexAgent(a);
  d.buildAgentProfile(spec, d.agents[a]);
  d.fillValueSets(a);
  d.agentIds[a] = d.symbols.text(d.agents[a].idSymbol);
  d.agents[a].idView = d.agentIds[a];
  d.computeMemberships(a);
  d.refreshAgent(a, now);
  if (d.agents[a].routable) {
    d.backfill(a, now);
  }
  return d.done();
}

// -------------------------------------------------------------------------------------- agents

Outcome RoutingEngine::setAgentState(std::string_view agentId, AgentState state,
                                     std::string_view reason, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  const AgentIndex a = d.findAgent(agentId);
  if (a == kNone) {
    return Impl::fail(RoutingErrorCode::UnknownAgent, "no agent " + quoted(agentId));
  }
  Presence presence = Presence::Ready;
  switch (state) {
  case AgentState::LoggedOut:
    presence = Presence::LoggedOut;
    break;
  case AgentState::NotReady:
    presence = Presence::NotReady;
    break;
  case AgentState::Ready:
    presence = Presence::Ready;
    break;
  default:
    return Impl::fail(RoutingErrorCode::WrongState,
                      "agents set only loggedOut, notReady or ready; " +
                          std::string(toString(state)) + " follows from their work");
  }
  d.setPresence(a, presence, d.symbols.intern(reason), now);
  return d.done();
}

// --------------------------------------------------------------------------------------- items

Result<ItemIndex, RoutingError>
RoutingEngine::Impl::createItem(const ItemSpec& spec, QueueIndex& queue, std::int64_t now) {
  Impl& d = *this;
  if (spec.id.empty()) {
    return RoutingError{RoutingErrorCode::UnknownItem, "an item needs an id"};
  }
  const std::uint32_t idHash = IdTable::hashOf(spec.id);
  if (d.itemById.find(spec.id, idHash,
                      [&d](ItemIndex i) -> std::string_view { return d.items[i].id; }) != kNone) {
    return RoutingError{RoutingErrorCode::DuplicateItem, "item " + quoted(spec.id) + " exists"};
  }
  queue = kNone;
  if (!spec.queue.empty()) {
    queue = d.findQueue(spec.queue);
    if (queue == kNone) {
      return RoutingError{RoutingErrorCode::UnknownQueue, "no queue " + quoted(spec.queue)};
    }
  }
  const Symbol mediumSymbol = d.symbols.intern(spec.medium);
  const std::uint32_t medium = d.media.slotOf(mediumSymbol);
  if (medium >= kMaxMedia) {
    return RoutingError{RoutingErrorCode::BadConfig,
                        "medium " + quoted(spec.medium) + ": more than 8 media"};
  }

  ItemIndex index = kNone;
  if (!d.freeItems.empty()) {
    index = d.freeItems.back();
    d.freeItems.pop_back();
  } else {
    index = static_cast<ItemIndex>(d.items.size());
    d.items.emplace_back();
  }
  ItemRecord& item = d.items[index];
  // The rest of a reused slot's reset (see beginCall()).
  item.attributes.clear();
  item.listStore.clear();
  item.excluded.clear();
  item.topic = kNoSymbol;
  item.queuedAt = 0;
  item.waitKey = WaitKey{};
  item.stickyUntil = 0;
  item.moves = 0;
  item.live = true;
  item.id = spec.id;
  item.idHash = idHash;
  item.medium = static_cast<std::uint8_t>(medium);
  item.priority = spec.priority;
  item.arrival = spec.arrival ? toMs(*spec.arrival) : now;
  item.sequence = d.itemSequence++;
  item.customer = spec.customerId;
  item.history.reserve(4);

  // Texts the values point at live in one block owned by the item, so they survive moves.
  const std::string_view texts[kItemTexts] = {
      cutText(spec.subject, kMaxItemTextBytes), cutText(spec.from, kMaxItemTextBytes),
      cutText(spec.contactPoint, kMaxItemTextBytes), cutText(spec.customerName, kMaxItemTextBytes)};
  std::size_t bytes = 0;
  for (const auto text : texts) {
    bytes += text.size();
  }
  std::size_t elements = 0;
  for (const auto& attribute : spec.attributes) {
    for (const auto& value : attribute.values) {
      bytes += value.size();
    }
    elements += attribute.isList ? attribute.values.size() : 0;
  }
  item.textStore.resize(bytes + 1); // the slot's buffer is reused by later items
  char* cursor = item.textStore.data();
  // Attribute values are looked up among the interned names, which agents' values are.
  auto store = [&](std::string_view text) {
    std::memcpy(cursor, text.data(), text.size());
    std::string_view stored(cursor, text.size());
    cursor += text.size();
    return Value::ofString(stored, d.symbols.find(text));
  };
  static_assert(kMaxItemTextBytes <= 0xffff, "text sizes are kept in 16 bits");
  for (std::size_t i = 0; i < kItemTexts; ++i) {
    item.textSizes[i] = static_cast<std::uint16_t>(texts[i].size());
    std::memcpy(cursor, texts[i].data(), texts[i].size());
    cursor += texts[i].size();
  }
  item.mediumSymbol = mediumSymbol;
  item.listStore.reserve(elements);
  for (const auto& attribute : spec.attributes) {
    AttributeSlot slot;
    slot.name = d.symbols.intern(attribute.name);
    if (attribute.isList) {
      const auto first = item.listStore.size();
      for (const auto& value : attribute.values) {
        item.listStore.push_back(store(value));
      }
      slot.value = Value::ofList(item.listStore.data() + first,
                                 static_cast<std::uint32_t>(attribute.values.size()));
    } else if (!attribute.values.empty()) {
      slot.value = store(attribute.values.front());
    }
    item.attributes.push_back(slot);
  }
  return index;
}

Outcome RoutingEngine::submit(const ItemSpec& spec, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  QueueIndex queue = kNone;
  auto created = d.createItem(spec, queue, now);
  if (!created) {
    return created.error();
  }
  const ItemIndex index = created.value();
  ItemRecord& item = d.items[index];
  d.transition(index, WorkItemState::New, "submitted", now);
  d.classify(item, queue, cutText(spec.body, kMaxBodyBytes));
  if (queue == kNone && !d.options.defaultQueue.empty()) {
    queue = d.findQueue(d.options.defaultQueue);
  }
  if (queue == kNone) {
    d.transition(index, WorkItemState::Failed, "noQueue", now);
    d.retire(index);
    return d.done();
  }
  d.itemById.insertHashed(item.idHash, index);
  // Only a sticky queue reads the previous agent: the others spare the look-ups.
  AgentIndex previous = kNone;
  if (d.queues[queue]->sticky) {
    if (!spec.previousAgentId.empty()) {
      previous = d.findAgent(spec.previousAgentId);
    } else if (!spec.customerId.empty()) {
      previous = d.lastAgentOf(spec.customerId);
    }
  }
  if (previous != kNone) {
    item.sticky = previous;
    item.stickyUntil = now + d.queues[queue]->stickyMaxWait;
    holdFor(d.agents[previous], index);
  }
  d.enqueue(index, queue, now, "classified", true);
  return d.done();
}

Outcome RoutingEngine::restore(const ItemSpec& spec, std::string_view agentId, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  const AgentIndex a = d.findAgent(agentId);
  if (a == kNone) {
    return Impl::fail(RoutingErrorCode::UnknownAgent, "no agent " + quoted(agentId));
  }
  if (spec.queue.empty()) {
    return Impl::fail(RoutingErrorCode::UnknownQueue,
                      "item " + quoted(spec.id) + ": a restored item needs its queue");
  }
  QueueIndex queue = kNone;
  auto created = d.createItem(spec, queue, now);
  if (!created) {
    return created.error();
  }
  const ItemIndex index = created.value();
  ItemRecord& item = d.items[index];
  d.classify(item, queue, cutText(spec.body, kMaxBodyBytes));
  d.itemById.insertHashed(item.idHash, index);
  item.queue = queue;
  item.stage = 0;
  item.queuedAt = now;
  item.agent = a;
  AgentRecord& agent = d.agents[a];
  ++agent.held[item.medium];
  ++agent.itemsAccepted;
  if (!item.customer.empty()) {
    d.rememberAgent(item.customer, a);
  }
  d.transition(index, WorkItemState::Accepted, "restored", now, a);
  d.refreshAgent(a, now);
  return d.done();
}

Result<std::pair<ItemIndex, AgentIndex>, RoutingError>
RoutingEngine::Impl::offeredItem(std::string_view itemId, std::string_view agentId) {
  Impl& d = *this;
  const ItemIndex index = d.findItem(itemId);
  if (index == kNone) {
    return RoutingError{RoutingErrorCode::UnknownItem, "no item " + quoted(itemId)};
  }
  // The answer of the agent the item is offered to, nearly always: its id is one look away,
  // without a search of the agent table (a cache miss for the table and one for the record).
  if (const ItemRecord& item = d.items[index];
      item.state == WorkItemState::Offered && item.agent != kNone) {
    d.prefetchAgent(item.agent); // the caller reads and writes it next, and refiles it
    d.prefetchMemberships(item.agent);
    if (d.agentIds[item.agent] == agentId) {
      return std::pair{index, item.agent};
    }
  }
  const AgentIndex agent = d.findAgent(agentId);
  if (agent == kNone) {
    return RoutingError{RoutingErrorCode::UnknownAgent, "no agent " + quoted(agentId)};
  }
  const ItemRecord& item = d.items[index];
  if (item.state != WorkItemState::Offered || item.agent != agent) {
    return RoutingError{RoutingErrorCode::WrongState,
                        "item " + quoted(itemId) + " is not offered to " + quoted(agentId)};
  }
  return std::pair{index, agent};
}

Result<ItemIndex, RoutingError> RoutingEngine::Impl::acceptedItem(std::string_view itemId) {
  Impl& d = *this;
  const ItemIndex index = d.findItem(itemId);
  if (index == kNone) {
    return RoutingError{RoutingErrorCode::UnknownItem, "no item " + quoted(itemId)};
  }
  if (d.items[index].state != WorkItemState::Accepted) {
    return RoutingError{RoutingErrorCode::WrongState,
                        "item " + quoted(itemId) + " is " +
                            std::string(toString(d.items[index].state)) + ", not accepted"};
  }
  return index;
}

Outcome RoutingEngine::accept(std::string_view itemId, std::string_view agentId,
                              Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  auto found = d.offeredItem(itemId, agentId);
  if (!found) {
    return found.error();
  }
  const auto [index, a] = found.value();
  ItemRecord& item = d.items[index];
  // The customer's slot is loaded while the item and the agent are brought up to date.
  const std::uint32_t customerHash = IdTable::hashOf(item.customer);
  if (!item.customer.empty()) {
    d.customerIndex.prefetch(customerHash);
  }
  ++item.epoch;
  d.timers.change(item.offerTimer, [](Timer& timer) { timer.kind = TimerKind::Cancelled; });
  d.transition(index, WorkItemState::Accepted, "accepted", now, a);
  AgentRecord& agent = d.agents[a];
  --agent.offersPending;
  ++agent.itemsAccepted;
  agent.offered.erase(index);
  agent.missedInRow = 0;
  ++agent.contactsToday;
  if (!item.customer.empty()) {
    d.rememberAgent(item.customer, customerHash, a);
  }
  d.refreshAgent(a, now);
  return d.done();
}

Outcome RoutingEngine::decline(std::string_view itemId, std::string_view agentId,
                               std::string_view reason, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  auto found = d.offeredItem(itemId, agentId);
  if (!found) {
    return found.error();
  }
  const auto [index, a] = found.value();
  d.releaseOffer(index);
  d.items[index].excluded.push_back(a);
  d.transition(index, WorkItemState::Declined,
               reason.empty() ? std::string_view("declined")
                              : d.symbols.text(d.symbols.intern(reason)),
               now, a);
  d.refreshAgent(a, now);
  d.enqueue(index, d.items[index].queue, now, "declined", false);
  d.backfill(a, now);
  return d.done();
}

Outcome RoutingEngine::complete(std::string_view itemId, Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  auto found = d.acceptedItem(itemId);
  if (!found) {
    return found.error();
  }
  const ItemIndex index = found.value();
  const AgentIndex a = d.items[index].agent;
  // The agent's lines load while the item's completion is recorded; then the indexes it is
  // filed in again.
  d.prefetchAgent(a);
  d.prefetchMemberships(a);
  const QueueRecord& queue = *d.queues[d.items[index].queue];
  d.transition(index, WorkItemState::Completed, "completed", now, a);
  d.releaseAccepted(d.items[index], now);
  d.prefetchFiling(a);
  d.retire(index);
  AgentRecord& agent = d.agents[a];
  if (queue.wrapUp > 0) {
    agent.wrapping = true;
    ++agent.wrapEpoch;
    d.schedule(now + queue.wrapUp, queue.wrapUp, TimerKind::WrapUpEnd, a, agent.wrapEpoch);
  }
  d.refreshAgent(a, now);
  d.backfill(a, now);
  return d.done();
}

Outcome RoutingEngine::abandon(std::string_view itemId, std::string_view reason,
                               Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  const ItemIndex index = d.findItem(itemId);
  if (index == kNone) {
    return Impl::fail(RoutingErrorCode::UnknownItem, "no item " + quoted(itemId));
  }
  ItemRecord& item = d.items[index];
  const AgentIndex a = item.agent;
  if (item.state == WorkItemState::Offered) {
    d.releaseOffer(index);
  } else if (item.state == WorkItemState::Accepted) {
    d.releaseAccepted(item, now);
  }
  d.unfileWaiting(item);
  d.transition(index, WorkItemState::Abandoned,
               reason.empty() ? std::string_view("abandoned")
                              : d.symbols.text(d.symbols.intern(reason)),
               now, a);
  d.retire(index);
  if (a != kNone) {
    d.refreshAgent(a, now);
    d.backfill(a, now);
  }
  return d.done();
}

Outcome RoutingEngine::transferToQueue(std::string_view itemId, std::string_view queueId,
                                       Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  auto found = d.acceptedItem(itemId);
  if (!found) {
    return found.error();
  }
  const QueueIndex q = d.findQueue(queueId);
  if (q == kNone) {
    return Impl::fail(RoutingErrorCode::UnknownQueue, "no queue " + quoted(queueId));
  }
  const ItemIndex index = found.value();
  ItemRecord& item = d.items[index];
  const AgentIndex a = item.agent;
  d.releaseAccepted(item, now);
  d.transition(index, WorkItemState::Transferred, "transferred", now, a);
  d.clearSticky(index);
  item.excluded.assign(1, a); // only for the first attempt, lifted right after it
  item.moves = 0;
  d.refreshAgent(a, now);
  d.enqueue(index, q, now, "transferred", true);
  if (item.live) {
    std::erase(item.excluded, a);
  }
  d.backfill(a, now);
  return d.done();
}

Outcome RoutingEngine::transferToAgent(std::string_view itemId, std::string_view agentId,
                                       Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  auto found = d.acceptedItem(itemId);
  if (!found) {
    return found.error();
  }
  const AgentIndex target = d.findAgent(agentId);
  if (target == kNone) {
    return Impl::fail(RoutingErrorCode::UnknownAgent, "no agent " + quoted(agentId));
  }
  const ItemIndex index = found.value();
  ItemRecord& item = d.items[index];
  const AgentIndex a = item.agent;
  if (target == a) {
    return Impl::fail(RoutingErrorCode::WrongState,
                      "item " + quoted(itemId) + " is already with " + quoted(agentId));
  }
  d.releaseAccepted(item, now);
  d.transition(index, WorkItemState::Transferred, "transferred", now, a);
  d.clearSticky(index);
  item.excluded.clear();
  item.sticky = target;
  item.stickyForced = true;
  item.stickyUntil =
      now + std::max(d.queues[item.queue]->stickyMaxWait, d.queues[item.queue]->offerTimeout);
  holdFor(d.agents[target], index);
  d.refreshAgent(a, now);
  d.enqueue(index, item.queue, now, "transferred", true);
  d.backfill(a, now);
  return d.done();
}

// --------------------------------------------------------------------------------------- clock

Actions RoutingEngine::advance(Timestamp nowTime) {
  Impl& d = *impl_;
  const std::int64_t now = toMs(nowTime);
  d.beginCall(now);
  while (!d.timers.empty() && d.timers.top().at <= now) {
    const Timer timer = d.timers.top();
    d.timers.pop();
    d.fire(timer);
  }
  return d.actions;
}

std::optional<Timestamp> RoutingEngine::nextDue() const {
  if (impl_->timers.empty()) {
    return std::nullopt;
  }
  return fromMs(impl_->timers.top().at);
}

// ------------------------------------------------------------------------------------- queries

std::optional<AgentView> RoutingEngine::agent(std::string_view agentId) const {
  const Impl& d = *impl_;
  const AgentIndex a = d.findAgent(agentId);
  if (a == kNone) {
    return std::nullopt;
  }
  const AgentRecord& agent = d.agents[a];
  AgentView view;
  view.id = agent.id;
  view.site = std::string(d.symbols.text(agent.site));
  view.state = agent.reported;
  view.reason = std::string(d.symbols.text(agent.reportedReason));
  view.idleSince = fromMs(agent.idleSince);
  view.contactsToday = agent.contactsToday;
  view.missedOffersInRow = agent.missedInRow;
  for (std::uint32_t m = 0; m < d.media.size(); ++m) {
    int max = 0;
    for (const auto& mix : agent.mixes) {
      max = std::max<int>(max, mix[m]);
    }
    if (max > 0 || agent.held[m] > 0) {
      view.capacity.push_back(
          {std::string(d.symbols.text(d.media.medium(m))), max, static_cast<int>(agent.held[m])});
    }
  }
  return view;
}

std::optional<WorkItemState> RoutingEngine::itemState(std::string_view itemId) const {
  const ItemIndex index = impl_->findItem(itemId);
  if (index == kNone) {
    return std::nullopt;
  }
  return impl_->items[index].state;
}

std::optional<ItemView> RoutingEngine::item(std::string_view itemId) const {
  const Impl& d = *impl_;
  const ItemIndex index = d.findItem(itemId);
  if (index == kNone) {
    return std::nullopt;
  }
  const ItemRecord& item = d.items[index];
  ItemView view;
  view.id = item.id;
  view.medium = std::string(d.symbols.text(d.media.medium(item.medium)));
  view.priority = item.priority;
  view.state = item.state;
  view.queueId = item.queue == kNone ? std::string() : d.queues[item.queue]->id;
  view.agentId = item.agent == kNone ? std::string() : d.agents[item.agent].id;
  view.stage = static_cast<int>(item.stage);
  view.arrival = fromMs(item.arrival);
  for (const auto& step : item.history) {
    view.history.push_back({fromMs(step.time), step.state, std::string(step.cause),
                            step.queue == kNone ? std::string() : d.queues[step.queue]->id,
                            step.agent == kNone ? std::string() : d.agents[step.agent].id});
  }
  for (const AttributeSlot& slot : item.attributes) {
    AttributeSpec attribute;
    attribute.name = std::string(d.symbols.text(slot.name));
    attribute.isList = slot.value.kind == ValueKind::List;
    if (attribute.isList) {
      for (std::uint32_t i = 0; i < slot.value.size; ++i) {
        attribute.values.push_back(valueText(slot.value.items[i]));
      }
    } else {
      attribute.values.push_back(valueText(slot.value));
    }
    view.attributes.push_back(std::move(attribute));
  }
  return view;
}

std::vector<std::string> RoutingEngine::waiting(std::string_view queueId) const {
  const Impl& d = *impl_;
  std::vector<std::string> ids;
  const QueueIndex q = d.findQueue(queueId);
  if (q == kNone) {
    return ids;
  }
  std::vector<WaitKey> keys;
  for (const auto& stage : d.queues[q]->stages) {
    keys.insert(keys.end(), stage->waiting.begin(), stage->waiting.end());
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    ids.push_back(d.items[key.item].id);
  }
  return ids;
}

std::optional<Trace> RoutingEngine::explain(std::string_view itemId, Timestamp nowTime) const {
  const Impl& d = *impl_;
  const ItemIndex index = d.findItem(itemId);
  if (index == kNone) {
    return std::nullopt;
  }
  const std::int64_t now = toMs(nowTime);
  const ItemRecord& item = d.items[index];
  Trace trace;
  trace.time = nowTime;
  trace.itemId = item.id;
  trace.queueId = d.queues[item.queue]->id;
  trace.stage = static_cast<int>(item.stage);
  trace.level = TraceLevel::Full;
  trace.ordering = d.queues[item.queue]->ordering;
  trace.medium = d.symbols.text(d.media.medium(item.medium));
  const Choice choice = d.chooseAgent(item, now, &trace);
  trace.outcome = choice.outcome;
  trace.stickyWinner = choice.sticky;
  if (choice.winner != kNone) {
    trace.winner = d.agents[choice.winner].id;
  }
  d.fillFullTrace(item, now, trace);
  return trace;
}

std::optional<QueueAgents> RoutingEngine::queueAgents(std::string_view queueId) const {
  const Impl& d = *impl_;
  const QueueIndex q = d.findQueue(queueId);
  if (q == kNone) {
    return std::nullopt;
  }
  const Stage& stage = *d.queues[q]->stages.front();
  QueueAgents counts;
  auto count = [&](AgentIndex a) {
    counts.ready += (d.agentHot[a].flags & Impl::kRoutableFlag) != 0 ? 1 : 0;
    counts.busy += (d.agentHot[a].flags & Impl::kBusyFlag) != 0 ? 1 : 0;
  };
  if (d.options.matcher == Matcher::Indexed) {
    for (const AgentIndex a : stage.members) {
      count(a);
    }
  } else {
    for (AgentIndex a = 0; a < d.agents.size(); ++a) {
      if (d.staticEligible(d.agents[a], stage)) {
        count(a);
      }
    }
  }
  return counts;
}

std::uint64_t RoutingEngine::decisions() const {
  return impl_->decisionCount;
}

std::uint64_t RoutingEngine::offers() const {
  return impl_->offerCount;
}

} // namespace switchboard::routing
