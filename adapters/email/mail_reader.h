#pragma once

// Reads an Internet mail (RFC 5322 with MIME) into what a work item needs: sender, recipients,
// subject, threading headers, a text body in UTF-8 and the attachments' bytes.

#include "switchboard/message.h"
#include "switchboard/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::email {

struct MailPart {
  std::optional<std::string> name; ///< file name, decoded
  std::string type;                ///< MIME type, lower case, without parameters
  std::string bytes;               ///< decoded content
};

struct Mail {
  std::optional<Address> from;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::optional<std::string> subject; ///< decoded to UTF-8
  std::optional<std::string> messageId;
  std::optional<std::string> inReplyTo;
  std::vector<std::string> references;
  std::optional<std::string> text; ///< the first text/plain part, in UTF-8
  std::optional<std::string> html; ///< the first text/html part, in UTF-8
  std::vector<MailPart> attachments;
};

struct MailLimits {
  std::size_t maxDepth = 16;  ///< nesting of multiparts
  std::size_t maxParts = 500; ///< parts in the whole mail
};

/// Reads `bytes` as a mail. Returns the reason when it cannot be read at all (no header, broken
/// multipart structure, limits exceeded); tolerates what real mailers get wrong (missing
/// charset, unknown transfer encoding, bare LF line ends).
Result<Mail, std::string> readMail(std::string_view bytes, const MailLimits& limits = {});

/// Splits an address list ("Ana <a@x.pt>, \"Silva, J.\" <j@y.pt>, b@z") into addresses of kind
/// "email" with their display names decoded.
std::vector<Address> parseAddressList(std::string_view header);

/// `text` in `charset`, as UTF-8. Unknown charsets are taken as UTF-8 (invalid bytes are
/// replaced when the message is written).
std::string toUtf8(std::string_view text, std::string_view charset);

} // namespace switchboard::email
