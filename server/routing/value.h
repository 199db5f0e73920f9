#pragma once

// The values expressions compare: nothing (a missing attribute), booleans, numbers, strings and
// lists of scalars. A string that reads fully as a number also carries that number, so "5" from
// a CRM attribute equals the literal 5. Values never own memory: strings point into the symbol
// table or an item's own text, lists into their owner's storage.

#include "symbol_table.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::routing {

enum class ValueKind : std::uint8_t { None, Bool, Number, String, List };

struct Value {
  double number = 0.0;
  std::string_view text;        ///< String: its text
  const Value* items = nullptr; ///< List: its elements (scalars)
  std::uint32_t size = 0;       ///< List: element count
  Symbol symbol = kNoSymbol;    ///< String: its symbol, or kNoSymbol when not interned
  ValueKind kind = ValueKind::None;
  bool numeric = false; ///< Number, or a String that reads as a number
  bool boolean = false; ///< Bool: its value

  static Value ofBool(bool b) {
    Value v;
    v.kind = ValueKind::Bool;
    v.boolean = b;
    return v;
  }
  static Value ofNumber(double n) {
    Value v;
    v.kind = ValueKind::Number;
    v.number = n;
    v.numeric = true;
    return v;
  }
  /// A string value; also numeric when the whole text reads as a number.
  static Value ofString(std::string_view text, Symbol symbol);
  static Value ofList(const Value* items, std::uint32_t size) {
    Value v;
    v.kind = ValueKind::List;
    v.items = items;
    v.size = size;
    return v;
  }
};

/// The number `text` spells in full ("42", "-2.5"), or nothing.
std::optional<double> parseNumber(std::string_view text);

/// Scalar equality: numbers when both are numeric, otherwise the same string or boolean.
/// Nothing equals nothing and nothing else.
bool equalValues(const Value& a, const Value& b);

/// Ordering of two scalars: -1, 0, 1, or nothing when they do not compare (a missing value,
/// a number against a word, a list).
std::optional<int> compareValues(const Value& a, const Value& b);

/// True when `needle` equals `haystack` (a scalar) or one of its elements (a list); a list
/// needle is in the haystack when any of its elements is.
bool containsValue(const Value& haystack, const Value& needle);

/// Booleans as they are; present numbers, strings and non-empty lists are true, except the
/// number 0 and the strings "false" and "0".
bool truthy(const Value& value);

/// A scalar as text: a string as it is, a number in the shortest form that reads back the same,
/// a boolean as "true" or "false"; empty for a missing value or a list.
std::string valueText(const Value& value);

} // namespace switchboard::routing
