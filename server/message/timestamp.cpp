#include "switchboard/timestamp.h"

#include <algorithm>
#include <chrono>

namespace switchboard {
namespace {

using namespace std::chrono;

bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) {
    return false;
  }
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  return true;
}

void appendDigits(std::string& out, int value, int width) {
  char buffer[4];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, static_cast<std::size_t>(width));
}

} // namespace

std::optional<Timestamp> parseTimestamp(std::string_view text) {
  // YYYY-MM-DDThh:mm:ss[.f+](Z|+hh:mm|-hh:mm)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) || text[10] != 'T' ||
      !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) ||
      text[16] != ':' || !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t at = 19;
  int millis = 0;
  if (text[at] == '.') {
    ++at;
    std::size_t first = at;
    int scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) {
      return std::nullopt;
    }
  }
  minutes offset{0};
  if (at < text.size() && text[at] == 'Z' && at + 1 == text.size()) {
    // UTC
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    int offsetHours = 0, offsetMinutes = 0;
    if (!digits(text, at + 1, 2, offsetHours) || !digits(text, at + 4, 2, offsetMinutes) ||
        offsetHours > 14 || offsetMinutes > 59) {
      return std::nullopt;
    }
    offset = hours{offsetHours} + minutes{offsetMinutes};
    if (text[at] == '-') {
      offset = -offset;
    }
  } else {
    return std::nullopt;
  }
  year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                      std::chrono::day{static_cast<unsigned>(day)}};
  bool endOfDay = hour == 24 && minute == 0 && second == 0 && millis == 0;
  if (!date.ok() || (hour > 23 && !endOfDay) || minute > 59 || second > 59) {
    return std::nullopt;
  }
  return Timestamp{sys_days{date} + hours{hour} + minutes{minute} + seconds{second} +
                   milliseconds{millis} - offset};
}

void appendTimestamp(Timestamp time, std::string& out) {
  constexpr sys_days kFirst = sys_days{year{0} / January / 1};
  constexpr sys_days kLast = sys_days{year{9999} / December / 31};
  time = std::clamp(time, Timestamp{kFirst}, Timestamp{kLast} + days{1} - milliseconds{1});
  sys_days day = floor<days>(time);
  year_month_day date{day};
  hh_mm_ss clock{time - day};
  appendDigits(out, static_cast<int>(date.year()), 4);
  out += '-';
  appendDigits(out, static_cast<int>(static_cast<unsigned>(date.month())), 2);
  out += '-';
  appendDigits(out, static_cast<int>(static_cast<unsigned>(date.day())), 2);
  out += 'T';
  appendDigits(out, static_cast<int>(clock.hours().count()), 2);
  out += ':';
  appendDigits(out, static_cast<int>(clock.minutes().count()), 2);
  out += ':';
  appendDigits(out, static_cast<int>(clock.seconds().count()), 2);
  if (auto millis = clock.subseconds().count(); millis != 0) {
    out += '.';
    appendDigits(out, static_cast<int>(millis), 3);
  }
  out += 'Z';
}

std::string formatTimestamp(Timestamp time) {
  std::string out;
  out.reserve(24);
  appendTimestamp(time, out);
  return out;
}

} // namespace switchboard
