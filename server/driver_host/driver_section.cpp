#include "switchboard/channel_driver.h"
#include "switchboard/units.h"

namespace switchboard {
namespace {

std::string place(const std::string& file, std::size_t line, std::size_t column) {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
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
  std::optional<std::chrono::microseconds> parsed = parseDuration(*value);
  if (!parsed || parsed->count() % 1000 != 0) {
    fail(setting, "'" + *value +
                      "' is not a duration in milliseconds (write 0, 500ms, 30s, 2m, 1h, "
                      "1d or 1m30s)");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

std::uint64_t DriverSection::bytes(const std::string& setting, std::uint64_t fallback) const {
  std::optional<std::string> value = optionalText(setting);
  if (!value) {
    return fallback;
  }
  std::optional<std::uint64_t> parsed = parseByteSize(*value);
  if (!parsed) {
    fail(setting, "'" + *value + "' is not a byte size (write 1048576, 512KiB, 25MiB or 1GiB)");
  }
  return *parsed;
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
