#pragma once

// Structured logs: one JSON object per line, with the time, the level, a stable event name and
// the event's fields, e.g.
//   {"time":"2026-11-21T13:45:00.250Z","level":"info","event":"http.request","status":200}
// Lines go to stderr unless another stream is given. Lines below the logger's level are dropped
// before anything is formatted.
//
// Secrets never reach a log: a field made with LogField::secret() keeps no value and prints
// "***". Field text is escaped, so untrusted input (headers, mail subjects) cannot forge lines
// or break the JSON; invalid UTF-8 is written as U+FFFD.
//
// Thread-safety: every member function may be called from any thread at any time; each line is
// written whole.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace switchboard {

enum class LogLevel { Debug, Info, Warn, Error };

/// "debug", "info", "warn", "error".
std::string_view toString(LogLevel level);
/// The level spelled `text` (as toString writes it), or nothing.
std::optional<LogLevel> logLevelFromString(std::string_view text);

/// One named value of a log line. Names "time", "level" and "event" are the line's own: a field
/// with one of these names is written with a leading underscore.
class LogField {
 public:
  using Value = std::variant<std::string, std::int64_t, std::uint64_t, double, bool>;

  LogField(std::string name, std::string_view text)
      : name_(std::move(name)), value_(std::string(text)) {}
  LogField(std::string name, const char* text)
      : LogField(std::move(name), std::string_view(text)) {}
  LogField(std::string name, const std::string& text)
      : LogField(std::move(name), std::string_view(text)) {}
  LogField(std::string name, bool flag) : name_(std::move(name)), value_(flag) {}
  LogField(std::string name, double number) : name_(std::move(name)), value_(number) {}
  template <class Integer>
  requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
      LogField(std::string name, Integer number)
      : name_(std::move(name)) {
    if constexpr (std::is_signed_v<Integer>) {
      value_ = static_cast<std::int64_t>(number);
    } else {
      value_ = static_cast<std::uint64_t>(number);
    }
  }

  /// A field whose value is never kept nor written: it prints "***". For passwords, keys,
  /// tokens, connection strings.
  template <class Ignored>
  static LogField secret(std::string name, const Ignored&) {
    LogField field(std::move(name), std::string_view("***"));
    return field;
  }

  const std::string& name() const { return name_; }
  const Value& value() const { return value_; }

 private:
  std::string name_;
  Value value_;
};

/// Json: one JSON object per line, for log collectors. Text: "TIME LEVEL event name=value ...",
/// for people at a console; values are written as in JSON, so the line stays unambiguous.
enum class LogFormat { Json, Text };

class Logger {
 public:
  /// Writes lines at `level` and above to `out` (stderr by default). `out` must outlive the
  /// logger.
  explicit Logger(LogLevel level = LogLevel::Info);
  Logger(LogLevel level, std::ostream& out);
  Logger(LogLevel level, LogFormat format, std::ostream& out);

  void setLevel(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  bool enabled(LogLevel level) const { return level >= this->level(); }

  /// Writes one line, unless `level` is below the logger's level. Never throws.
  void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
  void debug(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Debug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Info, event, fields);
  }
  void warn(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Warn, event, fields);
  }
  void error(std::string_view event, std::initializer_list<LogField> fields = {}) {
    log(LogLevel::Error, event, fields);
  }

  /// The line log() would write, without its newline. For tests and other sinks.
  static std::string format(std::chrono::system_clock::time_point time, LogLevel level,
                            std::string_view event, std::initializer_list<LogField> fields);
  /// The line log() would write in the Text format, without its newline.
  static std::string formatText(std::chrono::system_clock::time_point time, LogLevel level,
                                std::string_view event, std::initializer_list<LogField> fields);

 private:
  std::atomic<LogLevel> level_;
  LogFormat format_ = LogFormat::Json;
  std::ostream* out_;
  std::mutex mutex_;
};

/// Appends `text` to `out` as a JSON string body (no quotes): escapes quotes, backslashes and
/// control characters, and replaces invalid UTF-8 with U+FFFD.
void appendJsonEscaped(std::string_view text, std::string& out);

} // namespace switchboard
