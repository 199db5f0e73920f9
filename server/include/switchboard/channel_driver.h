#pragma once

// Channel drivers: the pieces that speak one medium each (Maildir, POP3, IMAP, SIP, chat ...).
//
// A driver and the server exchange only Switchboard message documents (docs/message.md), in both
// directions, so a driver living in the server process and one in another process are the same
// to the server. The server hands a driver a MessageSink to submit what arrives; the driver
// carries out the commands the server delivers to it.
//
// Drivers register by type name in a DriverRegistry, explicitly and once; a duplicate is refused.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

class AttachmentStore;
struct ConfigElement;
class MetricsRegistry;

/// Thrown by MessageSink::submit for a document that is not a valid message; what() is the
/// codec's "LINE:COLUMN: reason".
class InvalidDocument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The server's side of the boundary, as a driver sees it.
class MessageSink {
 public:
  virtual ~MessageSink() = default;

  /// Hands one message document to the server and returns the response document. For a
  /// workItemArrived notification it returns only once the work item is committed: a driver
  /// acknowledges upstream (POP3 DELE, IMAP \Seen, Maildir new/ to cur/) only after a response
  /// with status ok or duplicate. Thread-safe; may block (group commit). A valid document that
  /// breaks a rule gets a response with status error. Throws InvalidDocument for a document that
  /// is not a valid message (it gets no response message; the server keeps it as a dead letter),
  /// and std::runtime_error when the server is stopping or its store is unavailable: the driver
  /// then keeps the contact and tries again later.
  virtual std::string submit(std::string_view document) = 0;
};

/// A setting of a driver's configuration section, with the place it was written.
struct Setting {
  std::string value;
  std::string file;
  std::size_t line = 0;
  std::size_t column = 0;
};

/// Thrown for a driver setting that is missing or malformed; what() is
/// "FILE:LINE:COLUMN: SETTING: reason", like every configuration error.
class SettingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A driver's configuration section: its type and name, and its settings by name.
class DriverSection {
 public:
  std::string type; ///< the driver type ("maildir")
  std::string name; ///< this driver's name ("mail-1"), unique in the configuration
  bool enabled = true;
  std::string file; ///< where the section was written
  std::size_t line = 0;
  std::size_t column = 0;
  std::map<std::string, Setting> settings;

  /// The setting's text; throws SettingError when it is missing.
  std::string text(const std::string& setting) const;
  std::optional<std::string> optionalText(const std::string& setting) const;
  /// A path; relative paths are relative to the folder of the file that configured it.
  std::filesystem::path path(const std::string& setting) const;
  /// A duration (see parseDuration in units.h); `fallback` when the setting is absent.
  std::chrono::milliseconds duration(const std::string& setting,
                                     std::chrono::milliseconds fallback) const;
  /// A byte size (see parseByteSize in units.h); `fallback` when the setting is absent.
  std::uint64_t bytes(const std::string& setting, std::uint64_t fallback) const;

  /// The error for `setting`, placed where it (or, when absent, the section) was written.
  [[noreturn]] void fail(const std::string& setting, const std::string& reason) const;
};

/// What the server gives a driver it creates.
struct DriverContext {
  const DriverSection& section;
  MessageSink& sink;
  AttachmentStore& attachments;
  std::string serverId; ///< the addressee of the driver's messages
  /// The whole configuration element, children and secrets included (config.h), for drivers
  /// whose settings do not fit in attributes (several mailboxes, credentials); null when the
  /// section was not read from a configuration file.
  const ConfigElement* element = nullptr;
  /// Where a driver registers its figures for /metrics; null when nobody scrapes them (tests).
  MetricsRegistry* metrics = nullptr;
};

class ChannelDriver {
 public:
  virtual ~ChannelDriver() = default;

  /// Starts receiving. Throws (std::exception) when it cannot, having undone what it did.
  virtual void start() = 0;

  /// Stops receiving; returns once nothing more will be submitted. Safe to call twice.
  virtual void stop() = 0;

  /// Carries out one command document addressed to this driver (sendReply, redirectCall,
  /// deliverChatLine, disconnect) and returns the response document. A command the driver does
  /// not support gets a response with status error and code "unsupported".
  virtual std::string deliver(std::string_view document) = 0;
};

using DriverFactory = std::function<std::unique_ptr<ChannelDriver>(const DriverContext&)>;

class DriverRegistry {
 public:
  /// Registers the factory of driver type `type`. Throws std::invalid_argument when the type is
  /// registered already.
  void add(const std::string& type, DriverFactory factory);

  /// Creates a driver of `context.section.type`. Throws SettingError naming the section when
  /// the type is unknown, and whatever the factory throws for bad settings.
  std::unique_ptr<ChannelDriver> create(const DriverContext& context) const;

  bool has(const std::string& type) const { return factories_.contains(type); }
  std::vector<std::string> types() const;

 private:
  std::map<std::string, DriverFactory> factories_;
};

} // namespace switchboard
