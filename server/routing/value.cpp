#include "value.h"

#include <charconv>

namespace switchboard::routing {

Value Value::ofString(std::string_view text, Symbol symbol) {
  Value v;
  v.kind = ValueKind::String;
  v.text = text;
  v.symbol = symbol;
  if (auto number = parseNumber(text)) {
    v.numeric = true;
    v.number = *number;
  }
  return v;
}

std::optional<double> parseNumber(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  // Most texts are words: reject them before from_chars, which besides digits only reads
  // "inf", "infinity" and "nan" (any case, "nan" maybe followed by "(...)").
  const char first = text.front();
  if (!((first >= '0' && first <= '9') || first == '-' || first == '.')) {
    const bool maybe = (first == 'i' || first == 'I' || first == 'n' || first == 'N') &&
                       (text.size() == 3 || text.size() == 8 || text.back() == ')');
    if (!maybe) {
      return std::nullopt;
    }
  }
  double result = 0.0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, result);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return result;
}

bool equalValues(const Value& a, const Value& b) {
  if (a.kind == ValueKind::None || b.kind == ValueKind::None || a.kind == ValueKind::List ||
      b.kind == ValueKind::List) {
    return false;
  }
  if (a.numeric && b.numeric) {
    return a.number == b.number;
  }
  if (a.kind == ValueKind::String && b.kind == ValueKind::String) {
    if (a.symbol != kNoSymbol && b.symbol != kNoSymbol) {
      return a.symbol == b.symbol;
    }
    return a.text == b.text;
  }
  if (a.kind == ValueKind::Bool && b.kind == ValueKind::Bool) {
    return a.boolean == b.boolean;
  }
  return false;
}

std::optional<int> compareValues(const Value& a, const Value& b) {
  if (a.numeric && b.numeric) {
    return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  }
  if (a.kind == ValueKind::String && b.kind == ValueKind::String && !a.numeric && !b.numeric) {
    const int c = a.text.compare(b.text);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

bool containsValue(const Value& haystack, const Value& needle) {
  if (needle.kind == ValueKind::List) {
    for (std::uint32_t i = 0; i < needle.size; ++i) {
      if (containsValue(haystack, needle.items[i])) {
        return true;
      }
    }
    return false;
  }
  if (haystack.kind == ValueKind::List) {
    for (std::uint32_t i = 0; i < haystack.size; ++i) {
      if (equalValues(haystack.items[i], needle)) {
        return true;
      }
    }
    return false;
  }
  return equalValues(haystack, needle);
}

bool truthy(const Value& value) {
  switch (value.kind) {
  case ValueKind::None:
    return false;
  case ValueKind::Bool:
    return value.boolean;
  case ValueKind::Number:
    return value.number != 0.0;
  case ValueKind::String:
    return !(value.numeric && value.number == 0.0) && value.text != "false" && !value.text.empty();
  case ValueKind::List:
    return value.size > 0;
  }
  return false;
}

std::string valueText(const Value& value) {
  switch (value.kind) {
  case ValueKind::String:
    return std::string(value.text);
  case ValueKind::Bool:
    return value.boolean ? "true" : "false";
  case ValueKind::Number: {
    char digits[32];
    auto [end, error] = std::to_chars(digits, digits + sizeof digits, value.number);
    return error == std::errc{} ? std::string(digits, end) : std::string();
  }
  case ValueKind::None:
  case ValueKind::List:
    break;
  }
  return {};
}

} // namespace switchboard::routing
