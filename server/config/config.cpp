#include "switchboard/config.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

namespace switchboard {
namespace {

// Secret files hold a key or a connection string, never more.
constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

std::string describe(const std::filesystem::path& file, SourcePosition position,
                     const std::string& setting, const std::string& reason) {
  std::string text = file.string();
  if (position.line != 0) {
    text += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
  }
  text += ": ";
  if (!setting.empty()) {
    text += setting + ": ";
  }
  return text + reason;
}

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

} // namespace

ConfigError::ConfigError(std::filesystem::path file, SourcePosition position, std::string setting,
                         std::string reason)
    : std::runtime_error(describe(file, position, setting, reason)), file_(std::move(file)),
      position_(position), setting_(std::move(setting)), reason_(std::move(reason)) {}

const ConfigAttribute* ConfigElement::find(std::string_view attribute) const {
  for (const ConfigAttribute& candidate : attributes) {
    if (candidate.name == attribute) {
      return &candidate;
    }
  }
  return nullptr;
}

std::string ConfigElement::setting(std::string_view attribute) const {
  return attribute.empty() ? name : name + "@" + std::string(attribute);
}

void ConfigElement::fail(std::string_view attribute, std::string_view reason) const {
  const ConfigAttribute* written = attribute.empty() ? nullptr : find(attribute);
  throw ConfigError(file, written != nullptr ? written->position : position, setting(attribute),
                    std::string(reason));
}

const std::string& ConfigElement::string(std::string_view attribute) const {
  const ConfigAttribute* found = find(attribute);
  if (found == nullptr) {
    fail(attribute, "is required");
  }
  return found->value;
}

std::optional<std::string> ConfigElement::optionalString(std::string_view attribute) const {
  const ConfigAttribute* found = find(attribute);
  if (found == nullptr) {
    return std::nullopt;
  }
  return found->value;
}

std::int64_t ConfigElement::integer(std::string_view attribute, std::int64_t min,
                                    std::int64_t max) const {
  std::string_view written = trimmed(string(attribute));
  std::string_view digits = written.starts_with('+') ? written.substr(1) : written;
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  bool whole = end == digits.data() + digits.size();
  if (error == std::errc::result_out_of_range ||
      (error == std::errc() && whole && (value < min || value > max))) {
    fail(attribute, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  if (error != std::errc() || !whole) {
    fail(attribute, "'" + std::string(written) + "' is not a whole number");
  }
  return value;
}

bool ConfigElement::boolean(std::string_view attribute) const {
  std::string_view written = trimmed(string(attribute));
  if (written == "true" || written == "1") {
    return true;
  }
  if (written == "false" || written == "0") {
    return false;
  }
  fail(attribute, "'" + std::string(written) + "' is not true or false");
}

std::chrono::milliseconds ConfigElement::duration(std::string_view attribute) const {
  const std::string& written = string(attribute);
  std::optional<std::chrono::microseconds> value = parseDuration(written);
  if (!value) {
    fail(attribute,
         "'" + written + "' is not a duration (write 0, 500ms, 30s, 2m, 1h, 1d or 1m30s)");
  }
  if (value->count() % 1000 != 0) {
    fail(attribute, "'" + written + "' is not a whole number of milliseconds");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*value);
}

std::uint64_t ConfigElement::byteSize(std::string_view attribute) const {
  const std::string& written = string(attribute);
  std::optional<std::uint64_t> value = parseByteSize(written);
  if (!value) {
    fail(attribute, "'" + written + "' is not a byte size (write 1048576, 512KiB, 25MiB or 1GiB)");
  }
  return *value;
}

std::filesystem::path ConfigElement::path(std::string_view attribute) const {
  std::filesystem::path value(string(attribute));
  if (value.empty()) {
    fail(attribute, "must not be empty");
  }
  if (value.is_relative()) {
    std::error_code ignored;
    std::filesystem::path folder = std::filesystem::absolute(file, ignored).parent_path();
    value = folder / value;
  }
  return value.lexically_normal();
}

Secret ConfigElement::secret(std::string_view attribute) const {
  const std::string base(attribute);
  const std::string inFile = base + "File";
  const std::string inEnvironment = base + "Env";
  std::vector<std::string_view> given;
  for (std::string_view candidate :
       {std::string_view(base), std::string_view(inFile), std::string_view(inEnvironment)}) {
    const ConfigAttribute* found = find(candidate);
    if (found != nullptr && found->specified) {
      given.push_back(candidate);
    }
  }
  const std::string choices = base + ", " + inFile + " or " + inEnvironment;
  if (given.empty()) {
    fail(attribute, "is required: give it with one of " + choices);
  }
  if (given.size() > 1) {
    fail(given[1], "give only one of " + choices);
  }
  std::string_view source = given.front();
  std::string value;
  std::string origin;
  if (source == base) {
    value = string(base);
    origin = "inline";
  } else if (source == inFile) {
    std::filesystem::path secretFile = path(inFile);
    std::ifstream stream(secretFile, std::ios::binary);
    if (!stream) {
      fail(inFile,
           "cannot read the secret file " + secretFile.string() + ": " + std::strerror(errno));
    }
    value.assign(std::istreambuf_iterator<char>(stream), {});
    if (value.size() > kMaxSecretFileBytes) {
      fail(inFile, "the secret file " + secretFile.string() + " is larger than " +
                       std::to_string(kMaxSecretFileBytes) + " bytes");
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
      value.pop_back();
    }
    origin = "file " + secretFile.string();
  } else {
    const std::string& variable = string(inEnvironment);
    const char* set = std::getenv(variable.c_str());
    if (set == nullptr) {
      fail(inEnvironment, "the environment variable " + variable + " is not set");
    }
    value = set;
    origin = "environment variable " + variable;
  }
  if (value.empty()) {
    fail(source, "the secret is empty (" + origin + ")");
  }
  return Secret(std::move(value), std::move(origin));
}

std::vector<const ConfigElement*> ConfigElement::childrenNamed(std::string_view wanted) const {
  std::vector<const ConfigElement*> found;
  for (const ConfigElement& child : children) {
    if (child.name == wanted) {
      found.push_back(&child);
    }
  }
  return found;
}

DriverSection toDriverSection(const DriverConfig& driver) {
  DriverSection section;
  section.type = driver.type;
  section.name = driver.name;
  section.enabled = driver.enabled;
  section.file = driver.settings.file.string();
  section.line = driver.settings.position.line;
  section.column = driver.settings.position.column;
  for (const ConfigAttribute& attribute : driver.settings.attributes) {
    section.settings[attribute.name] =
        Setting{attribute.value, section.file, attribute.position.line, attribute.position.column};
  }
  return section;
}

} // namespace switchboard
