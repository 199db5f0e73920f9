#pragma once

// The engine's compact agent: interned names, skills as sorted (symbol, level) pairs, attributes
// as pre-built values, capacity as per-medium counters checked against the agent's mixes.

#include "symbol_table.h"
#include "value.h"

#include "switchboard/message.h"
#include "switchboard/routing/routing_config.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace switchboard::routing {

using AgentIndex = std::uint32_t;
using QueueIndex = std::uint32_t;
using ItemIndex = std::uint32_t;
inline constexpr std::uint32_t kNone = 0xffffffffU;

using MediaCounts = std::array<std::uint8_t, kMaxMedia>;

struct AttributeSlot {
  Symbol name = kNoSymbol;
  Value value;
};

/// Sort key of an agent in one queue stage's index: the indexable keys of the queue's ordering
/// (smaller first), then the agent.
struct IndexKey {
  /// valueBits: the agent stands for values the low bits cannot (see valueBits).
  static constexpr std::uint32_t kUnsureBits = 1U << 31;
  std::array<std::int64_t, kMaxOrderKeys> keys{};
  AgentIndex agent = kNone;
  /// Not part of the key (comparisons ignore it), carried into the agent's ready-index entry in
  /// what was padding: the agent's bits of the queue's ValueSets (see QueueRecord::
  /// entryValueSets) when they fit in 31 bits, else kUnsureBits. A walk then tests
  /// `item.X in agent.Y` from the entry it reads anyway, not from a per-agent array.
  std::uint32_t valueBits = kUnsureBits;
  // Written out: std::array's operators call memcmp, which dominated index updates.
  bool operator<(const IndexKey& other) const {
    for (std::size_t i = 0; i < kMaxOrderKeys; ++i) {
      if (keys[i] != other.keys[i]) {
        return keys[i] < other.keys[i];
      }
    }
    return agent < other.agent;
  }
  bool operator==(const IndexKey& other) const {
    for (std::size_t i = 0; i < kMaxOrderKeys; ++i) {
      if (keys[i] != other.keys[i]) {
        return false;
      }
    }
    return agent == other.agent;
  }
};

struct QueueRecord;
struct Stage;

/// Memberships an agent's masks stand for (AgentRecord::idleMembers ...).
inline constexpr std::size_t kMaskedMemberships = 8;

/// What walks and refiling read of an agent, in one 24-byte record per agent kept beside the
/// agent records: the version its ready-index entries must carry (see ReadyIndex), its room
/// mask (a copy of AgentRecord::room), the flags behind queueAgents(), and the inputs of its
/// ordering keys as of its last refiling. A walk reads all of them for every entry it passes;
/// as separate arrays they were up to three cache misses per entry, now one.
struct AgentHot {
  std::uint32_t version = 0;
  std::uint8_t room = 0;
  std::uint8_t flags = 0;
  std::int32_t contactsToday = 0;
  std::int32_t seniority = 0;
  std::int64_t idleSince = 0;
};

/// One queue with at least one stage whose agent-only conditions the agent meets. 32 bytes,
/// aligned, two to a cache line: refiling an agent reads every membership it has (3.6 in the
/// benchmark), and at a line each they were the largest share of its cache misses. What it
/// needs of the queue (key order, keyInputs) is in the queue record's first line, which every
/// agent of the queue reads, so stays in the cache.
struct alignas(32) Membership {
  QueueRecord* queueRecord = nullptr;
  /// Parts 0 and 1 of the key it is filed under while the agent is indexed; parts from 2 on,
  /// which only orderings of three or more keys have, are in AgentRecord::filedRest.
  std::array<std::int64_t, 2> keys{};
  /// The stages it meets: ReadyIndex::stageBit(s) for each, as its ready-index entry says.
  std::uint32_t stages = 0;
  std::uint32_t valueBits = IndexKey::kUnsureBits; ///< the filed key's IndexKey::valueBits
};
static_assert(sizeof(Membership) == 32, "two memberships to a cache line");
/// Key parts past a membership's two (see Membership::keys).
using FiledRest = std::array<std::int64_t, kMaxOrderKeys - 2>;

/// A list that keeps its first N elements inside its owner's record and, past N, all of them
/// in a vector of its own. An agent record keeps three (its capacity mixes, its unanswered
/// offers, its memberships): each is read by nearly every call about the agent, and in a block
/// of its own each was a cache miss read only after the record's line that points at it.
/// The count and the vector come first, then the inline elements.
template <typename T, std::size_t N>
class InlineList {
 public:
  static constexpr std::size_t kInline = N;
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  const T* begin() const { return count_ <= kInline ? inline_.data() : more_.data(); }
  const T* end() const { return begin() + count_; }
  T* begin() { return count_ <= kInline ? inline_.data() : more_.data(); }
  T* end() { return begin() + count_; }
  const T& operator[](std::size_t i) const { return begin()[i]; }
  T& operator[](std::size_t i) { return begin()[i]; }
  void push_back(const T& element) {
    if (count_ < kInline) {
      inline_[count_] = element;
    } else {
      if (count_ == kInline) {
        more_.assign(inline_.begin(), inline_.end());
      }
      more_.push_back(element);
    }
    ++count_;
  }
  /// Removes element `i`, keeping the order of the others.
  void eraseAt(std::size_t i) {
    T* first = begin();
    std::copy(first + i + 1, first + count_, first + i);
    if (count_ > kInline) {
      more_.pop_back();
      if (count_ - 1 == kInline) {
        std::copy(more_.begin(), more_.end(), inline_.begin());
        more_.clear();
      }
    }
    --count_;
  }
  void clear() {
    count_ = 0;
    more_.clear();
  }

 private:
  std::uint32_t count_ = 0;
  std::vector<T> more_; ///< all elements, once there are more than kInline
  std::array<T, N> inline_{};
};

/// The capacity mixes of an agent (an agent without capacity has one per medium), so that
/// recomputing its room reads no other memory; the common one to three share the count's line.
using MixList = InlineList<MediaCounts, kMaxMedia>;

/// The items of one agent offered and not answered: an offer adds one and its answer removes it.
class ItemList : public InlineList<std::uint32_t, 4> {
 public:
  /// Removes the first `item` (a no-op when absent), keeping the order of the others.
  void erase(std::uint32_t item) {
    const std::uint32_t* at = std::find(begin(), end(), item);
    if (at != end()) {
      eraseAt(static_cast<std::size_t>(at - begin()));
    }
  }
};

/// An agent's memberships. A completion refiles the agent and looks for waiting items in each of
/// its queues, an accept and a decline refile it: the record's lines that hold them load
/// together with its first four (see RoutingEngine::Impl::prefetchMemberships). Aligned to a
/// line in the record, so that the count and the first share a line and two more fill each
/// line after it.
using MembershipList = InlineList<Membership, 6>;

enum class Presence : std::uint8_t { LoggedOut, NotReady, Ready };

/// Aligned to a cache line and ordered by what the calls read: what an offer, an accept and a
/// completion touch lies in the first four lines, which RoutingEngine::Impl::prefetchAgent()
/// loads at once, and the memberships in the three after them (prefetchMemberships()). Keep
/// those fields there.
struct alignas(64) AgentRecord {
  // Line 0: what refiling and a routing decision read and write.
  Presence presence = Presence::LoggedOut;
  bool wrapping = false;
  bool routable = false;
  bool indexed = false;  ///< filed in the ready indexes of its memberships' queues
  std::uint8_t room = 0; ///< bit m: room for one more item of medium slot m (see updateRoom)
  /// Of the first kMaskedMemberships memberships, those whose keys read idle time, contacts
  /// today, the round-robin turn (bit m: memberships[m]): refiling after an accept, which
  /// changes only the contacts, reads only the memberships whose keys read them.
  std::uint8_t idleMembers = 0;
  std::uint8_t contactsMembers = 0;
  std::uint8_t turnMembers = 0;
  AgentState reported = AgentState::LoggedOut;
  MediaCounts held{}; ///< items offered or accepted, per medium slot
  /// heldFor.size(), here so that the backfill after every completion finds nothing held without
  /// reading the line of heldFor (holdFor(), stopHolding() and takeHeld() keep it).
  std::uint32_t heldCount = 0;
  std::int64_t idleSince = 0; ///< ms since the epoch
  int contactsToday = 0;
  std::uint32_t turns = 0; ///< bumped when a queue's round-robin turn for the agent changes
  std::uint32_t offersPending = 0;
  std::uint32_t itemsAccepted = 0;
  // Then (end of line 0, line 1, into line 2): the key inputs as filed, the counters an accept
  // resets, and the capacity mixes.
  /// The key inputs as filed: while they stand, the filed keys stand (profile changes unfile).
  std::int64_t filedIdleSince = 0;
  int filedContacts = 0;
  std::uint32_t filedTurns = 0;
  int seniority = 0;
  int missedInRow = 0;
  Symbol reportedReason = kNoSymbol;
  bool idleKnown = false;
  bool everReady = false;
  MixList mixes;
  // Lines 2 and 3: its id (interned: the view stays valid) and the items offered and not
  // answered: an offer, its answer and their actions read both.
  std::string_view idView;
  ItemList offered; ///< items offered and not answered, in offer order
  // Lines 4 to 7: the queues it may take work from. prefetchMemberships() loads the first three
  // lines for a completion, an accept and a decline, which refile the agent from them (and a
  // completion backfills from them).
  alignas(64) MembershipList memberships;
  std::vector<std::uint32_t> heldFor; ///< waiting items held for it (sticky); see heldCount

  Symbol reason = kNoSymbol;
  Symbol site = kNoSymbol;
  std::uint32_t wrapEpoch = 0;
  std::vector<AttributeSlot> attributes; ///< sorted by name
  std::string id;
  Symbol idSymbol = kNoSymbol;
  Value idValue;
  Value nameValue;
  Value siteValue;
  std::vector<std::pair<Symbol, std::uint8_t>> skills; ///< sorted by symbol
  /// Per membership (same positions): the filed key's parts from 2 on. Read only for queues
  /// whose ordering has more than two keys.
  std::vector<FiledRest> filedRest;
  std::vector<Value> listStore; ///< elements of list attributes
};

// The items held for an agent change only through these three, which keep heldCount.
/// Holds waiting item `item` for the agent (sticky).
inline void holdFor(AgentRecord& agent, std::uint32_t item) {
  agent.heldFor.push_back(item);
  agent.heldCount = static_cast<std::uint32_t>(agent.heldFor.size());
}
/// Holds `item` for the agent no longer.
inline void stopHolding(AgentRecord& agent, std::uint32_t item) {
  std::erase(agent.heldFor, item);
  agent.heldCount = static_cast<std::uint32_t>(agent.heldFor.size());
}
/// Empties the agent's held items and returns them.
inline std::vector<std::uint32_t> takeHeld(AgentRecord& agent) {
  std::vector<std::uint32_t> held = std::move(agent.heldFor);
  agent.heldFor.clear();
  agent.heldCount = 0;
  return held;
}

/// The level of skill `skill`, or -1 when the agent does not have it.
inline int skillLevel(const AgentRecord& agent, Symbol skill) {
  for (const auto& [symbol, level] : agent.skills) {
    if (symbol == skill) {
      return level;
    }
    if (symbol > skill) {
      break;
    }
  }
  return -1;
}

inline const Value* findAttribute(const std::vector<AttributeSlot>& slots, Symbol name) {
  for (const auto& slot : slots) {
    if (slot.name == name) {
      return &slot.value;
    }
  }
  return nullptr;
}

/// Bit m set when byte m of `x` is at least byte m of `y` (unsigned), for all 8 bytes at once:
/// refiling an agent recomputes its room several times per contact, and a loop over every medium
/// of every mix was a tenth of the engine's instructions.
inline unsigned bytesAtLeast(std::uint64_t x, std::uint64_t y) {
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  // Per byte: the high bits decide when they differ, else the low seven bits, subtracted with
  // the high bit set so that no borrow crosses into the next byte.
  const std::uint64_t low = (x | kHigh) - (y & ~kHigh);
  const std::uint64_t atLeast = ((x & ~y) | (~(x ^ y) & low)) & kHigh;
  // Gathers the eight high bits (bit 8m + 7) into bits 0..7.
  return static_cast<unsigned>(((atLeast >> 7) * 0x0102040810204080ULL) >> 56);
}

/// Recomputes agent.room from what it holds; call after every change of `held` or `mixes`.
inline void updateRoom(AgentRecord& agent) {
  static_assert(kMaxMedia == 8 && sizeof(MediaCounts) == 8, "media counts are one 64-bit word");
  // Bit m is set when some mix that holds everything the agent holds allows one more of m.
  unsigned room = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t held = 0;
    std::memcpy(&held, agent.held.data(), sizeof held);
    for (const auto& mix : agent.mixes) {
      std::uint64_t allowed = 0;
      std::memcpy(&allowed, mix.data(), sizeof allowed);
      if (bytesAtLeast(allowed, held) == 0xffU) {
        room |= ~bytesAtLeast(held, allowed) & 0xffU; // allowed > held
      }
    }
  } else {
    for (const auto& mix : agent.mixes) {
      unsigned more = 0;
      bool fits = true;
      for (std::size_t m = 0; m < kMaxMedia; ++m) {
        fits = fits && agent.held[m] <= mix[m];
        more |= mix[m] > agent.held[m] ? 1U << m : 0U;
      }
      if (fits) {
        room |= more;
      }
    }
  }
  agent.room = static_cast<std::uint8_t>(room);
}

/// Free places for medium slot `medium` in the roomiest mix that fits what the agent holds.
inline int freePlaces(const AgentRecord& agent, std::size_t medium) {
  int best = 0;
  for (const auto& mix : agent.mixes) {
    bool fits = true;
    for (std::size_t m = 0; m < kMaxMedia; ++m) {
      if (agent.held[m] > mix[m]) {
        fits = false;
        break;
      }
    }
    if (fits) {
      best = std::max(best, mix[medium] - agent.held[medium]);
    }
  }
  return best;
}

} // namespace switchboard::routing
