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
// the way, and the index compacts itself when stale entries make up about two thirds of it: the
// engine does not tell it of each stale entry (markStale()), since telling read the index of
// every queue of an agent that an offer left without room; it compacts once it has grown to
// three times what its last compaction kept (compactIfGrown()). So an offer costs a version bump
// instead of an erase from every index the agent is in, and reads none of them.
//
// Entries are grouped in buckets by their first key when that key takes few values (seniority,
// contacts today, a fixed skill's level; past kMaxBuckets values the index falls back to one
// bucket); inside a bucket they are sorted by the whole key, in chunks of at most 2 * kChunk
// entries so that filing in the middle (an agent coming back with an old round-robin turn) moves
// little memory. Filing at the end (idle since now) is an append. An entry is 24 bytes: one part
// of its key (the lead: the one that varies inside a bucket) as a word, its agent, version,
// stage set and value bits; a bucket keeps the leads of its chunks' last keys in a dense array.
// So filing in the middle searches a few cache lines of leads and a chunk of 768 bytes at most,
// where whole keys in the entries and the chunk records made it about ten misses.
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
#include <array>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace switchboard::routing {

class alignas(64) ReadyIndex {
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
    Bucket& bucket = bucketFor(key.keys[0]); // first: it may change the layout
    if (!wide_ && hasRest(key)) [[unlikely]] {
      becomeWide();
    }
    auto& chunks = bucket.chunks;
    const Entry entry = entryOf(key, version, stages);
    const std::uint8_t room = roomOf(key.agent);
    ++size_;
    if (chunks.empty()) {
      newChunk(bucket, key, entry, room);
      return;
    }
    // The leads decide nearly always, without a read of the last chunk's `last`.
    const std::uint64_t lastLead = bucket.tailLead;
    if (layout_ == Layout::Unsorted || entry.lead > lastLead ||
        (entry.lead == lastLead && !(key < chunks.back().last))) {
      Chunk& last = chunks.back();
      if (last.entries.size() - last.head >= 2 * kChunk) {
        newChunk(bucket, key, entry, room);
      } else {
        makeRoom(last);
        last.entries.push_back(entry);
        if (wide_) {
          last.rest.push_back(restOf(key));
        }
        last.last = key;
        bucket.tailLead = entry.lead; // lastLeads.back() catches up when it is read
        last.room |= room;
        ++last.live;
      }
      return;
    }
    bucket.lastLeads.back() = bucket.tailLead;
    const std::size_t c = chunkAbove(bucket, key);
    Chunk& chunk = chunks[c];
    makeRoom(chunk);
    chunk.room |= room;
    ++chunk.live;
    const std::size_t at = entryAbove(chunk, key);
    if (at == chunk.head && chunk.head > 0) {
      --chunk.head;
      chunk.entries[chunk.head] = entry;
      if (wide_) {
        chunk.rest[chunk.head] = restOf(key);
      }
      return;
    }
    chunk.entries.insert(chunk.entries.begin() + static_cast<std::ptrdiff_t>(at), entry);
    if (wide_) {
      chunk.rest.insert(chunk.rest.begin() + static_cast<std::ptrdiff_t>(at), restOf(key));
    }
    if (chunk.entries.size() - chunk.head > 2 * kChunk) {
      split(bucket, c, key.keys[0]);
    }
  }

  /// Files an entry without keeping the order; sortAll() must follow before the next read.
  void append(const IndexKey& key, std::uint32_t version, std::uint32_t stages = kAllStages) {
    pending_.push_back(Full{key, version, stages});
  }
  void sortAll() {
    std::vector<Full> all = std::move(pending_);
    pending_.clear();
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      collect(buckets_[b], firstKeyOf(b), all, [](const Full&) { return true; });
    }
    if (layout_ != Layout::Unsorted) {
      std::sort(all.begin(), all.end(), [](const Full& a, const Full& b) { return a.key < b.key; });
    }
    buckets_.clear();
    base_ = 0;
    wide_ = false;
    size_ = 0;
    stale_ = 0;
    for (const Full& full : all) {
      insert(full.key, full.version, full.stages);
    }
    compactAt_ = 3 * size_ + kMinGrowth;
  }

  /// One of the filed entries went stale; current(key) as for forEach(). The index compacts
  /// itself when stale entries make up two thirds of it.
  template <typename Current>
  void markStale(Current&& current) {
    ++stale_;
    if (stale_ > kMinGrowth && stale_ * 3 > size_ * 2) {
      compactAll(current);
    }
  }

  /// For a caller that does not tell of each entry going stale (telling reads the index for
  /// every queue of an agent that an offer leaves without room): compacts once the index has
  /// grown to three times the entries its last compaction kept, plus kMinGrowth. Entries go
  /// stale about as often as entries are filed, so that is about when markStale() would find
  /// two thirds of them stale.
  template <typename Current>
  void compactIfGrown(Current&& current) {
    if (size_ >= compactAt_) {
      compactAll(current);
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
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      Bucket& bucket = buckets_[b];
      const std::int64_t first = firstKeyOf(b);
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
          if (versionOf(entry.agent) != entry.version) {
            continue;
          }
          // Until a stale entry is met, kept == i and live entries stay where they are.
          if ((entry.stages & stages) == 0) {
            if (kept != i) {
              moveEntry(chunk, i, kept); // another stage's: its key is not worth a read here
            }
            ++kept;
            seenRoom |= roomOf(entry.agent);
            ++seenLive;
            continue;
          }
          const IndexKey key = keyAt(first, chunk, i);
          if (!current(key)) {
            continue;
          }
          if (kept != i) {
            moveEntry(chunk, i, kept);
          }
          ++kept;
          seenRoom |= roomOf(key.agent);
          ++seenLive;
          if (visitEntry(visit, key)) {
            ++i;
            done = true;
            break;
          }
        }
        const std::size_t dropped = i - kept;
        if (dropped > 0) {
          const auto head = static_cast<std::ptrdiff_t>(chunk.head);
          const auto end = static_cast<std::ptrdiff_t>(kept);
          const auto to = static_cast<std::ptrdiff_t>(i);
          std::move_backward(entries.begin() + head, entries.begin() + end, entries.begin() + to);
          if (wide_) {
            std::move_backward(chunk.rest.begin() + head, chunk.rest.begin() + end,
                               chunk.rest.begin() + to);
          }
          chunk.head += static_cast<std::uint32_t>(dropped);
          size_ -= dropped;
          stale_ -= std::min(stale_, dropped);
        }
        if (i == entries.size()) {
          // Every entry was read: the summary narrows to what they hold now.
          chunk.room = seenRoom;
          chunk.live = seenLive;
        }
        if (chunk.head == entries.size()) {
          const bool tail = c + 1 == chunks.size();
          chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(c));
          bucket.lastLeads.erase(bucket.lastLeads.begin() + static_cast<std::ptrdiff_t>(c));
          if (tail) {
            bucket.syncTail(); // the leads before the last are always up to date
          }
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

  /// Entries filed, less those known to be stale: exact for a caller that calls markStale()
  /// for each, an upper bound otherwise.
  std::size_t size() const { return size_ - stale_ + pending_.size(); }

  /// The agent filed under `key` has gained room `gained` (AgentHot::room bits) while its entry
  /// stays: the summaries of the chunks that may hold the entry take it in, so that walks read
  /// them again. Finding the chunk is a binary search over the bucket's last leads.
  void widen(const IndexKey& key, std::uint8_t gained) {
    if (layout_ == Layout::Unsorted) {
      return; // walks of unsorted indexes read every entry
    }
    const std::int64_t first = layout_ == Layout::Bucketed ? key.keys[0] : 0;
    if (first < base_ || first - base_ >= static_cast<std::int64_t>(buckets_.size())) {
      return;
    }
    Bucket& bucket = buckets_[static_cast<std::size_t>(first - base_)];
    auto& chunks = bucket.chunks;
    if (chunks.empty()) {
      return;
    }
    bucket.lastLeads.back() = bucket.tailLead;
    // A chunk whose last key equals this one may be followed by the chunk that holds the entry.
    for (std::size_t c = chunkNotBelow(bucket, key); c < chunks.size(); ++c) {
      chunks[c].room |= gained;
      if (key < chunks[c].last) {
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
      const Bucket& bucket = buckets_[static_cast<std::size_t>(key - base_)];
      if (!bucket.chunks.empty()) {
        __builtin_prefetch(&bucket.chunks.back());
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

  /// 16 to 32 entries (384 to 768 B) per chunk: filing an agent with an old round-robin turn
  /// moves half a chunk.
  static constexpr std::size_t kChunk = 16;
  static constexpr std::size_t kMaxBuckets = 64;

  /// An entry keeps one part of its key, the *lead* (keys[1] in a bucketed index, whose bucket
  /// is keys[0]; keys[0] otherwise), as a word that compares as the key does. Every ordering
  /// that is indexed files one key per bucket (longest idle, a round-robin turn; seniority,
  /// contacts or a fixed skill's level as the bucket, then idle time), so the lead and the
  /// agent are the whole key: 24 bytes, where a whole IndexKey made entries of 48. Keys with
  /// more parts keep those in `Chunk::rest` beside the entries (a *wide* index).
  struct Entry {
    std::uint64_t lead = 0; ///< toWord(keys[leadPart()])
    AgentIndex agent = kNone;
    std::uint32_t version = 0;
    std::uint32_t stages = kAllStages;
    std::uint32_t valueBits = IndexKey::kUnsureBits; ///< IndexKey::valueBits
  };
  static_assert(sizeof(Entry) == 24, "an entry is three words");
  /// The key parts after the lead (wide indexes only).
  using Rest = std::array<std::int64_t, kMaxOrderKeys - 1>;
  /// Aligned so that what filing and walks read of it (all but `last`) is one cache line.
  struct alignas(64) Chunk {
    std::vector<Entry> entries;
    std::vector<Rest> rest; ///< wide indexes: the parts after the lead, beside `entries`
    std::uint32_t head = 0; ///< entries before it are gone
    /// Its live entries when a walk last read them all, plus those filed since: what a trace
    /// counts for the chunk when a walk passes over it unread.
    std::uint32_t live = 0;
    /// A superset of the room masks of the agents of its live entries (see the file comment).
    std::uint8_t room = 0;
    /// The key of its last entry, or one that was: removals leave it, and it stays no greater
    /// than any key of the next chunk, which is all that finding a chunk needs.
    IndexKey last;
  };
  struct Bucket {
    /// The leads of the chunks' `last` keys, dense: finding the chunk for a key searches these
    /// (a few cache lines) and reads a chunk record only among those whose leads tie.
    std::vector<std::uint64_t> lastLeads;
    /// The lead of the last chunk's `last` (0 when there are no chunks), in the bucket's own
    /// cache line: filing at the end compares with it and updates only it, where reading and
    /// writing lastLeads.back() was a miss per filing. lastLeads.back() may lag behind it;
    /// whatever searches lastLeads first sets it.
    std::uint64_t tailLead = 0;
    void syncTail() { tailLead = lastLeads.empty() ? 0 : lastLeads.back(); }
    std::vector<Chunk> chunks; ///< in key order, none empty
  };
  /// An entry with its whole key, for refiling.
  struct Full {
    IndexKey key;
    std::uint32_t version = 0;
    std::uint32_t stages = kAllStages;
  };

  static constexpr std::size_t kMinGrowth = 256;

  template <typename Current>
  void compactAll(Current& current) {
    // Checking keys reads every agent: only every 8th compaction does, the others drop the
    // entries of agents that stopped being routable (the bulk) from the versions alone.
    const bool keys = (++compactions_ & 7U) == 0;
    size_ = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
      const std::int64_t first = firstKeyOf(b);
      compact(buckets_[b], first, [&](const Chunk& chunk, std::size_t i) {
        return versionOf(chunk.entries[i].agent) == chunk.entries[i].version &&
               (!keys || current(keyAt(first, chunk, i)));
      });
    }
    stale_ = 0;
    compactAt_ = 3 * size_ + kMinGrowth;
  }

  /// Signed keys as unsigned words in the same order.
  static std::uint64_t toWord(std::int64_t part) {
    return static_cast<std::uint64_t>(part) ^ (1ULL << 63);
  }
  static std::int64_t fromWord(std::uint64_t word) {
    return static_cast<std::int64_t>(word ^ (1ULL << 63));
  }
  std::size_t leadPart() const { return layout_ == Layout::Bucketed ? 1 : 0; }
  std::uint64_t leadOf(const IndexKey& key) const { return toWord(key.keys[leadPart()]); }
  bool hasRest(const IndexKey& key) const {
    for (std::size_t n = leadPart() + 1; n < kMaxOrderKeys; ++n) {
      if (key.keys[n] != 0) {
        return true;
      }
    }
    return false;
  }
  Rest restOf(const IndexKey& key) const {
    Rest rest{};
    for (std::size_t n = leadPart() + 1; n < kMaxOrderKeys; ++n) {
      rest[n - leadPart() - 1] = key.keys[n];
    }
    return rest;
  }
  Entry entryOf(const IndexKey& key, std::uint32_t version, std::uint32_t stages) const {
    return Entry{leadOf(key), key.agent, version, stages, key.valueBits};
  }
  /// keys[0] of the entries of bucket `b` when bucketed (the lead holds it otherwise).
  std::int64_t firstKeyOf(std::size_t b) const {
    return layout_ == Layout::Bucketed ? base_ + static_cast<std::int64_t>(b) : 0;
  }
  /// The whole key of entry `i` of `chunk`, in a bucket of first key `first`.
  IndexKey keyAt(std::int64_t first, const Chunk& chunk, std::size_t i) const {
    const Entry& entry = chunk.entries[i];
    IndexKey key;
    const std::size_t lead = leadPart();
    if (lead == 1) {
      key.keys[0] = first;
    }
    key.keys[lead] = fromWord(entry.lead);
    if (wide_) {
      for (std::size_t n = lead + 1; n < kMaxOrderKeys; ++n) {
        key.keys[n] = chunk.rest[i][n - lead - 1];
      }
    }
    key.agent = entry.agent;
    key.valueBits = entry.valueBits;
    return key;
  }
  /// key < the key of entry `i` of `chunk` (same bucket); `lead` is leadOf(key).
  bool belowEntry(const IndexKey& key, std::uint64_t lead, const Chunk& chunk,
                  std::size_t i) const {
    const Entry& entry = chunk.entries[i];
    if (lead != entry.lead) {
      return lead < entry.lead;
    }
    if (wide_) {
      const Rest& rest = chunk.rest[i];
      for (std::size_t n = leadPart() + 1; n < kMaxOrderKeys; ++n) {
        if (key.keys[n] != rest[n - leadPart() - 1]) {
          return key.keys[n] < rest[n - leadPart() - 1];
        }
      }
    }
    return key.agent < entry.agent;
  }
  /// The first entry of `chunk`, from its head, whose key is above `key`.
  std::size_t entryAbove(const Chunk& chunk, const IndexKey& key) const {
    const std::uint64_t lead = leadOf(key);
    std::size_t low = chunk.head;
    std::size_t high = chunk.entries.size();
    while (low < high) {
      const std::size_t middle = low + (high - low) / 2;
      if (belowEntry(key, lead, chunk, middle)) {
        high = middle;
      } else {
        low = middle + 1;
      }
    }
    return low;
  }
  /// The chunks of `bucket` whose last key has the lead of `key`: a search of the dense lead
  /// array; only these need their whole last key compared.
  auto chunksWithLeadOf(const Bucket& bucket, const IndexKey& key) const {
    const auto& leads = bucket.lastLeads;
    const std::uint64_t lead = leadOf(key);
    const auto low = std::lower_bound(leads.begin(), leads.end(), lead);
    const auto high = std::upper_bound(low, leads.end(), lead);
    return std::make_pair(bucket.chunks.begin() + (low - leads.begin()),
                          bucket.chunks.begin() + (high - leads.begin()));
  }
  /// The first chunk of `bucket` whose last key is above `key`.
  std::size_t chunkAbove(const Bucket& bucket, const IndexKey& key) const {
    const auto [first, last] = chunksWithLeadOf(bucket, key);
    return static_cast<std::size_t>(
        std::upper_bound(first, last, key,
                         [](const IndexKey& k, const Chunk& c) { return k < c.last; }) -
        bucket.chunks.begin());
  }
  /// The first chunk of `bucket` whose last key is not below `key`.
  std::size_t chunkNotBelow(const Bucket& bucket, const IndexKey& key) const {
    const auto [first, last] = chunksWithLeadOf(bucket, key);
    return static_cast<std::size_t>(
        std::lower_bound(first, last, key,
                         [](const Chunk& c, const IndexKey& k) { return c.last < k; }) -
        bucket.chunks.begin());
  }

  void moveEntry(Chunk& chunk, std::size_t from, std::size_t to) const {
    chunk.entries[to] = chunk.entries[from];
    if (wide_) {
      chunk.rest[to] = chunk.rest[from];
    }
  }

  /// From now on entries keep the key parts after their lead (see Entry).
  void becomeWide() {
    wide_ = true;
    for (Bucket& bucket : buckets_) {
      for (Chunk& chunk : bucket.chunks) {
        chunk.rest.reserve(chunk.entries.capacity());
        chunk.rest.assign(chunk.entries.size(), Rest{});
      }
    }
  }

  /// Before an insert into `chunk`: when it is full, drops the gone entries before its head
  /// instead of letting the vector grow.
  void makeRoom(Chunk& chunk) const {
    auto& entries = chunk.entries;
    if (chunk.head > 0 && entries.size() == entries.capacity()) {
      entries.erase(entries.begin(), entries.begin() + chunk.head);
      if (wide_) {
        chunk.rest.erase(chunk.rest.begin(), chunk.rest.begin() + chunk.head);
      }
      chunk.head = 0;
    }
  }

  /// An empty chunk at the end of `bucket`, with room for its largest size: it never
  /// reallocates.
  Chunk& appendChunk(Bucket& bucket) {
    Chunk& chunk = bucket.chunks.emplace_back();
    chunk.entries.reserve(2 * kChunk + 1);
    if (wide_) {
      chunk.rest.reserve(2 * kChunk + 1);
    }
    return chunk;
  }

  /// A chunk at the end holding `entry`.
  void newChunk(Bucket& bucket, const IndexKey& key, const Entry& entry, std::uint8_t room) {
    Chunk& chunk = appendChunk(bucket);
    chunk.entries.push_back(entry);
    if (wide_) {
      chunk.rest.push_back(restOf(key));
    }
    chunk.last = key;
    chunk.room = room;
    chunk.live = 1;
    if (!bucket.lastLeads.empty()) {
      bucket.lastLeads.back() = bucket.tailLead; // no longer the last: brought up to date
    }
    bucket.lastLeads.push_back(entry.lead);
    bucket.tailLead = entry.lead;
  }

  /// Splits chunk `c` of `bucket` (first key `first`), which has grown past 2 * kChunk.
  void split(Bucket& bucket, std::size_t c, std::int64_t first) {
    Chunk& chunk = bucket.chunks[c];
    auto& entries = chunk.entries;
    const std::size_t middle = chunk.head + kChunk;
    Chunk upper;
    upper.entries.reserve(2 * kChunk + 1);
    upper.entries.assign(entries.begin() + static_cast<std::ptrdiff_t>(middle), entries.end());
    if (wide_) {
      upper.rest.reserve(2 * kChunk + 1);
      upper.rest.assign(chunk.rest.begin() + static_cast<std::ptrdiff_t>(middle), chunk.rest.end());
      chunk.rest.erase(chunk.rest.begin() + static_cast<std::ptrdiff_t>(middle), chunk.rest.end());
    }
    upper.last = keyAt(first, upper, upper.entries.size() - 1);
    // Both halves keep the whole summary (a superset) and share its count.
    upper.room = chunk.room;
    upper.live =
        std::min<std::uint32_t>(chunk.live, static_cast<std::uint32_t>(upper.entries.size()));
    chunk.live -= upper.live;
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(middle), entries.end());
    chunk.last = keyAt(first, chunk, entries.size() - 1);
    bucket.lastLeads[c] = entries.back().lead;
    const std::uint64_t upperLead = upper.entries.back().lead;
    bucket.chunks.insert(bucket.chunks.begin() + static_cast<std::ptrdiff_t>(c + 1),
                         std::move(upper));
    bucket.lastLeads.insert(bucket.lastLeads.begin() + static_cast<std::ptrdiff_t>(c + 1),
                            upperLead);
    bucket.syncTail();
  }

  /// Appends to `out` the entries of `bucket` (first key `first`) from the chunks' heads that
  /// `keep` accepts, in order.
  template <typename Keep>
  void collect(const Bucket& bucket, std::int64_t first, std::vector<Full>& out,
               Keep&& keep) const {
    for (const Chunk& chunk : bucket.chunks) {
      for (std::size_t i = chunk.head; i < chunk.entries.size(); ++i) {
        Full full{keyAt(first, chunk, i), chunk.entries[i].version, chunk.entries[i].stages};
        if (keep(full)) {
          out.push_back(full);
        }
      }
    }
  }

  /// Keeps the entries of `bucket` (first key `first`) that keep(chunk, i) accepts, in chunks
  /// of kChunk, and counts them in size_. Entries move as they are (their keys are not
  /// rebuilt), through scratch storage the index keeps.
  template <typename Keep>
  void compact(Bucket& bucket, std::int64_t first, Keep&& keep) {
    scratch_.clear();
    scratchRest_.clear();
    for (const Chunk& chunk : bucket.chunks) {
      for (std::size_t i = chunk.head; i < chunk.entries.size(); ++i) {
        if (keep(chunk, i)) {
          scratch_.push_back(chunk.entries[i]);
          if (wide_) {
            scratchRest_.push_back(chunk.rest[i]);
          }
        }
      }
    }
    bucket.chunks.clear();
    bucket.lastLeads.clear();
    for (std::size_t i = 0; i < scratch_.size(); i += kChunk) {
      const std::size_t end = std::min(scratch_.size(), i + kChunk);
      Chunk& chunk = appendChunk(bucket);
      chunk.entries.assign(scratch_.begin() + static_cast<std::ptrdiff_t>(i),
                           scratch_.begin() + static_cast<std::ptrdiff_t>(end));
      if (wide_) {
        chunk.rest.assign(scratchRest_.begin() + static_cast<std::ptrdiff_t>(i),
                          scratchRest_.begin() + static_cast<std::ptrdiff_t>(end));
      }
      for (const Entry& entry : chunk.entries) {
        chunk.room |= roomOf(entry.agent);
      }
      chunk.live = static_cast<std::uint32_t>(end - i);
      chunk.last = keyAt(first, chunk, chunk.entries.size() - 1);
      bucket.lastLeads.push_back(chunk.entries.back().lead);
    }
    bucket.syncTail();
    size_ += scratch_.size();
  }

  /// Replaces the entries of `bucket` with `all` (in key order), in chunks of kChunk.
  void fill(Bucket& bucket, const std::vector<Full>& all) {
    for (const Full& full : all) {
      if (!wide_ && hasRest(full.key)) {
        becomeWide();
      }
    }
    bucket.chunks.clear();
    bucket.lastLeads.clear();
    for (std::size_t i = 0; i < all.size(); i += kChunk) {
      const std::size_t end = std::min(all.size(), i + kChunk);
      Chunk& chunk = appendChunk(bucket);
      for (std::size_t j = i; j < end; ++j) {
        chunk.entries.push_back(entryOf(all[j].key, all[j].version, all[j].stages));
        if (wide_) {
          chunk.rest.push_back(restOf(all[j].key));
        }
        chunk.room |= roomOf(all[j].key.agent);
      }
      chunk.last = all[end - 1].key;
      chunk.live = static_cast<std::uint32_t>(end - i);
      bucket.lastLeads.push_back(chunk.entries.back().lead);
    }
    bucket.syncTail();
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
      // buckets hold entries in key order already; stale ones stay (they are counted).
      std::vector<Full> all;
      for (std::size_t b = 0; b < buckets_.size(); ++b) {
        collect(buckets_[b], firstKeyOf(b), all, [](const Full&) { return true; });
      }
      layout_ = Layout::Sorted; // keys[0] becomes the lead
      wide_ = false;
      base_ = 0;
      buckets_.assign(1, Bucket{});
      fill(buckets_[0], all);
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

  std::uint32_t versionOf(AgentIndex agent) const {
    return agents_ != nullptr ? (*agents_)[agent].version : (*versions_)[agent];
  }
  /// The agent's room mask; every medium when the index reads bare versions (no summaries).
  std::uint8_t roomOf(AgentIndex agent) const {
    return agents_ != nullptr ? (*agents_)[agent].room : std::uint8_t{0xff};
  }

  // The first cache line holds all that filing reads and writes of the index itself (the
  // class is aligned to a line); walks read it and, when they drop entries, stale_.
  Layout layout_;
  bool wide_ = false; ///< entries keep key parts after the lead (see Entry)
  const std::vector<AgentHot>* agents_ = nullptr;
  mutable std::vector<Bucket> buckets_; ///< buckets_[k]: first key base_ + k
  std::int64_t base_ = 0;
  mutable std::size_t size_ = 0;       ///< entries filed and not dropped, stale ones included
  std::size_t compactAt_ = kMinGrowth; ///< compactIfGrown() compacts from this size_ on

  mutable std::size_t stale_ = 0; ///< of which stale (as far as markStale() was told)
  const std::vector<std::uint32_t>* versions_ = nullptr;
  std::vector<Full> pending_;     ///< appended, not filed until sortAll()
  std::vector<Entry> scratch_;    ///< compact(): the entries kept
  std::vector<Rest> scratchRest_; ///< compact(): their rests (wide indexes)
  std::uint32_t compactions_ = 0;
};

} // namespace switchboard::routing
