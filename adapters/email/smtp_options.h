#pragma once

// The settings of an email driver's outbound mail: the <smtp> child of its configuration element
// (adapters/email/smtp.xsd, docs/configuration.md "Outbound mail: smtp").

#include "switchboard/config.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::email {

enum class SmtpTls {
  None,     ///< plain text (loopback relays and test sinks only)
  StartTls, ///< connect in plain text, then STARTTLS before anything else (port 587)
  Implicit, ///< TLS from the first byte (port 465)
};

enum class SmtpAuth { None, Login, Plain };

/// What the outbox does with a reply whose final "." was sent but whose answer never came back.
enum class UncertainPolicy {
  Resend, ///< send it again (at least once: the customer may get it twice, same Message-ID)
  Hold,   ///< give it up as a dead letter for an operator (at most once)
};

struct SmtpServer {
  std::string host;
  std::uint16_t port = 587;
  SmtpTls tls = SmtpTls::StartTls;
  std::filesystem::path caFile; ///< PEM certificates to trust; empty: the system's
  bool verifyPeer = true;       ///< check the relay's certificate and name; off for test relays
  std::chrono::milliseconds timeout{60000}; ///< connecting, and each read or write
  std::string helo;                         ///< the EHLO name; empty: this machine's host name
  SmtpAuth auth = SmtpAuth::None;
  std::string user;
  Secret password;
};

struct AutoAcknowledge {
  std::string subject = "We have received your message";
  std::string text; ///< {id}, {subject} and {name} are replaced
  /// At most one acknowledgement per customer address within this time.
  std::chrono::milliseconds interval{std::chrono::hours(1)};
};

struct SmtpOptions {
  SmtpServer server;
  std::string from; ///< the address replies come from, and the envelope sender
  std::optional<std::string> fromName;
  /// Other addresses of the mailbox a reply may come from (when the customer wrote to one).
  std::vector<std::string> alsoFrom;
  std::filesystem::path outbox; ///< the outbox database file
  std::uint32_t maxAttempts = 10;
  std::chrono::milliseconds retryHorizon{std::chrono::hours(48)};
  std::chrono::milliseconds retryDelay{std::chrono::seconds(30)};
  std::chrono::milliseconds maxRetryDelay{std::chrono::hours(1)};
  UncertainPolicy uncertain = UncertainPolicy::Hold;
  std::chrono::milliseconds keepSent{std::chrono::hours(24 * 30)};
  std::optional<AutoAcknowledge> autoAcknowledge;
};

/// Reads an <smtp> element. `driverName` names the default outbox file (outbox-NAME.db beside
/// the configuration file). Throws ConfigError naming the attribute (a password that cannot be
/// read, a user without a password, an address that is not one).
SmtpOptions smtpOptionsOf(const ConfigElement& smtp, const std::string& driverName);

/// The <smtp> child of a driver's element, read; nothing when the element has none.
std::optional<SmtpOptions> smtpOptionsOfDriver(const ConfigElement* driver,
                                               const std::string& driverName);

} // namespace switchboard::email
