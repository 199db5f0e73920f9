#pragma once

// Finds a record's index by its id (items, agents, customers). The ids live in the records; the
// table holds only (hash, index) pairs in one flat array with linear probing, so a look-up reads
// one or two cache lines of the table and then the record it was after anyway. Erasing shifts
// the following entries back instead of leaving tombstones.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace switchboard::routing {

class IdTable {
 public:
  static constexpr std::uint32_t kNotFound = 0xffffffffU;

  /// The index whose id (idOf(index)) equals `id`, or kNotFound.
  template <typename IdOf>
  std::uint32_t find(std::string_view id, IdOf&& idOf) const {
    return find(id, hashOf(id), idOf);
  }
  /// find() with the id's hashOf() already known (an item hashes its id once).
  template <typename IdOf>
  std::uint32_t find(std::string_view id, std::uint32_t hash, IdOf&& idOf) const {
    if (slots_.empty()) {
      return kNotFound;
    }
    for (std::size_t s = hash & mask_;; s = (s + 1) & mask_) {
      const Slot& slot = slots_[s];
      if (slot.index == kNotFound) {
        return kNotFound;
      }
      if (slot.hash == hash && idOf(slot.index) == id) {
        return slot.index;
      }
    }
  }

  /// Starts loading the slot where a look-up of a `hash`ed id starts, so that its cache miss
  /// overlaps with what the caller does before find().
  void prefetch(std::uint32_t hash) const {
    if (!slots_.empty()) {
      __builtin_prefetch(&slots_[hash & mask_]);
    }
  }

  /// Adds `index` under `id`, which must not be present.
  void insert(std::string_view id, std::uint32_t index) { insertHashed(hashOf(id), index); }
  /// insert() with the id's hashOf() already known.
  void insertHashed(std::uint32_t hash, std::uint32_t index) {
    if ((count_ + 1) * 4 > slots_.size() * 3) {
      grow();
    }
    place(Slot{hash, index});
    ++count_;
  }

  /// Removes the entry for `id` (a no-op when absent).
  template <typename IdOf>
  void erase(std::string_view id, IdOf&& idOf) {
    erase(id, hashOf(id), idOf);
  }
  /// erase() with the id's hashOf() already known.
  template <typename IdOf>
  void erase(std::string_view id, std::uint32_t hash, IdOf&& idOf) {
    if (slots_.empty()) {
      return;
    }
    std::size_t s = hash & mask_;
    for (;; s = (s + 1) & mask_) {
      if (slots_[s].index == kNotFound) {
        return;
      }
      if (slots_[s].hash == hash && idOf(slots_[s].index) == id) {
        break;
      }
    }
    // Backward-shift deletion: pull later entries of the run into the hole when their home
    // slot allows it.
    std::size_t hole = s;
    for (std::size_t next = (s + 1) & mask_; slots_[next].index != kNotFound;
         next = (next + 1) & mask_) {
      const std::size_t home = slots_[next].hash & mask_;
      if (((next - home) & mask_) >= ((next - hole) & mask_)) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = Slot{};
    --count_;
  }

  std::size_t size() const { return count_; }

  static std::uint32_t hashOf(std::string_view id) {
    // Eight bytes a step (ids, names and values are mostly 2 to 16 bytes: a byte a step was a
    // loop of up to sixteen multiplies per look-up), then a final mix so that the low bits (the
    // slot) depend on every byte.
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ id.size();
    const char* p = id.data();
    std::size_t n = id.size();
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, 8);
      h = (h ^ word) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 31;
    }
    if (n > 0) {
      std::uint64_t word = 0;
      for (std::size_t i = 0; i < n; ++i) {
        word |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
      }
      h = (h ^ word) * 0x94d049bb133111ebULL;
      h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ULL;
    return static_cast<std::uint32_t>(h >> 32);
  }

 private:
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t index = kNotFound;
  };

  void place(Slot slot) {
    std::size_t s = slot.hash & mask_;
    while (slots_[s].index != kNotFound) {
      s = (s + 1) & mask_;
    }
    slots_[s] = slot;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.index != kNotFound) {
        place(slot);
      }
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
};

} // namespace switchboard::routing
