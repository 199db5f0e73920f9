#pragma once

// The settings the mailbox sources (POP3, IMAP) share: which mail server, how to secure the
// connection, and the mailboxes to read with their credentials. Read from the driver's
// configuration element (docs/configuration.md, "pop3" and "imap").

#include "switchboard/channel_driver.h"
#include "switchboard/config.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::email {

enum class TlsMode {
  None,     ///< plain text (loopback and test servers only)
  StartTls, ///< connect in plain text, then upgrade (IMAP STARTTLS, POP3 STLS) before login
  Implicit, ///< TLS from the first byte (imaps 993, pop3s 995)
};

struct MailServer {
  std::string host;
  std::uint16_t port = 0;
  TlsMode tls = TlsMode::Implicit;
  /// PEM file of the certificates to trust; empty: the system's.
  std::filesystem::path caFile;
  /// Check the server's certificate and name. Off only for test servers.
  bool verifyPeer = true;
  /// Connecting and each read or write.
  std::chrono::milliseconds timeout{30000};
};

/// One mailbox: whose it is, and (IMAP) which folder.
struct MailboxAccount {
  std::string user;
  Secret password;
  std::string folder = "INBOX"; ///< IMAP only
  /// The work items' contact point when a mail's To: names no one.
  std::optional<std::string> contactPoint;
};

/// The mail server settings of a pop3 or imap element: host, port (default `defaultPort` for
/// plain and STARTTLS, `implicitPort` for implicit TLS), tls, caFile, verifyPeer, timeout.
/// Throws ConfigError naming the attribute.
MailServer mailServerOf(const ConfigElement& element, std::uint16_t defaultPort,
                        std::uint16_t implicitPort);

/// The <mailbox> children of a pop3 or imap element; at least one. Throws ConfigError naming the
/// attribute (a password that cannot be read, two mailboxes alike).
std::vector<MailboxAccount> mailboxesOf(const ConfigElement& element, bool withFolder);

/// The element a driver factory was given; throws SettingError when the section was not read
/// from a configuration file (the mailbox sources need their <mailbox> children).
const ConfigElement& elementOf(const DriverContext& context);

} // namespace switchboard::email
