#pragma once

// Agents of one queue that can take work now, in the order of the queue's ordering. The stages
// of a queue share its ordering, so one index serves several stages: each entry carries the set
// of stages whose agent-only conditions its agent meets (bit s for stage s, bit 31 for stage 31
// and later), and a reader for one stage passes over the entries of the others without reading
// anything else. So an agent is filed once per queue (see QueueRecord), not once per stage.
//
// Removal is lazy. The engine keeps one version number per agent and bumps it whenever the
// agent stops being routable; an entry is live while the agent's version is the one it was filed
// with and its key is still the agent's key for this queue (a key that changes while the agent
// stays routable gets a new entry; keys only grow while an agent stays filed, so an old entry
// never becomes current again). Readers skip stale entries and move those they walk over out of
// the way, and the index compacts itself when stale entries make up two thirds of it. So an offer
// costs a version bump instead of an erase from every index the agent is in.
//
// Entries are grouped in buckets by their first key when that key takes few values (seniority,
// contacts today, a fixed skill's level; past kMaxBuckets values the index falls back to one
// bucket); inside a bucket they are sorted by the whole key, in chunks of at most 2 * kChunk
// entries so that filing in the middle (an agent coming back with an old round-robin turn) moves
// little memory. Filing at the end (idle since now) is an append.
//
// Each chunk also keeps a room summary: a superset of the room masks (AgentHot::room) of the
// agents of its live entries. A walk for an item of one medium passes over a chunk whose summary
// lacks that medium without reading its entries or their agents: agents who hold chats have no
// room for a call and gather at the front of longest-idle orderings, and every call's walk read
// them again. Filing ORs the agent's room in; the engine widens the summaries of an agent's
// entries when its room grows without a refiling (widen()); a walk that reads a whole chunk
// narrows its summary to the rooms it saw.

#include "agent_record.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace switchboard::routing {

class ReadyIndex {
 public:
  enum class Layout : std::uint8_t {
    Sorted,   ///< one bucket, sorted by the key
    Bucketed, ///< buckets by keys[0], each sorted by the key
    Unsorted, ///< one bucket in filing order: readers look at every entry anyway
  };

  /// Every stage: what an entry filed without a stage set belongs to.
  static constexpr std::uint32_t kAllStages = 0xffffffffU;

  /// The bit of stage `stage` in a stage set.
  static constexpr std::uint32_t stageBit(std::uint32_t stage) {
    return 1U << (stage < 31 ? stage : 31);
  }

  ReadyIndex(Layout layout, const std::vector<std::uint32_t>* versions)
      : layout_(layout), versions_(versions) {}
  /// Versions read from the engine's per-agent records (AgentHot::version).
  ReadyIndex(Layout layout, const std::vector<AgentHot>* agents)
      : layout_(layout), agents_(agents) {}

  /// Files `key.agent` at `version`, its current one, for the stages in `stages`.
  void insert(const IndexKey& key, std::uint32_t version, std::uint32_t stages = kAllStages) {
    Bucket& bucket = bucketFor(key.keys[0]);
    auto& chunks = bucket.chunks;
    const Entry entry{key, version, stages};
    const std::uint8_t room = roomOf(key.agent);
    ++size_;
    if (chunks.empty()) {
      newChunk(chunks, entry, room);
      return;
    }
    if (layout_ == Layout::Unsorted || !(key < chunks.back().last)) {
      Chunk& last = chunks.back();
      if (last.entries.size() - last.head >= 2 * kChunk) {
        newChunk(chunks, entry, room);
      } else {
        makeRoom(last);
        last.entries.push_back(entry);
        last.last = key;
        last.room |= room;
        ++last.live;
      }
      return;
    }
    // The first chunk whose last key is above this one.
    auto it = std::upper_bound(chunks.begin(), chunks.end(), key,
                               [](const IndexKey& k, const Chunk& c) { return k < c.last; });
    Chunk& chunk = *it;
    auto& entries = chunk.entries;
    makeRoom(chunk);
    chunk.room |= room;
    ++chunk.live;
    const auto first = entries.begin() + static_cast<std::ptrdiff_t>(chunk.head);
    auto at = std::upper_bound(first, entries.end(), key,
                               [](const IndexKey& k, const Entry& e) { return k < e.key; });
    if (at == first && chunk.head > 0) {
      entries[--chunk.head] = entry;
      return;
    }
    entries.insert(at, entry);
    if (entries.size() - chunk.head > 2 * kChunk) {
      Chunk upper;
      const auto middle = entries.begin() + static_cast<std::ptrdiff_t>(chunk.head + kChunk);
      upper.entries.assign(middle, entries.end());
      upper.last = upper.entries.back().key;
      // Both halves keep the whole summary (a superset) and share its count.
      upper.room = chunk.room;
      upper.live =
          std::min<std::uint32_t>(chunk.live, static_cast<std::uint32_t>(upper.entries.size()));
      chunk.live -= upper.live;
      entries.erase(middle, entries.end());
      chunk.last = entries.back().key;
      chunks.insert(it + 1, std::move(upper));
    }
  }

  /// Files an entry without keeping the order; sortAll() must follow before the next read.
  void append(const IndexKey& key, std::uint32_t version, std::uint32_t stages = kAllStages) {
    auto& chunks = bucketFor(key.keys[0]).chunks;
    if (chunks.empty()) {
      chunks.emplace_back();
    }
    chunks.back().entries.push_back(Entry{key, version, stages}); // sortAll() sets `last`
    ++size_;
  }
  void sortAll() {
    size_ = 0;
    stale_ = 0;
    for (Bucket& bucket : buckets_) {
      rechunk(bucket, true, [](const Entry&) { return true; });
    }
  }

  /// One of the filed entries went stale; current(key) as for forEach().
  template <typename Current>
  void markStale(Current&& current) {
    ++stale_;
    if (stale_ > 256 && stale_ * 3 > size_ * 2) {
      // Checking keys reads every agent: only every 8th compaction does, the others drop the
      // entries of agents that stopped being routable (the bulk) from the versions alone.
      const bool keys = (++compactions_ & 7U) == 0;
      size_ = 0;
      for (Bucket& bucket : buckets_) {
        rechunk(bucket, false, [&](const Entry& e) {
          return versionOf(e.key.agent) == e.version && (!keys || current(e.key));
        });
      }
      stale_ = 0;
    }
  }

  /// Calls visit(key) (or visit(agent)) for live entries in order until it returns true;
  /// current(key) says whether a version-live entry's key is still the agent's key.
  template <typename Current, typename Visit>
  void forEach(Current&& current, Visit&& visit) const {
    forEach(kAllStages, current, visit);
  }

  /// forEach() over the entries filed for a stage in `stages` (see stageBit()); the others are
  /// passed over, and kept unless their version is out of date.
  template <typename Current, typename Visit>
  void forEach(std::uint32_t stages, Current&& current, Visit&& visit) const {
    forEach(stages, 0, current, visit, [](std::uint32_t, const IndexKey&) {});
  }

  /// forEach() for an item that needs room `room` (a medium's bit of AgentHot::room; 0: any):
  /// chunks whose room summary lacks it are passed over unread, with skip(agents, lastKey): the
  /// live entries they held when a walk last read them (plus those filed since), and a key no
  /// less than theirs and no greater than those after them.
  template <typename Current, typename Visit, typename Skip>
  void forEach(std::uint32_t stages, std::uint8_t room, Current&& current, Visit&& visit,
               Skip&& skip) const {
    const bool summaries = room != 0 && layout_ != Layout::Unsorted;
    for (Bucket& bucket : buckets_) {
      auto& chunks = bucket.chunks;
      for (std::size_t c = 0; c < chunks.size();) {
        Chunk& chunk = chunks[c];
        if (summaries && (chunk.room & room) == 0) {
          skip(chunk.live, chunk.last);
          ++c;
          continue;
        }
        auto& entries = chunk.entries;
        std::uint8_t seenRoom = 0;
        std::uint32_t seenLive = 0;
        // Live entries walked are packed towards the stop point, so the stale ones walked over
        // end up before the head: no reader walks over them again.
        std::size_t kept = chunk.head;
        std::size_t i = chunk.head;
        bool done = false;
        for (; i < entries.size(); ++i) {
          const Entry& entry = entries[i];
          if (versionOf(entry.key.agent) != entry.version) {
            continue;
          }
          // Until a stale entry is met, kept == i and live entries stay where they are.
          if ((entry.stages & stages) == 0) {
            if (kept != i) {
              entries[kept] = entry; // another stage's: its key is not worth a read here
            }
            ++kept;
            seenRoom |= roomOf(entry.key.agent);
            ++seenLive;
            continue;
          }
          if (!current(entry.key)) {
            continue;
          }
          if (kept != i) {
            entries[kept] = entry;
          }
          ++kept;
          seenRoom |= roomOf(entry.key.agent);
          ++seenLive;
          if (visitEntry(visit, entry.key)) {
            ++i;
            done = true;
            break;
          }
        }
        const std::size_t dropped = i - kept;
        if (dropped > 0) {
          const auto begin = entries.begin();
          std::move_backward(begin + static_cast<std::ptrdiff_t>(chunk.head),
                             begin + static_cast<std::ptrdiff_t>(kept),
                             begin + static_cast<std::ptrdiff_t>(i));
          chunk.head += dropped;
          size_ -= dropped;
          stale_ -= std::min(stale_, dropped);
        }
        if (i == entries.size()) {
          // Every entry was read: the summary narrows to what they hold now.
          chunk.room = seenRoom;
          chunk.live = seenLive;
        }
        if (chunk.head == entries.size()) {
          chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(c));
        } else {
          // The gone entries before the head stay until an insert needs their room (see
          // makeRoom): moving the rest of the chunk down here made walks write whole chunks.
          ++c;
        }
        if (done) {
          return;
        }
      }
    }
  }

  std::size_t size() const { return size_ - stale_; }

  /// The agent filed under `key` has gained room `gained` (AgentHot::room bits) while its entry
  /// stays: the summaries of the chunks that may hold the entry take it in, so that walks read
  /// them again. Finding the chunk is a binary search over the bucket's chunks.
  void widen(const IndexKey& key, std::uint8_t gained) {
    if (layout_ == Layout::Unsorted) {
      return; // walks of unsorted indexes read every entry
    }
    const std::int64_t first = layout_ == Layout::Bucketed ? key.keys[0] : 0;
    if (first < base_ || first - base_ >= static_cast<std::int64_t>(buckets_.size())) {
      return;
    }
    auto& chunks = buckets_[static_cast<std::size_t>(first - base_)].chunks;
    auto it = std::lower_bound(chunks.begin(), chunks.end(), key,
                               [](const Chunk& c, const IndexKey& k) { return c.last < k; });
    // A chunk whose last key equals this one may be followed by the chunk that holds the entry.
    for (; it != chunks.end(); ++it) {
      it->room |= gained;
      if (key < it->last) {
        break;
      }
    }
  }

  // Filing an agent again touches a chain of cache lines in each of its ~7 indexes. The engine
  // walks its memberships once per step below, so that the misses of one step overlap across
  // indexes instead of queueing up behind each other.
  void prefetchBucket(std::int64_t firstKey) const {
    const std::int64_t key = layout_ == Layout::Bucketed ? firstKey : 0;
    if (key >= base_ && key - base_ < static_cast<std::int64_t>(buckets_.size())) {
      __builtin_prefetch(&buckets_[static_cast<std::size_t>(key - base_)]);
    }
  }
  void prefetchTail(std::int64_t firstKey) const {
    const std::int64_t key = layout_ == Layout::Bucketed ? firstKey : 0;
    if (key >= base_ && key - base_ < static_cast<std::int64_t>(buckets_.size())) {
      const auto& chunks = buckets_[static_cast<std::size_t>(key - base_)].chunks;
      if (!chunks.empty()) {
        __builtin_prefetch(&chunks.back());
      }
    }
  }

 private:
  /// visit(key) when the visitor takes the entry's key (and the value bits it carries), else
  /// visit(agent).
  template <typename Visit>
  static bool visitEntry(Visit& visit, const IndexKey& key) {
    if constexpr (std::is_invocable_v<Visit&, const IndexKey&>) {
      return visit(key);
    } else {
      return visit(key.agent);
    }
  }

  /// 16 to 32 entries (768 B to 1.5 KB) per chunk: filing an agent with an old round-robin turn
  /// moves half a chunk, and with 32 to 64 those moves were most of the index's cache misses.
  static constexpr std::size_t kChunk = 16;
  static constexpr std::size_t kMaxBuckets = 64;

  struct Entry {
    IndexKey key;
    std::uint32_t version = 0;
    std::uint32_t stages = kAllStages; ///< stage set (fits in the padding after `version`)
  };
  struct Chunk {
    std::vector<Entry> entries;
    std::size_t head = 0; ///< entries before it are gone
    /// The key of its last entry, or one that was: removals leave it, and it stays no greater
    /// than any key of the next chunk, which is all that finding a chunk needs.
    IndexKey last;
    /// A superset of the room masks of the agents of its live entries (see the file comment).
    std::uint8_t room = 0;
    /// Its live entries when a walk last read them all, plus those filed since: what a trace
    /// counts for the chunk when a walk passes over it unread.
    std::uint32_t live = 0;
  };
  struct Bucket {
    std::vector<Chunk> chunks; ///< in key order, none empty
  };

  /// Before an insert into `chunk`: when it is full, drops the gone entries before its head
  /// instead of letting the vector grow.
  static void makeRoom(Chunk& chunk) {
    auto& entries = chunk.entries;
    if (chunk.head > 0 && entries.size() == entries.capacity()) {
      entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(chunk.head));
      chunk.head = 0;
    }
  }

  /// A chunk at the end holding `entry`, with room for its largest size: it never reallocates.
  static void newChunk(std::vector<Chunk>& chunks, const Entry& entry, std::uint8_t room) {
    Chunk& chunk = chunks.emplace_back();
    chunk.entries.reserve(2 * kChunk + 1);
    chunk.entries.push_back(entry);
    chunk.last = entry.key;
    chunk.room = room;
    chunk.live = 1;
  }

  /// Buckets are indexed by first key minus the smallest first key seen (keys bucketed on span
  /// a few dozen values); without buckets there is one.
  Bucket& bucketFor(std::int64_t firstKey) {
    // Nearly always the bucket exists already: that check is all an insert pays inline.
    const std::int64_t key = layout_ == Layout::Bucketed ? firstKey : 0;
    if (key >= base_ && key - base_ < static_cast<std::int64_t>(buckets_.size())) [[likely]] {
      return buckets_[static_cast<std::size_t>(key - base_)];
    }
    return addBucket(firstKey);
  }

  /// bucketFor() when the key's bucket does not exist yet.
  [[gnu::noinline]] Bucket& addBucket(std::int64_t firstKey) {
    if (layout_ == Layout::Bucketed && !buckets_.empty() &&
        std::max(base_ + static_cast<std::int64_t>(buckets_.size()) - 1, firstKey) -
                std::min(base_, firstKey) >=
            static_cast<std::int64_t>(kMaxBuckets)) {
      // Too many distinct first keys to walk their buckets: one sorted bucket instead. The
      // buckets hold entries in key order already.
      Bucket all;
      for (Bucket& bucket : buckets_) {
        for (Chunk& chunk : bucket.chunks) {
          all.chunks.push_back(std::move(chunk));
        }
      }
      buckets_.assign(1, std::move(all));
      base_ = 0;
      layout_ = Layout::Sorted;
    }
    const std::int64_t key = layout_ == Layout::Bucketed ? firstKey : 0;
    if (buckets_.empty()) {
      base_ = key;
    }
    if (key < base_) {
      buckets_.insert(buckets_.begin(), static_cast<std::size_t>(base_ - key), Bucket{});
      base_ = key;
    }
    const auto at = static_cast<std::size_t>(key - base_);
    if (at >= buckets_.size()) {
      buckets_.resize(at + 1);
    }
    return buckets_[at];
  }

  /// Keeps the entries `keep` accepts (sorted first when `sort`), in chunks of kChunk.
  template <typename Keep>
  void rechunk(Bucket& bucket, bool sort, Keep&& keep) {
    std::vector<Entry> all;
    for (Chunk& chunk : bucket.chunks) {
      for (std::size_t i = chunk.head; i < chunk.entries.size(); ++i) {
        if (keep(chunk.entries[i])) {
          all.push_back(chunk.entries[i]);
        }
      }
    }
    if (sort && layout_ != Layout::Unsorted) {
      std::sort(all.begin(), all.end(),
                [](const Entry& a, const Entry& b) { return a.key < b.key; });
    }
    bucket.chunks.clear();
    for (std::size_t i = 0; i < all.size(); i += kChunk) {
      const auto from = all.begin() + static_cast<std::ptrdiff_t>(i);
      const auto to = all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + kChunk));
      Chunk& chunk = bucket.chunks.emplace_back();
      chunk.entries.assign(from, to);
      chunk.last = chunk.entries.back().key;
      for (const Entry& entry : chunk.entries) {
        chunk.room |= roomOf(entry.key.agent);
      }
      chunk.live = static_cast<std::uint32_t>(chunk.entries.size());
    }
    size_ += all.size();
  }

  Layout layout_;
  std::uint32_t versionOf(AgentIndex agent) const {
    return agents_ != nullptr ? (*agents_)[agent].version : (*versions_)[agent];
  }
  /// The agent's room mask; every medium when the index reads bare versions (no summaries).
  std::uint8_t roomOf(AgentIndex agent) const {
    return agents_ != nullptr ? (*agents_)[agent].room : std::uint8_t{0xff};
  }

  const std::vector<std::uint32_t>* versions_ = nullptr;
  const std::vector<AgentHot>* agents_ = nullptr;
  mutable std::vector<Bucket> buckets_; ///< buckets_[k]: first key base_ + k
  std::int64_t base_ = 0;
  mutable std::size_t size_ = 0;  ///< entries filed and not dropped, stale ones included
  mutable std::size_t stale_ = 0; ///< of which stale (as far as known)
  std::uint32_t compactions_ = 0;
};

} // namespace switchboard::routing
