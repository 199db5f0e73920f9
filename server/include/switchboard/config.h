#pragma once

// The server's configuration: one XML file (schemas/config/v1/config.xsd, documented in
// docs/configuration.md) loaded into plain values. Loading validates the file against the schema
// and then checks what a schema cannot: unique ids, references between queues, rules and the
// routing options, expressions that compile, secrets that can be read. Any problem stops the
// load with a ConfigError naming the file, the line and column, and the setting.
//
// Queues, rules, agents and engine options load straight into the routing engine's types
// (switchboard/routing/routing_config.h); the store's settings into StoreOptions. Each driver's
// section is handed on as it was written (DriverConfig), for the driver to read with the typed
// readers of ConfigElement, whose errors name the file, line and setting the same way.
//
// Secrets (API keys, the agent-token secret, a PostgreSQL connection string) never appear in an
// error message: errors name the setting and where its value came from, not the value.

#include "switchboard/channel_driver.h"
#include "switchboard/log.h"
#include "switchboard/routing/routing_config.h"
#include "switchboard/store.h"
#include "switchboard/units.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// Where something is written in the configuration file: 1-based line and column (in
/// characters). Zero when there is no place to point at (the file cannot be read).
struct SourcePosition {
  std::size_t line = 0;
  std::size_t column = 0;
  bool operator==(const SourcePosition&) const = default;
};

/// A configuration that cannot be used. what() reads "FILE:LINE:COLUMN: SETTING: reason", e.g.
/// "switchboard.xml:42:13: queue@offerTimeout: '20x' is not a duration (write 500ms, 30s, 2m, 1h)";
/// without a position it reads "FILE: reason". The setting is "element@attribute" for an
/// attribute and "element" for an element or its text.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::filesystem::path file, SourcePosition position, std::string setting,
              std::string reason);

  const std::filesystem::path& file() const { return file_; }
  const SourcePosition& position() const { return position_; }
  const std::string& setting() const { return setting_; }
  const std::string& reason() const { return reason_; }

 private:
  std::filesystem::path file_;
  SourcePosition position_;
  std::string setting_;
  std::string reason_;
};

/// A secret read from the configuration: inline, from a file, or from an environment variable.
/// There is deliberately no way to print it; origin() says where it came from ("inline",
/// "file /etc/switchboard/crm.key", "environment variable SB_CRM_KEY") for messages and logs.
class Secret {
 public:
  Secret() = default;
  Secret(std::string value, std::string origin)
      : value_(std::move(value)), origin_(std::move(origin)) {}

  /// The secret itself: hand it to what needs it, never to a log or a message.
  const std::string& reveal() const { return value_; }
  const std::string& origin() const { return origin_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
  std::string origin_;
};

/// An attribute as written, or as the schema defaults it.
struct ConfigAttribute {
  std::string name;
  std::string value;
  SourcePosition position; ///< of the attribute's name; for a default, of its element
  bool specified = true;   ///< false when the value is the schema's default
};

/// An element of the configuration file with everything in it, as a driver receives its
/// section. The typed readers take an attribute name and throw ConfigError naming the file, the
/// attribute's line and column, and the setting "element@attribute" when the attribute is
/// missing or its value does not read as the type asked for.
struct ConfigElement {
  std::filesystem::path file; ///< the configuration file, for errors and relative paths
  std::string name;           ///< local name, e.g. "maildir"
  SourcePosition position;    ///< of the start tag's '<'
  std::vector<ConfigAttribute> attributes;
  std::string text;            ///< character content with white space at both ends trimmed
  SourcePosition textPosition; ///< of the text's first character; zero when not known
  std::vector<ConfigElement> children;

  /// The attribute, or null when the element has none of that name.
  const ConfigAttribute* find(std::string_view attribute) const;
  /// The value; throws when the attribute is missing.
  const std::string& string(std::string_view attribute) const;
  /// The value, or nothing when the attribute is missing.
  std::optional<std::string> optionalString(std::string_view attribute) const;
  /// An integer in [min, max].
  std::int64_t integer(std::string_view attribute, std::int64_t min, std::int64_t max) const;
  /// true/false (or 1/0, as XML Schema booleans read).
  bool boolean(std::string_view attribute) const;
  /// A duration (500ms, 30s, 2m, 1h, 1d, 1m30s) in whole milliseconds.
  std::chrono::milliseconds duration(std::string_view attribute) const;
  /// A byte size (1048576, 512KiB, 25MiB, 1GiB).
  std::uint64_t byteSize(std::string_view attribute) const;
  /// A path; a relative one is taken relative to the configuration file's folder. The path is
  /// not required to exist.
  std::filesystem::path path(std::string_view attribute) const;
  /// The secret given by exactly one of the attributes `attribute` (the value),
  /// `attribute`File (a file holding it, trailing line breaks removed) or `attribute`Env (an
  /// environment variable holding it). Throws when none or several are given, the file cannot
  /// be read, the variable is unset, or the secret is empty.
  Secret secret(std::string_view attribute) const;

  /// The child elements named `name`, in document order.
  std::vector<const ConfigElement*> childrenNamed(std::string_view name) const;

  /// Throws ConfigError for `attribute` of this element (at the attribute's position when it is
  /// written, else at the element's); an empty `attribute` names the element itself.
  [[noreturn]] void fail(std::string_view attribute, std::string_view reason) const;
  /// The setting name used in errors: "name@attribute", or "name".
  std::string setting(std::string_view attribute) const;
};

/// One channel driver's section, handed to the driver host. `settings` is the whole element,
/// including `name` and `enabled`, with the schema's defaults filled in.
struct DriverConfig {
  std::string type; ///< the element's name: the driver type, e.g. "maildir"
  std::string name; ///< unique among the drivers; the driver's id in messages
  bool enabled = true;
  ConfigElement settings;
};

/// The driver's section as the driver host hands it to a driver (channel_driver.h): every
/// attribute, with the schema's defaults, as a setting with its file, line and column. Child
/// elements are not carried over; a driver that has some reads `settings` itself.
DriverSection toDriverSection(const DriverConfig& driver);

/// One CRM connector's section (<connectors>), handed to the connector as it was written: the
/// connector reads `settings` with the typed readers. `settings` is the whole element, with the
/// schema's defaults filled in.
struct ConnectorConfig {
  std::string type; ///< the element's name: the connector type, e.g. "odbc"
  std::string name; ///< unique among the connectors
  bool enabled = true;
  ConfigElement settings;
};

struct TlsConfig {
  std::filesystem::path certificate; ///< PEM file, absolute; checked readable at load
  std::filesystem::path key;         ///< PEM file, absolute; checked readable at load
};

struct ListenerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0; ///< 0: any free port (tests)
  std::size_t threads = 4;
  std::optional<TlsConfig> tls;
};

/// A folder of web files served on every listener (see StaticFolder in http_api.h).
struct StaticFilesConfig {
  std::string urlPrefix;        ///< "/agent/"
  std::filesystem::path folder; ///< absolute; checked to be a folder at load
  std::chrono::seconds maxAge{0};
};

struct ServerConfig {
  std::string id; ///< the server's id in messages ("sb-1")
  std::vector<ListenerConfig> listeners;
  std::vector<StaticFilesConfig> staticFiles;
};

struct ApiKeyConfig {
  std::string name; ///< who holds the key (a CRM, an integration); appears in logs
  Secret secret;
};

struct SecurityConfig {
  std::vector<ApiKeyConfig> apiKeys;
  Secret agentTokenSecret; ///< signs agent tokens (HMAC); at least 32 bytes
  std::chrono::seconds agentTokenLifetime{std::chrono::hours(8)};
};

struct LoggingConfig {
  LogLevel level = LogLevel::Info;
  LogFormat format = LogFormat::Json;
};

/// A web hook: the events it is sent and where (connectors/rest/webhook_dispatcher.h).
struct WebhookConfig {
  std::string name;
  std::string url;
  bool xml = false;                ///< format="xml": the message document; else JSON
  Secret secret;                   ///< signs each request (HMAC-SHA256); at least 16 bytes
  std::vector<std::string> events; ///< empty: every event
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds retryHorizon{std::chrono::hours(24)};
  std::chrono::milliseconds maxBackoff{std::chrono::minutes(5)};
  bool startAtEnd = true; ///< start="end": a new hook skips the events already stored
};

/// The agent stream's settings (<push>); AgentPush's PushOptions mirror them.
struct PushConfig {
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};
  std::chrono::milliseconds grace{std::chrono::seconds(30)}; ///< 0: offers are never taken back
  std::size_t queueLimit = 1024;
  std::chrono::milliseconds sendTimeout{std::chrono::seconds(10)};
  std::size_t history = 64; ///< messages kept per agent for replay; 0: none
  std::chrono::milliseconds historyAge{std::chrono::minutes(10)};
  std::size_t readers = 2;
  std::size_t senders = 2;
};

/// A loaded, checked configuration.
struct Config {
  std::filesystem::path file; ///< the file it was loaded from, absolute
  std::string version;        ///< the version attribute, e.g. "1.0"
  ServerConfig server;
  /// For PostgreSQL, location holds the connection string, which is a secret.
  StoreOptions store;
  SecurityConfig security;
  LoggingConfig logging;
  PushConfig push;
  std::vector<DriverConfig> drivers;
  routing::EngineOptions engine;
  std::vector<routing::AgentSpec> agents;
  std::vector<routing::QueueSpec> queues;
  std::vector<routing::RuleSpec> rules;
  std::vector<WebhookConfig> webhooks;
  std::vector<ConnectorConfig> connectors;
};

/// Loads and checks the configuration file `file`. Throws ConfigError for any problem: the file
/// cannot be read, is not well-formed XML, has a DOCTYPE, does not match the schema, or fails a
/// check (see docs/configuration.md, "What the server checks"). Reads secret files and
/// environment variables. Thread-safe.
Config loadConfig(const std::filesystem::path& file);

/// Loads and checks a configuration held in memory; `file` names it in errors and anchors
/// relative paths.
Config loadConfigFromString(std::string_view document, const std::filesystem::path& file);

/// `switchboard config check FILE...`: loads each file and prints "FILE: ok (N drivers, N agents,
/// N queues, N rules)" or the error "FILE:LINE:COLUMN: SETTING: reason" to `out`. Returns 0 when
/// every file is good, 1 when any is not, 2 for a wrong command line (message on `err`). Never
/// throws.
int checkConfigCommand(std::span<const std::string_view> arguments, std::ostream& out,
                       std::ostream& err);

} // namespace switchboard
