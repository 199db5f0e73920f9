#include "engine_impl.h"

#include <algorithm>
#include <array>

namespace switchboard::routing {

void RoutingEngine::Impl::unindexAgent(AgentIndex index) {
  AgentRecord& agent = agents[index];
  if (!agent.indexed) {
    return;
  }
  // Its entries go stale with the version; the indexes are not told (see
  // ReadyIndex::compactIfGrown), so that this reads none of them.
  ++agentHot[index].version;
  agent.indexed = false;
}

void RoutingEngine::Impl::refreshAgent(AgentIndex index, std::int64_t now) {
  AgentRecord& agent = agents[index];
  AgentHot& hot = agentHot[index];
  hot.idleSince = agent.idleSince;
  hot.contactsToday = agent.contactsToday;
  hot.seniority = agent.seniority;
  updateRoom(agent);
  // Media the agent has room for now and had not at its last refresh: the room summaries of the
  // ready-index chunks that keep its entries must take them in (see ReadyIndex::widen).
  const auto gained = static_cast<std::uint8_t>(agent.room & ~hot.room);
  hot.room = agent.room;
  agent.routable = agent.presence == Presence::Ready && !agent.wrapping && agent.room != 0;
  hot.flags =
      static_cast<std::uint8_t>((agent.routable ? kRoutableFlag : 0) |
                                (agent.offersPending + agent.itemsAccepted > 0 ? kBusyFlag : 0));
  if (options.matcher == Matcher::Indexed) {
    if (!agent.routable) {
      unindexAgent(index);
    } else if (!agent.indexed || agent.idleSince != agent.filedIdleSince ||
               agent.contactsToday != agent.filedContacts || agent.turns != agent.filedTurns) {
      const std::uint8_t inputs =
          (agent.idleSince != agent.filedIdleSince ? kIdleInput : 0) |
          (agent.contactsToday != agent.filedContacts ? kContactsInput : 0) |
          (agent.turns != agent.filedTurns ? kTurnInput : 0);
      agent.filedIdleSince = agent.idleSince;
      agent.filedContacts = agent.contactsToday;
      agent.filedTurns = agent.turns;
      const std::uint32_t version = hot.version;
      // Memberships whose keys read nothing of what changed need nothing when no room was
      // gained: the masks in the agent's first cache line say which they are, so that they are
      // not read (an accept changes the contacts, which few queues order by).
      std::uint32_t skip = 0;
      if (agent.indexed && gained == 0) {
        const std::uint32_t reads = ((inputs & kIdleInput) != 0 ? agent.idleMembers : 0U) |
                                    ((inputs & kContactsInput) != 0 ? agent.contactsMembers : 0U) |
                                    ((inputs & kTurnInput) != 0 ? agent.turnMembers : 0U);
        const std::size_t masked = std::min(agent.memberships.size(), kMaskedMemberships);
        skip = ((1U << masked) - 1U) & ~reads;
      }
      // Keys first, then the indexes in steps, a batch of memberships at a time (see
      // ReadyIndex::prefetchTail).
      constexpr std::size_t kBatch = 16;
      auto& memberships = agent.memberships;
      for (std::size_t first = 0; first < memberships.size(); first += kBatch) {
        std::array<std::uint32_t, kBatch> batch; ///< positions of memberships to refile
        std::size_t count = 0;
        const std::size_t last = std::min(memberships.size(), first + kBatch);
        for (std::size_t m = first; m < last; ++m) {
          if (m < kMaskedMemberships && (skip >> m & 1U) != 0) {
            continue;
          }
          const Membership& membership = memberships[m];
          const QueueRecord& queue = *membership.queueRecord;
          if (agent.indexed && (queue.keyInputs & inputs) == 0) {
            if (gained != 0) {
              readyOf(membership).widen(filedKey(agent, index, m), gained);
            }
            continue; // none of what its keys read changed
          }
          IndexKey key = indexKey(index, queue);
          key.valueBits = membership.valueBits; // the profile's, unchanged since filed
          if (agent.indexed && key == filedKey(agent, index, m)) {
            if (gained != 0) {
              readyOf(membership).widen(key, gained);
            }
            continue;
          }
          __builtin_prefetch(&readyOf(membership));
          setFiledKey(agent, m, key);
          batch[count++] = static_cast<std::uint32_t>(m);
        }
        for (std::size_t c = 0; c < count; ++c) {
          const Membership& membership = memberships[batch[c]];
          readyOf(membership).prefetchBucket(membership.keys[0]);
        }
        for (std::size_t c = 0; c < count; ++c) {
          const Membership& membership = memberships[batch[c]];
          readyOf(membership).prefetchTail(membership.keys[0]);
        }
        for (std::size_t c = 0; c < count; ++c) {
          const Membership& membership = memberships[batch[c]];
          ReadyIndex& ready = readyOf(membership);
          ready.insert(filedKey(agent, index, batch[c]), version, membership.stages);
          ready.compactIfGrown(currentKey(*membership.queueRecord));
        }
      }
      agent.indexed = true;
    } else if (gained != 0) {
      for (std::size_t m = 0; m < agent.memberships.size(); ++m) {
        readyOf(agent.memberships[m]).widen(filedKey(agent, index, m), gained);
      }
    }
  }
  updateReported(index, now);
}

void RoutingEngine::Impl::updateReported(AgentIndex index, std::int64_t now) {
  AgentRecord& agent = agents[index];
  AgentState state = AgentState::Ready;
  if (agent.presence == Presence::LoggedOut) {
    state = AgentState::LoggedOut;
  } else if (agent.itemsAccepted > 0) {
    state = AgentState::Busy;
  } else if (agent.offersPending > 0) {
    state = AgentState::Reserved;
  } else if (agent.wrapping) {
    state = AgentState::WrapUp;
  } else if (agent.presence == Presence::NotReady) {
    state = AgentState::NotReady;
  }
  const Symbol reason = state == AgentState::NotReady ? agent.reason : kNoSymbol;
  if (state == agent.reported && reason == agent.reportedReason) {
    return;
  }
  AgentChanged changed;
  // From the dense array, not agent.idView: a completion reads no other field of that line.
  changed.agentId = agentIds[index];
  changed.state = state;
  changed.previous = agent.reported;
  changed.reason = symbols.text(reason);
  changed.time = fromMs(now);
  agent.reported = state;
  agent.reportedReason = reason;
  actions.emplace_back(changed);
}

void RoutingEngine::Impl::setPresence(AgentIndex index, Presence presence, Symbol reason,
                                      std::int64_t now) {
  AgentRecord& agent = agents[index];
  const Presence previous = agent.presence;
  agent.presence = presence;
  agent.reason = presence == Presence::NotReady ? reason : kNoSymbol;
  if (presence == Presence::Ready && previous != Presence::Ready) {
    // Time on a break does not count as idle time, except before the first login when the
    // CRM told us when the agent's last contact ended.
    if (agent.everReady || !agent.idleKnown) {
      agent.idleSince = now;
    }
    agent.idleKnown = true;
    agent.everReady = true;
    agent.missedInRow = 0;
  }
  refreshAgent(index, now);
  if (presence != Presence::Ready && previous == Presence::Ready) {
    const std::vector<ItemIndex> offered(agent.offered.begin(), agent.offered.end());
    for (const ItemIndex item : offered) {
      releaseOffer(item);
      refreshAgent(index, now);
      enqueue(item, items[item].queue, now, "agentUnavailable", false);
    }
    const std::vector<ItemIndex> held = takeHeld(agent);
    for (const ItemIndex item : held) {
      ItemRecord& record = items[item];
      if (record.live && record.waiting && record.sticky == index) {
        clearSticky(item);
        routeItem(item, now);
      }
    }
  }
  if (agent.routable) {
    backfill(index, now);
  }
}

void RoutingEngine::Impl::releaseOffer(ItemIndex index) {
  ItemRecord& item = items[index];
  AgentRecord& agent = agents[item.agent];
  --agent.held[item.medium];
  --agent.offersPending;
  agent.offered.erase(index);
  item.agent = kNone;
}

void RoutingEngine::Impl::releaseAccepted(ItemRecord& item, std::int64_t now) {
  AgentRecord& agent = agents[item.agent];
  --agent.held[item.medium];
  --agent.itemsAccepted;
  agent.idleSince = now;
  agent.idleKnown = true;
  item.agent = kNone;
}

void RoutingEngine::Impl::backfill(AgentIndex index, std::int64_t now) {
  struct Candidate {
    ItemIndex item = kNone;
    double priority = 0.0;
  };
  auto better = [&](const Candidate& a, const Candidate& b) {
    if (b.item == kNone) {
      return true;
    }
    if (a.priority != b.priority) {
      return a.priority > b.priority;
    }
    const ItemRecord& x = items[a.item];
    const ItemRecord& y = items[b.item];
    if (x.arrival != y.arrival) {
      return x.arrival < y.arrival;
    }
    return x.sequence < y.sequence;
  };
  auto firstTaker = [&](const Stage& stage, const QueueRecord& queue, Candidate& best) {
    for (const WaitKey& key : stage.waiting) {
      if (takes(items[key.item], index, now)) {
        Candidate candidate{key.item, key.rank + queue.ageingPerMs * static_cast<double>(now) +
                                          queue.priority};
        if (better(candidate, best)) {
          best = candidate;
        }
        return;
      }
    }
  };
  while (agents[index].routable) {
    Candidate best;
    // heldCount first: nothing is held nearly always, and heldFor is in a line of the record
    // that a completion does not otherwise read.
    if (agents[index].heldCount != 0) {
      for (const ItemIndex item : agents[index].heldFor) {
        const ItemRecord& record = items[item];
        if (record.live && record.waiting && record.sticky == index && takes(record, index, now)) {
          const QueueRecord& queue = *queues[record.queue];
          Candidate candidate{item, record.waitKey.rank +
                                        queue.ageingPerMs * static_cast<double>(now) +
                                        queue.priority};
          if (better(candidate, best)) {
            best = candidate;
          }
        }
      }
    }
    if (options.matcher == Matcher::Indexed) {
      // Most queues have nobody waiting, which their records say without a look at the
      // stages; the memberships come first so that the reads of the records overlap.
      const auto& memberships = agents[index].memberships;
      for (const auto& membership : memberships) {
        __builtin_prefetch(&membership.queueRecord->waitingCount);
      }
      for (const auto& membership : memberships) {
        const QueueRecord& queue = *membership.queueRecord;
        if (queue.waitingCount == 0) {
          continue;
        }
        for (std::uint32_t s = 0; s < queue.stages.size(); ++s) {
          const Stage& stage = *queue.stages[s];
          if ((membership.stages & ReadyIndex::stageBit(s)) == 0 || stage.waiting.empty()) {
            continue;
          }
          // Bit 31 stands for every stage from 31 on: those check the agent itself.
          if (s >= 31 && !staticEligible(agents[index], stage)) {
            continue;
          }
          firstTaker(stage, queue, best);
        }
      }
    } else {
      for (const auto& queue : queues) {
        for (const auto& stage : queue->stages) {
          if (!stage->waiting.empty() && staticEligible(agents[index], *stage)) {
            firstTaker(*stage, *queue, best);
          }
        }
      }
    }
    if (best.item == kNone) {
      return;
    }
    ++decisionCount;
    ItemRecord& record = items[best.item];
    if (record.sticky != kNone && record.sticky != index) {
      clearSticky(best.item); // the hold had lapsed; see heldForOther()
    }
    ++record.attempt;
    Trace* trace = newTrace(record, now);
    if (trace != nullptr) {
      trace->outcome = TraceOutcome::Offered;
      trace->stickyWinner = record.sticky == index;
      if (options.trace == TraceLevel::Full) {
        fillFullTrace(record, now, *trace);
      } else {
        traceCandidate(*trace, index, fullKey(index, record, *queues[record.queue]), now);
      }
    }
    offer(best.item, index, now, trace);
  }
}

} // namespace switchboard::routing
