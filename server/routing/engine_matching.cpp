#include "engine_impl.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace switchboard::routing {

namespace {

constexpr std::size_t kSummaryExclusions = 16;

std::uint64_t splitMix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool keyLess(const FullKey& a, AgentIndex ia, const FullKey& b, AgentIndex ib) {
  if (a != b) {
    return a < b;
  }
  return ia < ib;
}

} // namespace

bool RoutingEngine::Impl::siteAllowed(const AgentRecord& agent, const Stage& stage) const {
  if (stage.sites.empty()) {
    return true;
  }
  return std::find(stage.sites.begin(), stage.sites.end(), agent.site) != stage.sites.end();
}

bool RoutingEngine::Impl::staticEligible(const AgentRecord& agent, const Stage& stage) const {
  return stage.moveTo == kNone && siteAllowed(agent, stage) &&
         stage.target.agentPart.matches(context(&agent, nullptr, 0));
}

std::optional<Exclusion> RoutingEngine::Impl::dynamicExclusion(const AgentRecord& agent,
                                                               AgentIndex index,
                                                               const ItemRecord& item,
                                                               const Stage& stage,
                                                               std::int64_t now) const {
  if (agent.presence == Presence::LoggedOut) {
    return Exclusion::LoggedOut;
  }
  if (agent.presence == Presence::NotReady) {
    return Exclusion::NotReady;
  }
  if (agent.wrapping) {
    return Exclusion::WrapUp;
  }
  if ((agent.room >> item.medium & 1U) == 0) {
    return Exclusion::NoCapacity;
  }
  if (std::find(item.excluded.begin(), item.excluded.end(), index) != item.excluded.end()) {
    return Exclusion::DeclinedBefore;
  }
  const bool forced = item.stickyForced && item.sticky == index;
  if (!forced && !stage.target.mixedPart.matches(context(&agent, &item, now))) {
    return Exclusion::ConditionFalse;
  }
  return std::nullopt;
}

std::uint64_t RoutingEngine::Impl::itemValueBits(const ItemRecord& item, const Stage& stage) const {
  if (stage.valueSets == kNone) {
    return ValueSets::kUnsure;
  }
  const ValueSets& sets = valueSets[stage.valueSets];
  std::uint64_t bits = 0;
  auto add = [&](const Value& value) {
    if (value.kind != ValueKind::String || value.numeric) {
      return false;
    }
    // Agents' values are interned: a text without a symbol equals none of them.
    const Symbol symbol = value.symbol != kNoSymbol ? value.symbol : symbols.find(value.text);
    if (symbol != kNoSymbol && symbol < sets.bitOf.size() &&
        sets.bitOf[symbol] != ValueSets::kNoBit) {
      bits |= 1ULL << sets.bitOf[symbol];
    }
    return true;
  };
  const Value* value = findAttribute(item.attributes, stage.target.setItemAttribute);
  if (value == nullptr || value->kind == ValueKind::None) {
    return 0; // a missing value is in nothing
  }
  if (value->kind == ValueKind::List) {
    for (std::uint32_t i = 0; i < value->size; ++i) {
      if (!add(value->items[i])) {
        return ValueSets::kUnsure;
      }
    }
    return bits;
  }
  return add(*value) ? bits : ValueSets::kUnsure;
}

bool RoutingEngine::Impl::heldForOther(const ItemRecord& item, AgentIndex agent,
                                       std::int64_t now) const {
  if (item.sticky == kNone || item.sticky == agent || now >= item.stickyUntil) {
    return false;
  }
  const AgentRecord& holder = agents[item.sticky];
  if (holder.presence != Presence::Ready) {
    return false;
  }
  return item.stickyForced || staticEligible(holder, *queues[item.queue]->stages[item.stage]);
}

bool RoutingEngine::Impl::takes(const ItemRecord& item, AgentIndex agent, std::int64_t now) const {
  const Stage& stage = *queues[item.queue]->stages[item.stage];
  if (!stage.target.itemPart.matches(context(nullptr, &item, now))) {
    return false;
  }
  if (heldForOther(item, agent, now)) {
    return false;
  }
  return !dynamicExclusion(agents[agent], agent, item, stage, now);
}

FullKey RoutingEngine::Impl::fullKey(AgentIndex index, const ItemRecord& item,
                                     const QueueRecord& queue) const {
  FullKey key{};
  const AgentRecord& agent = agents[index];
  std::size_t n = 0;
  for (const OrderKey order : queue.ordering) {
    switch (order) {
    case OrderKey::PreviousAgent:
      continue;
    case OrderKey::LongestIdle:
      key[n] = static_cast<double>(agent.idleSince);
      break;
    case OrderKey::Seniority:
      key[n] = -agent.seniority;
      break;
    case OrderKey::FewestContacts:
      key[n] = agent.contactsToday;
      break;
    case OrderKey::RoundRobin:
      key[n] = static_cast<double>(index < queue.roundRobinTurn.size() ? queue.roundRobinTurn[index]
                                                                       : 0);
      break;
    case OrderKey::HighestSkill: {
      Symbol skill = queue.skill;
      if (skill == kNoSymbol) {
        const Value* topic = findAttribute(item.attributes, queue.skillAttribute);
        if (topic != nullptr && topic->kind == ValueKind::String) {
          skill = topic->symbol != kNoSymbol ? topic->symbol : symbols.find(topic->text);
        }
      }
      key[n] = skill == kNoSymbol ? 1.0 : -skillLevel(agent, skill);
      break;
    }
    case OrderKey::WeightedRandom: {
      double weight = 1.0;
      if (const Value* w = findAttribute(agent.attributes, queue.weightAttribute);
          w != nullptr && w->numeric) {
        weight = w->number;
      }
      const std::uint64_t bits =
          splitMix(options.seed ^ splitMix(item.sequence * 0x100000001b3ULL + item.attempt) ^
                   (static_cast<std::uint64_t>(index) << 32));
      const double u = static_cast<double>((bits >> 11) + 1) * 0x1.0p-53;
      key[n] = weight > 0.0 ? -std::log(u) / weight : std::numeric_limits<double>::max();
      break;
    }
    }
    ++n;
  }
  return key;
}

Choice RoutingEngine::Impl::chooseAgent(const ItemRecord& item, std::int64_t now,
                                        Trace* trace) const {
  const QueueRecord& queue = *queues[item.queue];
  const Stage& stage = *queue.stages[item.stage];
  // Stages from 31 on share one bit of the ready index's stage sets: their walks check the
  // agent-only conditions of the stage itself.
  const bool lateStage = item.stage >= 31;
  auto inLateStage = [&](AgentIndex index) {
    return !lateStage || staticEligible(agents[index], stage);
  };
  Choice choice;
  if (!stage.target.itemPart.matches(context(nullptr, &item, now))) {
    choice.outcome = TraceOutcome::ItemCondition;
    return choice;
  }
  if (item.sticky != kNone) {
    const AgentRecord& holder = agents[item.sticky];
    const bool qualifies = item.stickyForced || staticEligible(holder, stage);
    if (qualifies && !dynamicExclusion(holder, item.sticky, item, stage, now)) {
      choice.winner = item.sticky;
      choice.sticky = true;
      choice.outcome = TraceOutcome::Offered;
      if (trace != nullptr) {
        trace->stickyWinner = true;
        traceCandidate(*trace, item.sticky, fullKey(item.sticky, item, queue), now);
      }
      return choice;
    }
    if (qualifies && now < item.stickyUntil && holder.presence == Presence::Ready) {
      choice.outcome = TraceOutcome::Held;
      return choice;
    }
    choice.dropSticky = true;
  }

  const bool summary = trace != nullptr && trace->level != TraceLevel::None;
  FullKey bestKey{};
  auto consider = [&](AgentIndex index) {
    const FullKey key = fullKey(index, item, queue);
    if (choice.winner == kNone || keyLess(key, index, bestKey, choice.winner)) {
      choice.winner = index;
      bestKey = key;
    }
  };
  if (options.matcher == Matcher::Scan) {
    for (AgentIndex index = 0; index < agents.size(); ++index) {
      const AgentRecord& agent = agents[index];
      if (!staticEligible(agent, stage) || dynamicExclusion(agent, index, item, stage, now)) {
        continue;
      }
      consider(index);
    }
  } else if (queue.scanOrdering) {
    auto visit = [&](const IndexKey& key) {
      const AgentIndex index = key.agent;
      if ((agentHot[index].room >> item.medium & 1U) != 0 && inLateStage(index) &&
          !dynamicExclusion(agents[index], index, item, stage, now)) {
        consider(index);
      }
      return false;
    };
    const std::uint32_t bit = ReadyIndex::stageBit(item.stage);
    queue.ready.forEach(bit, currentKey(queue), visit);
    if (item.stage > 0) {
      queue.lateReady.forEach(bit, currentKey(queue), visit);
    }
  } else {
    // The first agent of one index, in key order, that passes the checks. Agents passed over
    // go to the trace directly (`looked` null) or to `looked` with their keys; with `before`,
    // agents whose key is not below it are not looked at. Agents without room for the item's
    // medium are counted, not named, and chunks of the index known to hold none are passed over
    // unread.
    struct Looked {
      IndexKey key;
      Exclusion exclusion;
      bool passedOver; ///< a chunk passed over unread: its agents are not counted
    };
    const auto roomBit = static_cast<std::uint8_t>(1U << item.medium);
    constexpr auto kNoRoom = static_cast<std::size_t>(Exclusion::NoCapacity);
    // A target whose item-and-agent part is `item.X in agent.Y` is decided from bit sets of
    // the agents' values (see ValueSets), without a read of the candidate's record.
    const std::uint64_t itemBits = itemValueBits(item, stage);
    const std::uint64_t* agentBits =
        itemBits != ValueSets::kUnsure ? valueSets[stage.valueSets].agents.data() : nullptr;
    // The entries carry the bits of the queue's stage-0 ValueSets (see IndexKey::valueBits).
    const bool entryBits = agentBits != nullptr && stage.valueSets == queue.entryValueSets;
    auto quickExclusion = [&](AgentIndex index,
                              std::uint64_t candidateBits) -> std::optional<Exclusion> {
      // A routable agent is ready and not wrapping up; what dynamicExclusion() checks next:
      if (std::find(item.excluded.begin(), item.excluded.end(), index) != item.excluded.end()) {
        return Exclusion::DeclinedBefore;
      }
      const bool forced = item.stickyForced && item.sticky == index;
      if (!forced && (candidateBits & itemBits) == 0) {
        return Exclusion::ConditionFalse;
      }
      return std::nullopt;
    };
    auto firstTaker = [&](const ReadyIndex& ready, const IndexKey* before,
                          std::vector<Looked>* looked) {
      AgentIndex winner = kNone;
      auto skip = [&](std::uint32_t /*agents*/, const IndexKey& lastKey) {
        if (!summary) {
          return;
        }
        // How many agents a chunk passed over holds now is not known without reading it (its
        // count is as of the last walk that did), so the trace only says there were some.
        if (looked != nullptr) {
          looked->push_back({lastKey, Exclusion::NoCapacity, true});
        } else {
          trace->passedOver = true;
        }
      };
      auto visit = [&](const IndexKey& key) {
        const AgentIndex index = key.agent;
        if (before != nullptr && !(indexKey(index, queue) < *before)) {
          return true;
        }
        if (!inLateStage(index)) {
          return false; // filed for another stage from 31 on
        }
        // Filed agents are ready and not wrapping up, so no room is the first reason that can
        // apply; the copy of the room mask spares a look at the agent's record.
        std::optional<Exclusion> exclusion;
        if ((agentHot[index].room & roomBit) == 0) {
          exclusion = Exclusion::NoCapacity;
        } else if (entryBits && (key.valueBits & IndexKey::kUnsureBits) == 0 &&
                   (agentHot[index].flags & kRoutableFlag) != 0) {
          exclusion = quickExclusion(index, key.valueBits);
        } else if (agentBits != nullptr && (agentHot[index].flags & kRoutableFlag) != 0 &&
                   (agentBits[index] & ValueSets::kUnsure) == 0) {
          exclusion = quickExclusion(index, agentBits[index]);
        } else {
          exclusion = dynamicExclusion(agents[index], index, item, stage, now);
        }
        if (!exclusion) {
          winner = index;
          return true;
        }
        if (!summary) {
          return false;
        }
        if (looked != nullptr) {
          looked->push_back({indexKey(index, queue), *exclusion, false});
        } else if (*exclusion == Exclusion::NoCapacity) {
          ++trace->skipped[kNoRoom];
        } else if (trace->excluded.size() < kSummaryExclusions) {
          trace->excluded.push_back({agentIds[index], *exclusion});
        }
        return false;
      };
      ready.forEach(ReadyIndex::stageBit(item.stage), roomBit, currentKey(queue), visit, skip);
      return winner;
    };
    if (item.stage == 0) {
      // Every agent of stage 0 is in `ready`.
      choice.winner = firstTaker(queue.ready, nullptr, nullptr);
    } else {
      // Later stages also take agents that meet only them, filed in `lateReady`: the winner is
      // the better of the two indexes' first takers, and the trace lists the agents passed
      // over in both, in key order.
      std::vector<Looked> looked;
      std::vector<Looked> lookedLate;
      const AgentIndex early = firstTaker(queue.ready, nullptr, &looked);
      IndexKey bound;
      if (early != kNone) {
        bound = indexKey(early, queue);
      }
      const AgentIndex late =
          firstTaker(queue.lateReady, early != kNone ? &bound : nullptr, &lookedLate);
      choice.winner = late != kNone ? late : early;
      if (summary) {
        std::vector<Looked> all;
        std::merge(looked.begin(), looked.end(), lookedLate.begin(), lookedLate.end(),
                   std::back_inserter(all),
                   [](const Looked& a, const Looked& b) { return a.key < b.key; });
        const IndexKey winnerKey =
            choice.winner != kNone ? indexKey(choice.winner, queue) : IndexKey{};
        for (const Looked& entry : all) {
          if (choice.winner != kNone && !(entry.key < winnerKey)) {
            break;
          }
          if (entry.passedOver) {
            trace->passedOver = true;
          } else if (entry.exclusion == Exclusion::NoCapacity) {
            ++trace->skipped[kNoRoom];
          } else if (trace->excluded.size() < kSummaryExclusions) {
            trace->excluded.push_back({agentIds[entry.key.agent], entry.exclusion});
          }
        }
      }
    }
    if (choice.winner != kNone) {
      // The winner's key in the index, as the walk just checked it: fullKey() would read the
      // agent's record, a cache miss per decision, for the same values (an indexed ordering's
      // keys do not depend on the item).
      const IndexKey key = indexKey(choice.winner, queue);
      for (std::size_t n = 0; n < queue.keyCount; ++n) {
        bestKey[n] = static_cast<double>(key.keys[n]);
      }
    }
  }
  if (choice.winner != kNone) {
    choice.outcome = TraceOutcome::Offered;
    if (summary) {
      traceCandidate(*trace, choice.winner, bestKey, now);
    }
  }
  return choice;
}

Trace* RoutingEngine::Impl::newTrace(const ItemRecord& item, std::int64_t now) {
  if (options.trace == TraceLevel::None) {
    return nullptr;
  }
  if (tracesUsed == traces.size()) {
    traces.emplace_back();
  }
  Trace& trace = traces[tracesUsed++];
  const QueueRecord& queue = *queues[item.queue];
  trace.time = fromMs(now);
  trace.itemId = item.id;
  trace.queueId = queueIds[item.queue];
  trace.stage = static_cast<int>(item.stage);
  trace.level = options.trace;
  trace.outcome = TraceOutcome::NoAgent;
  trace.ordering.assign(queue.ordering.begin(), queue.ordering.end());
  trace.winner = {};
  trace.eligible.clear();
  trace.excluded.clear();
  trace.stickyWinner = false;
  trace.medium = symbols.text(media.medium(item.medium));
  trace.skipped = {};
  trace.passedOver = false;
  return &trace;
}

void RoutingEngine::Impl::traceCandidate(Trace& trace, AgentIndex index, const FullKey& key,
                                         std::int64_t now) const {
  TraceCandidate candidate;
  candidate.agentId = agentIds[index]; // the dense array: the record's line of idView is cold
  std::size_t n = 0;
  for (const OrderKey order : trace.ordering) {
    if (order == OrderKey::PreviousAgent) {
      continue;
    }
    double shown = key[n];
    if (order == OrderKey::LongestIdle) {
      shown = static_cast<double>(now) - key[n];
    } else if (order == OrderKey::Seniority || order == OrderKey::HighestSkill) {
      shown = key[n] == 0.0 ? 0.0 : -key[n];
    }
    candidate.keys[n] = shown;
    ++n;
  }
  trace.eligible.push_back(candidate);
}

void RoutingEngine::Impl::fillFullTrace(const ItemRecord& item, std::int64_t now,
                                        Trace& trace) const {
  const QueueRecord& queue = *queues[item.queue];
  const Stage& stage = *queue.stages[item.stage];
  trace.level = TraceLevel::Full;
  trace.eligible.clear();
  trace.excluded.clear();
  trace.skipped = {};
  trace.passedOver = false;
  if (!stage.target.itemPart.matches(context(nullptr, &item, now))) {
    return;
  }
  std::vector<std::pair<FullKey, AgentIndex>> eligible;
  for (AgentIndex index = 0; index < agents.size(); ++index) {
    const AgentRecord& agent = agents[index];
    std::optional<Exclusion> reason;
    const bool forced = item.stickyForced && item.sticky == index;
    if (!forced && !siteAllowed(agent, stage)) {
      reason = Exclusion::SiteNotAllowed;
    } else if (!forced && !stage.target.agentPart.matches(context(&agent, nullptr, now))) {
      reason = Exclusion::NotInTarget;
    } else if (auto dynamic = dynamicExclusion(agent, index, item, stage, now)) {
      reason = dynamic;
    } else if (heldForOther(item, index, now)) {
      reason = Exclusion::HeldForPrevious;
    }
    if (reason) {
      trace.excluded.push_back({agent.id, *reason});
    } else {
      eligible.emplace_back(fullKey(index, item, queue), index);
    }
  }
  std::sort(eligible.begin(), eligible.end(), [](const auto& a, const auto& b) {
    return keyLess(a.first, a.second, b.first, b.second);
  });
  if (trace.stickyWinner) {
    auto it = std::find_if(eligible.begin(), eligible.end(),
                           [&](const auto& e) { return e.second == item.sticky; });
    if (it != eligible.end()) {
      std::rotate(eligible.begin(), it, it + 1);
    }
  }
  for (const auto& [key, index] : eligible) {
    traceCandidate(trace, index, key, now);
  }
}

} // namespace switchboard::routing
