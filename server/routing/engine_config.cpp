#include "engine_impl.h"

#include <algorithm>
#include <cstring>

namespace switchboard::routing {

namespace {

std::string where(std::string_view kind, std::string_view id, std::string_view setting) {
  return std::string(kind) + " '" + std::string(id) + "': " + std::string(setting) + ": ";
}

/// Attribute values from a spec, interned, with list elements in `listStore`.
void buildAttributes(const std::vector<AttributeSpec>& specs, SymbolTable& symbols,
                     std::vector<AttributeSlot>& slots, std::vector<Value>& listStore) {
  std::size_t elements = 0;
  for (const auto& spec : specs) {
    if (spec.isList) {
      elements += spec.values.size();
    }
  }
  listStore.clear();
  listStore.reserve(elements);
  slots.clear();
  for (const auto& spec : specs) {
    AttributeSlot slot;
    slot.name = symbols.intern(spec.name);
    if (spec.isList) {
      const auto first = listStore.size();
      for (const auto& value : spec.values) {
        const Symbol symbol = symbols.intern(value);
        listStore.push_back(Value::ofString(symbols.text(symbol), symbol));
      }
      slot.value =
          Value::ofList(listStore.data() + first, static_cast<std::uint32_t>(spec.values.size()));
    } else if (!spec.values.empty()) {
      const Symbol symbol = symbols.intern(spec.values.front());
      slot.value = Value::ofString(symbols.text(symbol), symbol);
    }
    auto existing = std::find_if(slots.begin(), slots.end(),
                                 [&](const AttributeSlot& s) { return s.name == slot.name; });
    if (existing != slots.end()) {
      *existing = slot;
    } else {
      slots.push_back(slot);
    }
  }
}

} // namespace

RoutingEngine::Impl::Impl(EngineOptions engineOptions) : options(std::move(engineOptions)) {
  const auto& names = EnumNames<AgentState>::kNames;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Symbol symbol = symbols.intern(names[i]);
    stateValues[i] = Value::ofString(symbols.text(symbol), symbol);
  }
}

Result<bool, RoutingError> RoutingEngine::Impl::buildQueue(const QueueSpec& spec,
                                                           QueueRecord& queue) {
  auto bad = [&](std::string_view setting, std::string reason) {
    return RoutingError{RoutingErrorCode::BadConfig, where("queue", spec.id, setting) + reason};
  };
  if (spec.id.empty()) {
    return bad("id", "must not be empty");
  }
  if (spec.ordering.size() > kMaxOrderKeys) {
    return bad("ordering", "at most " + std::to_string(kMaxOrderKeys) + " keys");
  }
  for (std::size_t i = 1; i < spec.ordering.size(); ++i) {
    if (spec.ordering[i] == OrderKey::PreviousAgent) {
      return bad("ordering", "previousAgent must be the first key");
    }
  }
  auto resolveQueue = [&](const std::string& id) -> QueueIndex {
    return id == spec.id && findQueue(id) == kNone ? kNone : findQueue(id);
  };
  queue.id = spec.id;
  queue.idSymbol = symbols.intern(spec.id);
  queue.spec = spec;
  queue.ordering = spec.ordering;
  queue.keyCount = 0;
  queue.keyInputs = 0;
  for (const OrderKey key : spec.ordering) {
    if (key != OrderKey::PreviousAgent) {
      queue.keyOrder[queue.keyCount++] = key;
    }
    queue.keyInputs |= key == OrderKey::LongestIdle      ? kIdleInput
                       : key == OrderKey::FewestContacts ? kContactsInput
                       : key == OrderKey::RoundRobin     ? kTurnInput
                                                         : 0;
  }
  queue.sticky = !spec.ordering.empty() && spec.ordering.front() == OrderKey::PreviousAgent;
  queue.skill = spec.skill.empty() ? kNoSymbol : symbols.intern(spec.skill);
  queue.skillAttribute = symbols.intern(spec.skillAttribute);
  queue.weightAttribute = symbols.intern(spec.weightAttribute);
  queue.scanOrdering = false;
  for (const OrderKey key : spec.ordering) {
    if (key == OrderKey::WeightedRandom ||
        (key == OrderKey::HighestSkill && queue.skill == kNoSymbol)) {
      queue.scanOrdering = true;
    }
  }
  queue.stickyMaxWait = spec.stickyMaxWait.count();
  queue.offerTimeout = std::max<std::int64_t>(1, spec.offerTimeout.count());
  queue.wrapUp = std::max<std::int64_t>(0, spec.wrapUp.count());
  queue.maxWait = std::max<std::int64_t>(0, spec.maxWait.count());
  queue.maxWaitOutcome = spec.maxWaitOutcome;
  queue.priority = spec.priority;
  queue.ageingPerMs = spec.ageingPerMinute / 60000.0;
  if (spec.maxWaitOutcome == MaxWaitOutcome::MoveQueue && queue.maxWait > 0) {
    queue.maxWaitQueue = resolveQueue(spec.maxWaitQueue);
    if (queue.maxWaitQueue == kNone) {
      return bad("maxWaitQueue", "no queue '" + spec.maxWaitQueue + "'");
    }
  }

  auto base = parseExpression(spec.target, ExpressionScope::Target);
  if (!base) {
    return bad("target", base.error().format());
  }

  // The timeline of what changes while an item waits: site overflow and escalation steps.
  struct Event {
    std::int64_t at = 0;
    const EscalationStep* step = nullptr; ///< null: the preferred site overflows
    std::size_t number = 0;
  };
  std::vector<Event> events;
  const bool prefers = !spec.preferredSite.empty() && spec.overflowAfter.count() > 0;
  if (prefers) {
    events.push_back({spec.overflowAfter.count(), nullptr, 0});
  }
  std::vector<Node> widenings(spec.escalation.size());
  for (std::size_t i = 0; i < spec.escalation.size(); ++i) {
    const auto& step = spec.escalation[i];
    const std::string setting = "escalation[" + std::to_string(i) + "]";
    if (step.after.count() < 0) {
      return bad(setting, "'after' must not be negative");
    }
    if (step.kind == EscalationKind::Widen) {
      auto parsed = parseExpression(step.expression, ExpressionScope::Target);
      if (!parsed) {
        return bad(setting + ".expression", parsed.error().format());
      }
      widenings[i] = std::move(parsed.value());
    } else if (step.kind == EscalationKind::MoveQueue && resolveQueue(step.queue) == kNone) {
      return bad(setting + ".queue", "no queue '" + step.queue + "'");
    } else if (step.kind == EscalationKind::MoveQueue && step.after.count() == 0) {
      return bad(setting, "a move needs 'after' greater than 0 (use the rules to choose a queue)");
    } else if (step.kind == EscalationKind::AddSite && step.site.empty()) {
      return bad(setting + ".site", "must not be empty");
    }
    events.push_back({step.after.count(), &step, i});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.at < b.at; });

  Node current = std::move(base.value());
  bool preferredOnly = prefers;
  std::vector<Symbol> added;
  QueueIndex moveTo = kNone;
  auto sitesNow = [&]() {
    std::vector<Symbol> sites;
    if (preferredOnly) {
      sites.push_back(symbols.intern(spec.preferredSite));
    } else if (!spec.sites.empty()) {
      for (const auto& site : spec.sites) {
        sites.push_back(symbols.intern(site));
      }
    } else {
      return sites;
    }
    sites.insert(sites.end(), added.begin(), added.end());
    return sites;
  };
  ReadyIndex::Layout layout = ReadyIndex::Layout::Sorted;
  if (queue.scanOrdering) {
    layout = ReadyIndex::Layout::Unsorted;
  } else {
    for (const OrderKey key : queue.ordering) {
      if (key == OrderKey::PreviousAgent) {
        continue;
      }
      if (key == OrderKey::Seniority || key == OrderKey::FewestContacts ||
          key == OrderKey::HighestSkill) {
        layout = ReadyIndex::Layout::Bucketed;
      }
      break;
    }
  }
  queue.ready = ReadyIndex(layout, &agentHot);
  queue.lateReady = ReadyIndex(layout, &agentHot);
  auto addStage = [&](std::int64_t at) -> Result<bool, RoutingError> {
    auto stage = std::make_unique<Stage>(&pool);
    stage->startsAfter = at;
    stage->moveTo = moveTo;
    stage->sites = sitesNow();
    auto compiled = compileTarget(current, symbols, media);
    if (!compiled) {
      return bad("target", compiled.error().format());
    }
    stage->target = std::move(compiled.value());
    if (stage->target.setAgentAttribute != kNoSymbol) {
      stage->valueSets = valueSetsFor(stage->target.setAgentAttribute);
    }
    queue.stages.push_back(std::move(stage));
    return true;
  };
  auto apply = [&](const Event& event) {
    const auto* step = event.step;
    if (step == nullptr) {
      preferredOnly = false;
    } else if (step->kind == EscalationKind::Widen) {
      Node either;
      either.kind = NodeKind::Or;
      either.column = current.column;
      either.children.push_back(std::move(current));
      either.children.push_back(widenings[event.number]);
      current = std::move(either);
    } else if (step->kind == EscalationKind::LowerLevel) {
      current = lowerSkillLevels(std::move(current), step->levels);
    } else if (step->kind == EscalationKind::AddSite) {
      added.push_back(symbols.intern(step->site));
    } else if (step->kind == EscalationKind::MoveQueue) {
      moveTo = resolveQueue(step->queue);
    }
  };
  // Steps due at once shape the first stage.
  std::size_t e = 0;
  for (; e < events.size() && events[e].at == 0; ++e) {
    apply(events[e]);
  }
  if (auto r = addStage(0); !r) {
    return r;
  }
  queue.entryValueSets = queue.stages[0]->valueSets;
  while (e < events.size() && moveTo == kNone) {
    const std::int64_t at = events[e].at;
    for (; e < events.size() && events[e].at == at; ++e) {
      apply(events[e]);
    }
    if (auto r = addStage(at); !r) {
      return r;
    }
  }
  queue.roundRobinTurn.assign(agents.size(), 0);
  return true;
}

Result<bool, RoutingError> RoutingEngine::Impl::buildRules(const std::vector<RuleSpec>& specs,
                                                           std::vector<CompiledRule>& out) {
  out.clear();
  out.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const std::string name = spec.name.empty() ? "#" + std::to_string(i + 1) : spec.name;
    CompiledRule rule;
    rule.name = name;
    auto parsed = parseExpression(spec.when, ExpressionScope::Rule);
    if (!parsed) {
      return RoutingError{RoutingErrorCode::BadConfig,
                          where("rule", name, "when") + parsed.error().format()};
    }
    auto compiled = CompiledExpression::compile(parsed.value(), symbols, media);
    if (!compiled) {
      return RoutingError{RoutingErrorCode::BadConfig,
                          where("rule", name, "when") + compiled.error().format()};
    }
    rule.when = std::move(compiled.value());
    buildAttributes(spec.set, symbols, rule.set, rule.listStore);
    if (!spec.queue.empty()) {
      rule.queue = findQueue(spec.queue);
      if (rule.queue == kNone) {
        return RoutingError{RoutingErrorCode::UnknownQueue,
                            where("rule", name, "queue") + "no queue '" + spec.queue + "'"};
      }
    }
    out.push_back(std::move(rule));
  }
  return true;
}

void RoutingEngine::Impl::buildAgentProfile(const AgentSpec& spec, AgentRecord& agent) {
  agent.id = spec.id;
  agent.idSymbol = symbols.intern(spec.id);
  agent.idValue = Value::ofString(symbols.text(agent.idSymbol), agent.idSymbol);
  const Symbol name = symbols.intern(spec.name);
  agent.nameValue = spec.name.empty() ? Value{} : Value::ofString(symbols.text(name), name);
  agent.site = spec.site.empty() ? kNoSymbol : symbols.intern(spec.site);
  agent.siteValue =
      spec.site.empty() ? Value{} : Value::ofString(symbols.text(agent.site), agent.site);
  agent.seniority = spec.seniority;
  agent.skills.clear();
  for (const auto& skill : spec.skills) {
    const Symbol symbol = symbols.intern(skill.name);
    const auto level = static_cast<std::uint8_t>(std::clamp(skill.level, 0, 10));
    auto it = std::find_if(agent.skills.begin(), agent.skills.end(),
                           [&](const auto& s) { return s.first == symbol; });
    if (it != agent.skills.end()) {
      it->second = level;
    } else {
      agent.skills.emplace_back(symbol, level);
    }
  }
  std::sort(agent.skills.begin(), agent.skills.end());
  buildAttributes(spec.attributes, symbols, agent.attributes, agent.listStore);
  agent.mixes.clear();
  for (const auto& mix : spec.capacity) {
    MediaCounts counts{};
    for (const auto& limit : mix.limits) {
      const auto slot = media.slotOf(symbols.intern(limit.medium));
      if (slot < kMaxMedia) {
        counts[slot] = static_cast<std::uint8_t>(std::clamp(limit.max, 0, 255));
      }
    }
    agent.mixes.push_back(counts);
  }
  if (spec.capacity.empty()) {
    // No capacity given: one item at a time, of any medium.
    for (std::size_t m = 0; m < kMaxMedia; ++m) {
      MediaCounts counts{};
      counts[m] = 1;
      agent.mixes.push_back(counts);
    }
  }
}

namespace {

/// The bits of the agent's values of `sets.attribute`, giving new values the next free bits.
std::uint64_t valueBits(ValueSets& sets, const AgentRecord& agent) {
  std::uint64_t bits = 0;
  auto add = [&](const Value& value) {
    if (value.kind != ValueKind::String || value.numeric || value.symbol == kNoSymbol) {
      bits |= ValueSets::kUnsure; // compares as a number, or by its text
      return;
    }
    if (value.symbol >= sets.bitOf.size()) {
      sets.bitOf.resize(value.symbol + 1, ValueSets::kNoBit);
    }
    std::uint8_t& bit = sets.bitOf[value.symbol];
    if (bit == ValueSets::kNoBit) {
      if (sets.used == 63) {
        bits |= ValueSets::kUnsure;
        return;
      }
      bit = sets.used++;
    }
    bits |= 1ULL << bit;
  };
  const Value* value = findAttribute(agent.attributes, sets.attribute);
  if (value == nullptr || value->kind == ValueKind::None) {
    return 0; // `x in` a missing value is false
  }
  if (value->kind == ValueKind::List) {
    for (std::uint32_t i = 0; i < value->size; ++i) {
      add(value->items[i]);
    }
  } else {
    add(*value);
  }
  return bits;
}

} // namespace

std::uint32_t RoutingEngine::Impl::valueSetsFor(Symbol attribute) {
  for (std::uint32_t s = 0; s < valueSets.size(); ++s) {
    if (valueSets[s].attribute == attribute) {
      return s;
    }
  }
  if (valueSets.size() >= kMaxValueSets) {
    return kNone;
  }
  ValueSets& sets = valueSets.emplace_back();
  sets.attribute = attribute;
  sets.agents.resize(agents.size());
  for (AgentIndex a = 0; a < agents.size(); ++a) {
    sets.agents[a] = valueBits(sets, agents[a]);
  }
  return static_cast<std::uint32_t>(valueSets.size() - 1);
}

void RoutingEngine::Impl::fillValueSets(AgentIndex index) {
  for (ValueSets& sets : valueSets) {
    if (sets.agents.size() <= index) {
      sets.agents.resize(index + 1);
    }
    sets.agents[index] = valueBits(sets, agents[index]);
  }
}

void RoutingEngine::Impl::computeMemberships(AgentIndex index) {
  AgentRecord& agent = agents[index];
  for (const auto& membership : agent.memberships) {
    for (const auto& stage : membership.queueRecord->stages) {
      std::erase(stage->members, index);
    }
  }
  agent.memberships.clear();
  agent.filedRest.clear();
  if (options.matcher != Matcher::Indexed) {
    return;
  }
  for (QueueIndex q = 0; q < queues.size(); ++q) {
    if (auto filed = membershipOf(index, q)) {
      addMembership(agent, *filed);
    }
  }
  updateMemberMasks(agent);
}

void RoutingEngine::Impl::updateMemberMasks(AgentRecord& agent) {
  agent.idleMembers = 0;
  agent.contactsMembers = 0;
  agent.turnMembers = 0;
  const std::size_t count = std::min(agent.memberships.size(), kMaskedMemberships);
  for (std::size_t m = 0; m < count; ++m) {
    const std::uint8_t inputs = agent.memberships[m].queueRecord->keyInputs;
    const auto bit = static_cast<std::uint8_t>(1U << m);
    agent.idleMembers |= (inputs & kIdleInput) != 0 ? bit : 0;
    agent.contactsMembers |= (inputs & kContactsInput) != 0 ? bit : 0;
    agent.turnMembers |= (inputs & kTurnInput) != 0 ? bit : 0;
  }
}

std::optional<RoutingEngine::Impl::Filed> RoutingEngine::Impl::membershipOf(AgentIndex index,
                                                                            QueueIndex q) {
  QueueRecord& queue = *queues[q];
  Membership membership;
  membership.queueRecord = &queue;
  for (std::uint32_t s = 0; s < queue.stages.size(); ++s) {
    if (staticEligible(agents[index], *queue.stages[s])) {
      membership.stages |= ReadyIndex::stageBit(s);
      queue.stages[s]->members.push_back(index);
    }
  }
  if (membership.stages == 0) {
    return std::nullopt;
  }
  IndexKey key = indexKey(index, queue);
  if (queue.entryValueSets != kNone) {
    const std::uint64_t bits = valueSets[queue.entryValueSets].agents[index];
    key.valueBits =
        (bits & ~0x7fffffffULL) == 0 ? static_cast<std::uint32_t>(bits) : IndexKey::kUnsureBits;
  }
  return Filed{membership, key};
}

} // namespace switchboard::routing
