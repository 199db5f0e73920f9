#include "switchboard/log.h"

#include <array>
#include <charconv>
#include <cmath>
#include <iostream>

namespace switchboard {

namespace {

constexpr std::array<std::string_view, 4> kLevelNames{"debug", "info", "warn", "error"};

void appendTwo(unsigned value, std::string& out) {
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

void appendTime(std::chrono::system_clock::time_point time, std::string& out) {
  using namespace std::chrono;
  auto millis = time_point_cast<milliseconds>(time);
  auto day = floor<days>(millis);
  year_month_day date{day};
  hh_mm_ss clock{millis - day};
  int year = static_cast<int>(date.year());
  appendTwo(static_cast<unsigned>(year / 100), out);
  appendTwo(static_cast<unsigned>(year % 100), out);
  out += '-';
  appendTwo(static_cast<unsigned>(date.month()), out);
  out += '-';
  appendTwo(static_cast<unsigned>(date.day()), out);
  out += 'T';
  appendTwo(static_cast<unsigned>(clock.hours().count()), out);
  out += ':';
  appendTwo(static_cast<unsigned>(clock.minutes().count()), out);
  out += ':';
  appendTwo(static_cast<unsigned>(clock.seconds().count()), out);
  out += '.';
  auto ms = static_cast<unsigned>(clock.subseconds().count());
  out += static_cast<char>('0' + ms / 100);
  appendTwo(ms % 100, out);
  out += 'Z';
}

// The length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one.
std::size_t utf8Length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  std::size_t length = 0;
  std::uint32_t min = 0;
  std::uint32_t code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    min = 0x80;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    min = 0x800;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    min = 0x10000;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) {
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return length;
}

void appendValue(const LogField::Value& value, std::string& out) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out += '"';
          appendJsonEscaped(v, out);
          out += '"';
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(v)) {
            out += "null";
            return;
          }
          char buffer[32];
          auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
          out.append(buffer, result.ptr);
        } else {
          char buffer[24];
          auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
          out.append(buffer, result.ptr);
        }
      },
      value);
}

} // namespace

std::string_view toString(LogLevel level) {
  return kLevelNames[static_cast<std::size_t>(level)];
}

std::optional<LogLevel> logLevelFromString(std::string_view text) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == text) {
      return static_cast<LogLevel>(i);
    }
  }
  return std::nullopt;
}

void appendJsonEscaped(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t length = utf8Length(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
}

Logger::Logger(LogLevel level) : Logger(level, std::cerr) {}

Logger::Logger(LogLevel level, std::ostream& out) : level_(level), out_(&out) {}

Logger::Logger(LogLevel level, LogFormat format, std::ostream& out)
    : level_(level), format_(format), out_(&out) {}

std::string Logger::formatText(std::chrono::system_clock::time_point time, LogLevel level,
                               std::string_view event, std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(96);
  appendTime(time, line);
  line += ' ';
  line += toString(level);
  line += ' ';
  appendJsonEscaped(event, line);
  for (const auto& field : fields) {
    line += ' ';
    appendJsonEscaped(field.name(), line);
    line += '=';
    appendValue(field.value(), line);
  }
  return line;
}

std::string Logger::format(std::chrono::system_clock::time_point time, LogLevel level,
                           std::string_view event, std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(128);
  line += "{\"time\":\"";
  appendTime(time, line);
  line += "\",\"level\":\"";
  line += toString(level);
  line += "\",\"event\":\"";
  appendJsonEscaped(event, line);
  line += '"';
  for (const auto& field : fields) {
    line += ",\"";
    const auto& name = field.name();
    if (name == "time" || name == "level" || name == "event") {
      line += '_';
    }
    appendJsonEscaped(name, line);
    line += "\":";
    appendValue(field.value(), line);
  }
  line += '}';
  return line;
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (!enabled(level)) {
    return;
  }
  try {
    auto now = std::chrono::system_clock::now();
    std::string line = format_ == LogFormat::Text ? formatText(now, level, event, fields)
                                                  : format(now, level, event, fields);
    line += '\n';
    std::lock_guard lock(mutex_);
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
    out_->flush();
  } catch (...) {
    // A log line that cannot be written must not take the caller down with it.
  }
}

} // namespace switchboard
