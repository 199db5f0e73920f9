#include "symbol_table.h"

namespace switchboard::routing {

Symbol SymbolTable::intern(std::string_view text) {
  if (const Symbol found = find(text); found != kNoSymbol) {
    return found;
  }
  const auto symbol = static_cast<Symbol>(texts_.size());
  texts_.emplace_back(text);
  views_.emplace_back(texts_.back());
  index_.insert(text, symbol);
  return symbol;
}

Symbol SymbolTable::find(std::string_view text) const {
  Recent* recent = nullptr;
  if (!text.empty() && text.size() <= kRecentBytes) {
    recent = &recent_[recentSlot(text)];
    if (recent->text == text) {
      return recent->symbol;
    }
  }
  const std::uint32_t found =
      index_.find(text, [this](std::uint32_t symbol) { return views_[symbol]; });
  if (found == IdTable::kNotFound) {
    return kNoSymbol;
  }
  if (recent != nullptr) {
    *recent = Recent{views_[found], found};
  }
  return found;
}

std::string_view SymbolTable::text(Symbol symbol) const {
  if (symbol >= views_.size()) {
    return {};
  }
  return views_[symbol];
}

} // namespace switchboard::routing
