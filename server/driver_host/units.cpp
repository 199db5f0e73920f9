#include "switchboard/units.h"

#include <charconv>

namespace switchboard {
namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool multiply(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

} // namespace

std::optional<std::chrono::microseconds> parseDuration(std::string_view text) {
  text = trimmed(text);
  if (text == "0") {
    return std::chrono::microseconds(0);
  }
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"us", 1},           {"ms", 1000},           {"s", 1000000},
      {"m", 60'000'000LL}, {"h", 3'600'000'000LL}, {"d", 86'400'000'000LL}};
  std::int64_t total = 0;
  if (text.empty()) {
    return std::nullopt;
  }
  while (!text.empty()) {
    std::int64_t number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc() || end == text.data() || text.front() == '-' || text.front() == '+') {
      return std::nullopt;
    }
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    bool found = false;
    // Longest unit first, so that "ms" is not read as "m" followed by a stray "s".
    for (std::string_view unit : {"ms", "us", "s", "m", "h", "d"}) {
      if (text.starts_with(unit)) {
        std::int64_t scale = 0;
        for (const auto& [name, factor] : kUnits) {
          if (name == unit) {
            scale = factor;
          }
        }
        std::int64_t part = 0;
        if (!multiply(number, scale, part) || __builtin_add_overflow(total, part, &total)) {
          return std::nullopt;
        }
        text.remove_prefix(unit.size());
        found = true;
        break;
      }
    }
    if (!found) {
      return std::nullopt;
    }
  }
  return std::chrono::microseconds(total);
}

std::optional<std::uint64_t> parseByteSize(std::string_view text) {
  text = trimmed(text);
  std::uint64_t number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end == text.data()) {
    return std::nullopt;
  }
  std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
  std::uint64_t scale = 1;
  if (unit == "KiB" || unit == "k" || unit == "K") {
    scale = 1ULL << 10;
  } else if (unit == "MiB" || unit == "M") {
    scale = 1ULL << 20;
  } else if (unit == "GiB" || unit == "G") {
    scale = 1ULL << 30;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(number, scale, &bytes)) {
    return std::nullopt;
  }
  return bytes;
}

} // namespace switchboard
