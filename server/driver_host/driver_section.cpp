#include "switchboard/channel_driver.h"

#include <charconv>

namespace switchboard {
namespace {

std::string place(const std::string& file, std::size_t line, std::size_t column) {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// Splits "500ms" into 500 and "ms"; false when the text does not start with digits.
bool splitNumber(std::string_view text, std::uint64_t& number, std::string_view& unit) {
  const char* end = text.data() + text.size();
  auto [stop, status] = std::from_chars(text.data(), end, number);
  if (status != std::errc{} || stop == text.data()) {
    return false;
  }
  unit = std::string_view(stop, static_cast<std::size_t>(end - stop));
  return true;
}

} // namespace

void DriverSection::fail(const std::string& setting, const std::string& reason) const {
  auto found = settings.find(setting);
  if (found != settings.end()) {
    const Setting& where = found->second;
    throw SettingError(place(where.file, where.line, where.column) + setting + ": " + reason);
  }
  throw SettingError(place(file, line, column) + setting + ": " + reason);
}

std::optional<std::string> DriverSection::optionalText(const std::string& setting) const {
  auto found = settings.find(setting);
  if (found == settings.end()) {
    return std::nullopt;
  }
  return found->second.value;
}

std::string DriverSection::text(const std::string& setting) const {
  std::optional<std::string> value = optionalText(setting);
  if (!value) {
    fail(setting, "is required by driver '" + name + "' (" + type + ")");
  }
  return *value;
}

std::filesystem::path DriverSection::path(const std::string& setting) const {
  std::filesystem::path value = text(setting);
  if (value.is_relative()) {
    std::filesystem::path origin = settings.at(setting).file;
    value = origin.parent_path() / value;
  }
  return value.lexically_normal();
}

std::chrono::milliseconds DriverSection::duration(const std::string& setting,
                                                  std::chrono::milliseconds fallback) const {
  std::optional<std::string> value = optionalText(setting);
  if (!value) {
    return fallback;
  }
  std::uint64_t number = 0;
  std::string_view unit;
  if (splitNumber(*value, number, unit)) {
    if (unit == "ms") {
      return std::chrono::milliseconds(number);
    }
    if (unit == "s") {
      return std::chrono::seconds(number);
    }
    if (unit == "m") {
      return std::chrono::minutes(number);
    }
    if (unit == "h") {
      return std::chrono::hours(number);
    }
  }
  fail(setting, "'" + *value + "' is not a duration such as 500ms, 30s, 2m or 1h");
}

std::uint64_t DriverSection::bytes(const std::string& setting, std::uint64_t fallback) const {
  std::optional<std::string> value = optionalText(setting);
  if (!value) {
    return fallback;
  }
  std::uint64_t number = 0;
  std::string_view unit;
  if (splitNumber(*value, number, unit)) {
    if (unit.empty()) {
      return number;
    }
    if (unit == "k" || unit == "K") {
      return number << 10;
    }
    if (unit == "M") {
      return number << 20;
    }
    if (unit == "G") {
      return number << 30;
    }
  }
  fail(setting, "'" + *value + "' is not a size such as 1048576, 512k, 25M or 1G");
}

void DriverRegistry::add(const std::string& type, DriverFactory factory) {
  if (!factories_.emplace(type, std::move(factory)).second) {
    throw std::invalid_argument("driver type '" + type + "' is registered already");
  }
}

std::unique_ptr<ChannelDriver> DriverRegistry::create(const DriverContext& context) const {
  auto found = factories_.find(context.section.type);
  if (found == factories_.end()) {
    const DriverSection& section = context.section;
    throw SettingError(place(section.file, section.line, section.column) + section.type +
                       ": no driver of this type is built into this server");
  }
  return found->second(context);
}

std::vector<std::string> DriverRegistry::types() const {
  std::vector<std::string> names;
  for (const auto& [type, factory] : factories_) {
    names.push_back(type);
  }
  return names;
}

} // namespace switchboard
