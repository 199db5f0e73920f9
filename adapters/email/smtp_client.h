#pragma once

// Sends one mail through an SMTP relay (Poco::Net::SMTPClientSession): plain, STARTTLS or
// implicit TLS (Poco NetSSL), AUTH LOGIN or PLAIN. The DATA phase is written here rather than by
// Poco's sendMessage() so that the caller can record, durably, the moment before the final "."
// (see SmtpOutbox): until that "." the relay has not taken the mail, and a crash before it can
// safely be followed by sending the mail again.

#include "smtp_options.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::email {

struct SmtpResult {
  enum class Kind {
    Sent,      ///< the relay answered 2xx to the final "."
    Transient, ///< worth trying again: 4xx, connection or TLS trouble, refused login
    Permanent, ///< 5xx to the sender, a recipient or the content: trying again will not help
  };
  Kind kind = Kind::Transient;
  /// The relay's last answer ("250 2.0.0 Ok: queued as ..."), or what went wrong.
  std::string reply;
  /// Whether the final "." was sent (the relay may have taken the mail even when its answer
  /// was lost).
  bool committed = false;
  /// Whether the relay's answer to the final "." was read: a committed mail without an answer
  /// is the one case whose outcome is unknown.
  bool answered = false;
};

class SmtpClient {
 public:
  explicit SmtpClient(SmtpServer server);

  /// Sends `bytes` (CRLF line ends, not dot-stuffed) from `envelopeFrom` to `recipients` in a
  /// session of its own. `beforeCommit` runs after the content is written and before the final
  /// "."; when it throws, the session is abandoned without the "." (the relay discards the mail)
  /// and the exception propagates. `onAnswer` runs with the relay's answer to the "." as soon as
  /// it is read, before QUIT, so that the caller can record it without waiting for the session
  /// to end. Never throws otherwise: failures are results.
  SmtpResult send(const std::string& envelopeFrom, const std::vector<std::string>& recipients,
                  std::string_view bytes, const std::function<void()>& beforeCommit = {},
                  const std::function<void(const SmtpResult&)>& onAnswer = {});

  const SmtpServer& server() const { return server_; }

 private:
  SmtpServer server_;
};

/// `bytes` with every line that starts with "." given a second one (RFC 5321 4.5.2).
std::string dotStuff(std::string_view bytes);

} // namespace switchboard::email
