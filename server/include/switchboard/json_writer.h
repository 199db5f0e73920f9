#pragma once

// Writes compact JSON straight into a string: the REST API's answers are built with it, field
// by field, without an intermediate document tree (a tree of Poco::JSON objects cost more than
// the rest of a GET /v1/queues together).

#include "switchboard/log.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace switchboard {

/// Appends JSON text to a string. The caller opens and closes objects and arrays in order; the
/// writer places the commas and colons and escapes strings (invalid UTF-8 becomes U+FFFD).
/// Numbers that are not finite are written as null. Keys are written as given: an object's
/// keys are the caller's to keep unique.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& beginObject() { return open('{'); }
  JsonWriter& endObject() { return close('}'); }
  JsonWriter& beginArray() { return open('['); }
  JsonWriter& endArray() { return close(']'); }

  /// The name of the next member of the object being written.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(double number);
  JsonWriter& null();
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) JsonWriter& value(T number) {
    if constexpr (std::is_signed_v<T>) {
      return integer(static_cast<std::int64_t>(number));
    } else {
      return unsignedInteger(static_cast<std::uint64_t>(number));
    }
  }

  /// key(name) then value(v).
  template <class T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }
  /// A member only when `v` holds a value.
  template <class T>
  JsonWriter& optionalMember(std::string_view name, const std::optional<T>& v) {
    if (v) {
      member(name, *v);
    }
    return *this;
  }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  JsonWriter& integer(std::int64_t number);
  JsonWriter& unsignedInteger(std::uint64_t number);
  template <class Number>
  JsonWriter& digits(Number number);
  void separate();

  std::string& out_;
  bool needComma_ = false; ///< a value was written at this level: the next one needs a comma
};

} // namespace switchboard
