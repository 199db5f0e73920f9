#pragma once

// Interned strings: every name and attribute value the engine compares (skill names, attribute
// names and values, sites, media, agent ids, causes) is stored once and compared as a number.
// Texts never move, so string_views into the table stay valid for the table's life.

#include "id_table.h"

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

using Symbol = std::uint32_t;
inline constexpr Symbol kNoSymbol = 0xffffffffU;

class SymbolTable {
 public:
  /// The symbol of `text`, adding it when new.
  Symbol intern(std::string_view text);
  /// The symbol of `text`, or kNoSymbol when it was never interned.
  Symbol find(std::string_view text) const;
  /// The text of a symbol; empty for kNoSymbol.
  std::string_view text(Symbol symbol) const;
  std::size_t size() const { return texts_.size(); }

 private:
  /// A text found before, in `recent_` (see there).
  struct Recent {
    std::string_view text; ///< the table's own copy, so it stays valid
    Symbol symbol = kNoSymbol;
  };
  static constexpr std::size_t kRecentBytes = 16;
  /// Short texts found lately, by a cheap hash of their size and end bytes. Every item brings
  /// its medium, its attribute names and values, and the same few recur item after item: a
  /// hit compares at most 16 bytes instead of hashing the text and probing the table (about a
  /// hundred instructions). Symbols are never removed, so an entry never goes out of date.
  static std::size_t recentSlot(std::string_view text) {
    const auto first = static_cast<unsigned char>(text.front());
    const auto last = static_cast<unsigned char>(text.back());
    return (text.size() * 7U + first * 31U + last) & (kRecentSlots - 1);
  }
  static constexpr std::size_t kRecentSlots = 64;

  std::deque<std::string> texts_;       ///< the texts; a deque, so they never move
  std::vector<std::string_view> views_; ///< views_[symbol]: texts_[symbol], one hop less
  IdTable index_;
  mutable std::array<Recent, kRecentSlots> recent_{};
};

/// The media the engine knows, each with a small slot number for per-medium counters.
class MediaTable {
 public:
  explicit MediaTable(std::size_t limit) : limit_(limit) {}
  /// The slot of `medium`, adding it when new; kNoSymbol when the table is full.
  std::uint32_t slotOf(Symbol medium) {
    for (std::uint32_t i = 0; i < media_.size(); ++i) {
      if (media_[i] == medium) {
        return i;
      }
    }
    if (media_.size() >= limit_) {
      return kNoSymbol;
    }
    media_.push_back(medium);
    return static_cast<std::uint32_t>(media_.size() - 1);
  }
  /// The slot of `medium`, or kNoSymbol when unknown.
  std::uint32_t find(Symbol medium) const {
    for (std::uint32_t i = 0; i < media_.size(); ++i) {
      if (media_[i] == medium) {
        return i;
      }
    }
    return kNoSymbol;
  }
  Symbol medium(std::uint32_t slot) const { return media_[slot]; }
  std::size_t size() const { return media_.size(); }

 private:
  std::size_t limit_;
  std::vector<Symbol> media_;
};

} // namespace switchboard::routing
