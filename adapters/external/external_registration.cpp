#include "external_registration.h"

#include "switchboard/config.h"

#include <sstream>

namespace switchboard::external {
namespace {

// The driver as the server holds it: reachable at the endpoint exactly while started.
class AttachedDriver final : public ChannelDriver {
 public:
  AttachedDriver(std::unique_ptr<ExternalDriver> driver, ExternalEndpoint& endpoint)
      : driver_(std::move(driver)), endpoint_(endpoint) {}
  ~AttachedDriver() override { stop(); }

  void start() override {
    driver_->start();
    try {
      endpoint_.attach(*driver_);
    } catch (...) {
      driver_->stop();
      throw;
    }
    attached_ = true;
  }
  void stop() override {
    if (attached_) {
      attached_ = false;
      endpoint_.detach(driver_->name());
    }
    driver_->stop();
  }
  std::string deliver(std::string_view document) override { return driver_->deliver(document); }

 private:
  std::unique_ptr<ExternalDriver> driver_;
  ExternalEndpoint& endpoint_;
  bool attached_ = false;
};

} // namespace

ExternalOptions readOptions(const DriverSection& section, const std::string& serverId) {
  ExternalOptions options;
  options.name = section.name;
  options.serverId = serverId;
  // The configuration's own secret reader, so that key, keyFile and keyEnv mean what they mean
  // for every other secret.
  ConfigElement element;
  element.file = section.file;
  element.name = section.type;
  element.position = {section.line, section.column};
  for (const auto& [name, setting] : section.settings) {
    element.attributes.push_back({name, setting.value, {setting.line, setting.column}, true});
  }
  try {
    Secret key = element.secret("key");
    if (key.reveal().size() < 16) {
      section.fail(section.settings.contains("key") ? "key" : "keyFile",
                   "the key (" + key.origin() + ") is shorter than 16 characters");
    }
    options.key = key.reveal();
  } catch (const ConfigError& e) {
    throw SettingError(e.what());
  }
  if (auto media = section.optionalText("media")) {
    std::istringstream words(*media);
    for (std::string medium; words >> medium;) {
      options.media.push_back(medium);
    }
  }
  options.commandTimeout = section.duration("commandTimeout", options.commandTimeout);
  options.heartbeatTimeout = section.duration("heartbeatTimeout", options.heartbeatTimeout);
  options.maxMessageBytes =
      static_cast<std::size_t>(section.bytes("maxMessageBytes", options.maxMessageBytes));
  if (options.commandTimeout.count() <= 0) {
    section.fail("commandTimeout", "must be more than 0");
  }
  if (options.heartbeatTimeout < std::chrono::seconds(2)) {
    section.fail("heartbeatTimeout", "must be at least 2s");
  }
  if (options.maxMessageBytes < 1024 || options.maxMessageBytes > (64u << 20)) {
    section.fail("maxMessageBytes", "must be between 1KiB and 64MiB");
  }
  return options;
}

void registerExternalDriver(DriverRegistry& registry, ExternalEndpoint& endpoint, Logger& logger) {
  registry.add("external", [&endpoint, &logger](const DriverContext& context) {
    auto driver = std::make_unique<ExternalDriver>(readOptions(context.section, context.serverId),
                                                   context.sink, logger);
    return std::make_unique<AttachedDriver>(std::move(driver), endpoint);
  });
}

} // namespace switchboard::external
