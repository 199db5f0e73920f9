#include "symbol_table.h"

namespace switchboard::routing {

Symbol SymbolTable::intern(std::string_view text) {
  if (auto it = index_.find(text); it != index_.end()) {
    return it->second;
  }
  const auto symbol = static_cast<Symbol>(texts_.size());
  texts_.emplace_back(text);
  index_.emplace(texts_.back(), symbol);
  return symbol;
}

Symbol SymbolTable::find(std::string_view text) const {
  auto it = index_.find(text);
  return it == index_.end() ? kNoSymbol : it->second;
}

std::string_view SymbolTable::text(Symbol symbol) const {
  if (symbol >= texts_.size()) {
    return {};
  }
  return texts_[symbol];
}

} // namespace switchboard::routing
