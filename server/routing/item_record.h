#pragma once

// The engine's compact work item: interned medium, attribute values, its place in a queue, the
// agents it must not go to again, and its recorded history.

#include "agent_record.h"
#include "symbol_table.h"
#include "timer_queue.h"
#include "value.h"

#include "switchboard/message.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

struct HistoryStep {
  std::int64_t time = 0;
  WorkItemState state = WorkItemState::New;
  std::string_view cause; ///< a literal or interned text
  QueueIndex queue = kNone;
  AgentIndex agent = kNone;
};

/// Sort key of a waiting item in one queue stage: higher (aged) priority, then earlier arrival,
/// then earlier submission.
struct WaitKey {
  double rank = 0.0; ///< priority minus ageing credit of the arrival time; larger first
  std::int64_t arrival = 0;
  std::uint64_t sequence = 0;
  ItemIndex item = kNone;
  bool operator<(const WaitKey& other) const {
    if (rank != other.rank) {
      return rank > other.rank;
    }
    if (arrival != other.arrival) {
      return arrival < other.arrival;
    }
    return sequence < other.sequence;
  }
};

/// The item's own texts that expressions read (the body is not kept: see EvalContext::body).
/// They lie one after the other at the start of the item's textStore.
enum ItemText : std::uint8_t { kSubject, kFrom, kContactPoint, kCustomerName, kItemTexts };

struct ItemRecord {
  // What finding the item and its accept, completion and timers read and write, together in the
  // first cache lines: an item is found again seconds (accept) or minutes (completion) after it
  // was offered, when its record has left the cache, and spread over the record these fields
  // were a cache miss each.
  bool live = false;
  WorkItemState state = WorkItemState::New;
  std::uint8_t medium = 0;   ///< medium slot
  bool waiting = false;      ///< filed in queue `queue`, stage `stage`
  bool stickyForced = false; ///< a transfer to this agent: the target expression does not apply
  std::uint32_t idHash = 0;  ///< IdTable::hashOf(id): hashed once, for itemById
  std::string id;
  QueueIndex queue = kNone;
  std::uint32_t stage = 0;
  AgentIndex agent = kNone;
  std::uint32_t epoch = 0;   ///< bumped whenever timers set earlier must no longer fire
  AgentIndex sticky = kNone; ///< held for this agent until stickyUntil
  std::uint32_t attempt = 0;
  std::vector<HistoryStep> history;
  /// The expiry timer of its current offer: an accept cancels it, so that it fires without a
  /// look at the item (twenty seconds later the item's record has left the cache).
  TimerHandle offerTimer;
  std::string customer;
  std::int64_t stickyUntil = 0;
  std::vector<AgentIndex> excluded;
  std::int64_t queuedAt = 0;
  WaitKey waitKey;
  int priority = 50;
  int moves = 0; ///< queue moves so far, to stop a loop of queues moving to each other
  std::int64_t arrival = 0;
  std::uint64_t sequence = 0;

  // What expressions read.
  std::vector<char> textStore; ///< the item's texts (see textSizes), then attribute values
  std::array<std::uint16_t, kItemTexts> textSizes{}; ///< 0: the item has no such text
  Symbol mediumSymbol = kNoSymbol;
  std::vector<AttributeSlot> attributes;
  std::vector<Value> listStore; ///< elements of list attributes
  Symbol topic = kNoSymbol;     ///< resolved per queue (skillAttribute) when queued

  /// One of the item's own texts; empty when it has none.
  std::string_view text(ItemText which) const {
    std::size_t offset = 0;
    for (std::size_t i = 0; i < which; ++i) {
      offset += textSizes[i];
    }
    return {textStore.data() + offset, textSizes[which]};
  }
};

} // namespace switchboard::routing
