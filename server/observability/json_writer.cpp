#include "switchboard/json_writer.h"

#include <charconv>
#include <cmath>

namespace switchboard {

void JsonWriter::separate() {
  if (needComma_) {
    out_ += ',';
  }
}

template <class Number>
JsonWriter& JsonWriter::digits(Number number) {
  separate();
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  out_.append(buffer, result.ptr);
  needComma_ = true;
  return *this;
}

JsonWriter& JsonWriter::open(char bracket) {
  separate();
  out_ += bracket;
  needComma_ = false;
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  out_ += bracket;
  needComma_ = true;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  out_ += '"';
  appendJsonEscaped(name, out_);
  out_ += "\":";
  needComma_ = false;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  out_ += '"';
  appendJsonEscaped(text, out_);
  out_ += '"';
  needComma_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  needComma_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  if (!std::isfinite(number)) {
    return null();
  }
  return digits(number);
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  needComma_ = true;
  return *this;
}

JsonWriter& JsonWriter::integer(std::int64_t number) {
  return digits(number);
}

JsonWriter& JsonWriter::unsignedInteger(std::uint64_t number) {
  return digits(number);
}

} // namespace switchboard
