#include "lean_router.h"

#include <algorithm>
#include <cstring>

namespace switchboard::bench {

LeanRouter::LeanRouter(const std::vector<QueueSpec>& queues,
                       const std::vector<routing::AgentSpec>& agents, std::int64_t nowMs)
    : history_(1U << 16) {
  queues_.resize(queues.size());
  for (std::size_t q = 0; q < queues.size(); ++q) {
    Queue& queue = queues_[q];
    queue.ordering = queues[q].ordering;
    queue.offerTimeoutMs = queues[q].offerTimeoutMs;
    queue.runs.resize(1);
    if (queue.ordering == Ordering::RoundRobin) {
      queue.turnOf.assign(agents.size(), 0);
    }
    queueIds_.push_back(queues[q].id);
    queueTable_.insert(queues[q].id, static_cast<std::uint32_t>(q));
  }
  auto indexOf = [](std::vector<std::string>& names, const std::string& name) {
    const auto at = std::find(names.begin(), names.end(), name);
    if (at != names.end()) {
      return static_cast<std::size_t>(at - names.begin());
    }
    names.push_back(name);
    return names.size() - 1;
  };
  agents_.resize(agents.size());
  for (std::size_t a = 0; a < agents.size(); ++a) {
    const routing::AgentSpec& spec = agents[a];
    Agent& agent = agents_[a];
    agent.seniority = static_cast<std::uint32_t>(spec.seniority);
    agent.idleSince = nowMs;
    for (const auto& attribute : spec.attributes) {
      if (attribute.name == "languages") {
        for (const auto& language : attribute.values) {
          agent.languages |= 1U << indexOf(languages_, language);
        }
      }
    }
    for (const auto& mix : spec.capacity) {
      if (agent.mixes == agent.limits.size()) {
        break;
      }
      auto& limits = agent.limits[agent.mixes++];
      for (const auto& limit : mix.limits) {
        const std::size_t m = indexOf(media_, limit.medium);
        if (m < kMaxMedia) {
          limits |= static_cast<std::uint32_t>(std::clamp(limit.max, 0, 127)) << (8 * m);
        }
      }
    }
    for (std::size_t q = 0; q < queues.size() && agent.members < kMaxMembers; ++q) {
      for (const auto& skill : spec.skills) {
        if (skill.name == queues[q].skill && skill.level >= queues[q].minLevel) {
          agent.queues[agent.members++] = static_cast<std::uint16_t>(q);
          break;
        }
      }
    }
    refresh(static_cast<std::uint32_t>(a), 0);
  }
}

std::uint8_t LeanRouter::mediumOf(std::string_view medium) const {
  for (std::size_t m = 0; m < media_.size(); ++m) {
    if (media_[m] == medium) {
      return static_cast<std::uint8_t>(m);
    }
  }
  return kMaxMedia; // no agent has room for it
}

std::uint32_t LeanRouter::beginOn(std::string_view itemId, State state) {
  begin();
  const std::uint32_t index =
      itemTable_.find(itemId, [this](std::uint32_t i) { return items_[i].idView(); });
  return index != kNone && items_[index].state == state ? index : kNone;
}

void LeanRouter::record(std::uint32_t item, State state, std::int64_t now) {
  history_[historyNext_] = Step{now, item, state};
  historyNext_ = (historyNext_ + 1) & (history_.size() - 1);
}

std::int64_t LeanRouter::keyOf(const Queue& queue, std::uint32_t agent) const {
  return queue.ordering == Ordering::RoundRobin ? static_cast<std::int64_t>(queue.turnOf[agent])
                                                : agents_[agent].idleSince;
}

LeanRouter::Run& LeanRouter::runOf(Queue& queue, const Agent& agent) {
  std::size_t run = 0;
  if (queue.ordering == Ordering::SeniorityThenIdle) {
    run = 31 - std::min<std::uint32_t>(agent.seniority, 31); // the highest first
  } else if (queue.ordering == Ordering::ContactsThenIdle) {
    run = agent.contacts;
  }
  if (queue.runs.size() <= run) {
    queue.runs.resize(run + 1);
  }
  return queue.runs[run];
}

bool LeanRouter::live(const Queue& queue, std::size_t run, const Entry& entry) const {
  const Agent& agent = agents_[entry.agent];
  if (agent.version != entry.version || entry.key != keyOf(queue, entry.agent)) {
    return false;
  }
  return queue.ordering != Ordering::ContactsThenIdle || agent.contacts == run;
}

void LeanRouter::file(std::uint32_t agent, std::uint32_t queueIndex) {
  Queue& queue = queues_[queueIndex];
  Run& run = runOf(queue, agents_[agent]);
  const Entry entry{agent, agents_[agent].version, keyOf(queue, agent)};
  auto below = [](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : a.agent < b.agent;
  };
  if (run.entries.size() == run.head || !below(entry, run.entries.back())) {
    run.entries.push_back(entry); // idle since now, or a new turn: the end
  } else {
    // One more contact with the old idle time, or an old round-robin turn: in the middle.
    run.entries.insert(std::upper_bound(run.entries.begin() + static_cast<std::ptrdiff_t>(run.head),
                                        run.entries.end(), entry, below),
                       entry);
  }
  if (++queue.filed >= queue.compactAt) {
    compact(queue);
  }
}

void LeanRouter::compact(Queue& queue) {
  std::size_t kept = 0;
  for (std::size_t r = 0; r < queue.runs.size(); ++r) {
    Run& run = queue.runs[r];
    auto& entries = run.entries;
    const auto first = entries.begin() + static_cast<std::ptrdiff_t>(run.head);
    const auto end = std::remove_if(first, entries.end(),
                                    [&](const Entry& entry) { return !live(queue, r, entry); });
    // The live entries to the front (std::move may not write onto its own first element).
    const auto last = run.head > 0 ? std::move(first, end, entries.begin()) : end;
    entries.erase(last, entries.end());
    run.head = 0;
    kept += run.entries.size();
  }
  queue.filed = kept;
  queue.compactAt = 3 * kept + 256;
}

void LeanRouter::refresh(std::uint32_t index, std::uint8_t changed) {
  Agent& agent = agents_[index];
  // A byte per medium, all four at once: a mix gives room where held < limit, if everything
  // held fits it (held <= limit in every byte). High bits mark the bytes that pass.
  constexpr std::uint32_t kHigh = 0x80808080U;
  constexpr std::uint32_t kOnes = 0x01010101U;
  std::uint32_t room = 0;
  for (std::size_t x = 0; x < agent.mixes; ++x) {
    const std::uint32_t limits = agent.limits[x] | kHigh;
    if (((limits - agent.held) & kHigh) == kHigh) {
      room |= (limits - agent.held - kOnes) & kHigh;
    }
  }
  // The high bits (7, 15, 23, 31) to bits 0-3: each lands on its own bit of the product.
  agent.room = static_cast<std::uint8_t>((((room >> 7) * 0x204081U) >> 21) & 0xfU);
  if (room == 0) {
    if (agent.filed) {
      ++agent.version; // its entries go stale; walks and compaction drop them
      agent.filed = false;
    }
    return;
  }
  for (std::size_t m = 0; m < agent.members; ++m) {
    const Queue& queue = queues_[agent.queues[m]];
    // Filed already, an agent needs a new entry only where its key changed: a completion
    // changes its idle time, an accept its contacts, an offer its turn (filed by offer()).
    const std::uint8_t reads = queue.ordering == Ordering::RoundRobin ? 0
                               : queue.ordering == Ordering::ContactsThenIdle
                                   ? kIdleChanged | kContactsChanged
                                   : kIdleChanged;
    if (!agent.filed || (changed & reads) != 0) {
      file(index, agent.queues[m]);
    }
  }
  agent.filed = true;
}

std::uint32_t LeanRouter::choose(Item& item) {
  Queue& queue = queues_[item.queue];
  const auto roomBit = static_cast<std::uint8_t>(1U << item.medium);
  trace_ = Trace{static_cast<std::uint32_t>(&item - items_.data()), kNone, 0, 0};
  for (std::size_t r = 0; r < queue.runs.size(); ++r) {
    Run& run = queue.runs[r];
    auto& entries = run.entries;
    // Live entries walked over move towards the stop point, so that the stale ones end up
    // before the head and no walk reads them again.
    std::size_t kept = run.head;
    std::size_t i = run.head;
    std::uint32_t winner = kNone;
    for (; i < entries.size(); ++i) {
      const Entry entry = entries[i];
      if (i + 3 < entries.size()) {
        __builtin_prefetch(&agents_[entries[i + 3].agent]); // each entry reads its agent
      }
      if (!live(queue, r, entry)) {
        continue;
      }
      entries[kept++] = entry;
      const Agent& agent = agents_[entry.agent];
      ++trace_.looked;
      if ((agent.room & roomBit) == 0) {
        ++trace_.noRoom;
        continue;
      }
      if ((agent.languages & item.language) == 0 ||
          std::find(item.excluded.begin(), item.excluded.begin() + item.excludedCount,
                    entry.agent) != item.excluded.begin() + item.excludedCount) {
        continue;
      }
      winner = entry.agent;
      ++i;
      break;
    }
    const std::size_t dropped = i - kept;
    if (dropped > 0) {
      std::move_backward(entries.begin() + static_cast<std::ptrdiff_t>(run.head),
                         entries.begin() + static_cast<std::ptrdiff_t>(kept),
                         entries.begin() + static_cast<std::ptrdiff_t>(i));
      run.head += dropped;
      queue.filed -= dropped;
    }
    if (winner != kNone) {
      trace_.winner = winner;
      return winner;
    }
  }
  return kNone;
}

void LeanRouter::offer(std::uint32_t index, std::uint32_t agentIndex, std::int64_t now) {
  Item& item = items_[index];
  Agent& agent = agents_[agentIndex];
  Queue& queue = queues_[item.queue];
  item.state = State::Offered;
  item.agent = agentIndex;
  ++item.epoch;
  agent.held += 1U << (8 * item.medium);
  record(index, State::Offered, now);
  const Expiry expiry{now + queue.offerTimeoutMs, index, item.epoch};
  if (expiries_.size() == expiriesHead_ || expiries_.back().at <= expiry.at) {
    expiries_.push_back(expiry);
  } else {
    expiries_.insert(
        std::upper_bound(expiries_.begin() + static_cast<std::ptrdiff_t>(expiriesHead_),
                         expiries_.end(), expiry,
                         [](const Expiry& a, const Expiry& b) { return a.at < b.at; }),
        expiry);
  }
  offers_.push_back(Offer{item.idView(), agentIndex});
  ++offerCount_;
  const bool wasFiled = agent.filed;
  if (queue.ordering == Ordering::RoundRobin) {
    queue.turnOf[agentIndex] = ++queue.turns;
  }
  refresh(agentIndex, 0);
  if (wasFiled && agent.filed && queue.ordering == Ordering::RoundRobin) {
    file(agentIndex, item.queue); // its new turn
  }
}

void LeanRouter::route(std::uint32_t index, std::int64_t now) {
  ++decisions_;
  const std::uint32_t agent = choose(items_[index]);
  if (agent == kNone) {
    Item& item = items_[index];
    item.state = State::Waiting;
    queues_[item.queue].waiting.push_back(index);
    record(index, State::Waiting, now);
    return;
  }
  offer(index, agent, now);
}

void LeanRouter::release(std::uint32_t index, std::uint8_t changed, std::int64_t now) {
  Item& item = items_[index];
  const std::uint32_t agentIndex = item.agent;
  agents_[agentIndex].held -= 1U << (8 * item.medium);
  item.agent = kNone;
  refresh(agentIndex, changed);
  backfill(agentIndex, now);
}

void LeanRouter::backfill(std::uint32_t agentIndex, std::int64_t now) {
  const Agent& agent = agents_[agentIndex];
  for (std::size_t m = 0; m < agent.members && agent.room != 0; ++m) {
    Queue& queue = queues_[agent.queues[m]];
    while (queue.waitingHead < queue.waiting.size()) {
      const std::uint32_t index = queue.waiting[queue.waitingHead];
      const Item& item = items_[index];
      if (item.state != State::Waiting) {
        ++queue.waitingHead; // routed since
        continue;
      }
      if ((agent.room >> item.medium & 1U) == 0 || (agent.languages & item.language) == 0) {
        break; // the oldest waits for another agent
      }
      ++queue.waitingHead;
      ++decisions_;
      offer(index, agentIndex, now);
      break;
    }
  }
}

void LeanRouter::submit(const routing::ItemSpec& spec, std::int64_t now) {
  begin();
  std::uint32_t index = 0;
  if (!freeItems_.empty()) {
    index = freeItems_.back();
    freeItems_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(items_.size());
    items_.emplace_back();
  }
  Item& item = items_[index];
  item.hash = routing::IdTable::hashOf(spec.id);
  item.idSize = static_cast<std::uint8_t>(std::min(spec.id.size(), item.id.size()));
  std::memcpy(item.id.data(), spec.id.data(), item.idSize);
  const std::uint32_t queue = queueTable_.find(
      spec.queue, [this](std::uint32_t q) -> std::string_view { return queueIds_[q]; });
  item.queue = queue == kNone ? 0 : queue;
  item.medium = mediumOf(spec.medium);
  item.language = 0;
  for (const auto& attribute : spec.attributes) {
    if (attribute.name == "language" && !attribute.values.empty()) {
      for (std::size_t l = 0; l < languages_.size(); ++l) {
        if (languages_[l] == attribute.values[0]) {
          item.language = 1U << l;
        }
      }
    }
  }
  item.excludedCount = 0;
  item.agent = kNone;
  item.customerSize =
      static_cast<std::uint8_t>(std::min(spec.customerId.size(), item.customer.size()));
  std::memcpy(item.customer.data(), spec.customerId.data(), item.customerSize);
  item.customerHash = routing::IdTable::hashOf(item.customerView());
  itemTable_.insertHashed(item.hash, index);
  record(index, State::Free, now);
  route(index, now);
}

bool LeanRouter::accept(std::string_view itemId, std::int64_t now) {
  const std::uint32_t index = beginOn(itemId, State::Offered);
  if (index == kNone) {
    return false;
  }
  Item& item = items_[index];
  item.state = State::Accepted;
  ++item.epoch; // its expiry no longer fires
  Agent& agent = agents_[item.agent];
  ++agent.contacts;
  record(index, State::Accepted, now);
  // The customer's last agent, for routing its next item to the same agent.
  const std::uint32_t customer =
      customerTable_.find(item.customerView(), item.customerHash,
                          [this](std::uint32_t c) -> std::string_view { return customers_[c].id; });
  if (customer == kNone) {
    customerTable_.insertHashed(item.customerHash, static_cast<std::uint32_t>(customers_.size()));
    customers_.push_back(Customer{std::string(item.customerView()), item.agent});
  } else {
    customers_[customer].lastAgent = item.agent;
  }
  refresh(item.agent, kContactsChanged);
  return true;
}

void LeanRouter::reroute(std::uint32_t index, std::int64_t now) {
  Item& item = items_[index];
  ++item.epoch;
  if (item.excludedCount < item.excluded.size()) {
    item.excluded[item.excludedCount++] = item.agent;
  }
  record(index, State::Waiting, now);
  release(index, 0, now);
  route(index, now);
}

bool LeanRouter::decline(std::string_view itemId, std::int64_t now) {
  const std::uint32_t index = beginOn(itemId, State::Offered);
  if (index == kNone) {
    return false;
  }
  reroute(index, now);
  return true;
}

bool LeanRouter::complete(std::string_view itemId, std::int64_t now) {
  const std::uint32_t index = beginOn(itemId, State::Accepted);
  if (index == kNone) {
    return false;
  }
  Item& item = items_[index];
  record(index, State::Free, now);
  itemTable_.erase(item.idView(), item.hash,
                   [this](std::uint32_t i) { return items_[i].idView(); });
  item.state = State::Free;
  ++item.epoch;
  agents_[item.agent].idleSince = now;
  freeItems_.push_back(index);
  release(index, kIdleChanged, now);
  return true;
}

void LeanRouter::advance(std::int64_t now) {
  begin();
  while (expiriesHead_ < expiries_.size() && expiries_[expiriesHead_].at <= now) {
    const Expiry expiry = expiries_[expiriesHead_++];
    const Item& item = items_[expiry.item];
    if (item.epoch == expiry.epoch && item.state == State::Offered) {
      reroute(expiry.item, now);
    }
  }
  if (expiriesHead_ > 4096 && 2 * expiriesHead_ > expiries_.size()) {
    expiries_.erase(expiries_.begin(),
                    expiries_.begin() + static_cast<std::ptrdiff_t>(expiriesHead_));
    expiriesHead_ = 0;
  }
}

std::string LeanRouter::checkRuns() const {
  std::vector<std::uint32_t> liveEntries(agents_.size() * kMaxMembers, 0);
  for (std::size_t q = 0; q < queues_.size(); ++q) {
    const Queue& queue = queues_[q];
    for (std::size_t r = 0; r < queue.runs.size(); ++r) {
      const Run& run = queue.runs[r];
      for (std::size_t i = run.head; i < run.entries.size(); ++i) {
        const Entry& entry = run.entries[i];
        if (i > run.head && entry.key < run.entries[i - 1].key) {
          return "queue " + queueIds_[q] + ": a run out of key order";
        }
        if (!live(queue, r, entry)) {
          continue;
        }
        const Agent& agent = agents_[entry.agent];
        const auto member =
            std::find(agent.queues.begin(), agent.queues.begin() + agent.members, q);
        if (member == agent.queues.begin() + agent.members) {
          return "queue " + queueIds_[q] + ": an entry of an agent it does not have";
        }
        ++liveEntries[entry.agent * kMaxMembers +
                      static_cast<std::size_t>(member - agent.queues.begin())];
      }
    }
  }
  for (std::size_t a = 0; a < agents_.size(); ++a) {
    const Agent& agent = agents_[a];
    for (std::size_t m = 0; m < agent.members; ++m) {
      const std::uint32_t expected = agent.room != 0 ? 1 : 0;
      if (liveEntries[a * kMaxMembers + m] != expected) {
        return "agent " + std::to_string(a) + " has " +
               std::to_string(liveEntries[a * kMaxMembers + m]) + " live entries in queue " +
               queueIds_[agent.queues[m]] + ", not " + std::to_string(expected);
      }
    }
  }
  return {};
}

std::optional<std::int64_t> LeanRouter::nextDue() const {
  if (expiriesHead_ == expiries_.size()) {
    return std::nullopt;
  }
  return expiries_[expiriesHead_].at;
}

} // namespace switchboard::bench
