#pragma once

// Reads an Internet mail (RFC 5322 with MIME) into what a work item needs: sender, recipients,
// subject, threading headers, a text body in UTF-8, the attachments' bytes, what kind of mail it
// is (a customer's, an auto-reply, a delivery report) and what was wrong with it.
//
// The reader is lenient where real mailers are sloppy and says so: a multipart without its
// closing boundary, bad base64, an unknown charset are read as well as they can be and noted in
// Mail::defects. Only what cannot be a mail at all (no header, over the size or structure
// limits) is refused.

#include "switchboard/message.h"
#include "switchboard/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::email {

struct MailPart {
  std::optional<std::string> name;      ///< file name, decoded
  std::string type;                     ///< MIME type, lower case, without parameters
  std::string bytes;                    ///< decoded content
  std::optional<std::string> contentId; ///< Content-ID without angle brackets (inline images)
  bool isInline = false; ///< shown in the message (Content-Disposition inline, or an image the
                         ///< HTML refers to) rather than attached
};

/// What a mail is, for routing: only customer mail becomes a routed work item.
enum class MailKind {
  Customer,
  AutoReply, ///< Auto-Submitted, Precedence bulk/junk/list, X-Autoreply, read receipts
  Bounce,    ///< delivery status notification: multipart/report, MAILER-DAEMON, postmaster
};

/// "customer", "autoReply" or "bounce".
std::string_view toString(MailKind kind);

struct Mail {
  std::optional<Address> from;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::optional<std::string> subject; ///< decoded to UTF-8
  std::optional<std::string> messageId;
  std::optional<std::string> inReplyTo;
  std::vector<std::string> references;
  std::optional<std::string> text; ///< the text/plain body, in UTF-8
  std::optional<std::string> html; ///< the first text/html part, in UTF-8
  std::vector<MailPart> attachments;
  // Added for the email channel (issue 6).
  std::optional<std::string> replyTo; ///< Reply-To's first address
  MailKind kind = MailKind::Customer;
  std::string kindReason; ///< the header that told the kind ("Auto-Submitted: auto-replied")
  /// For a bounce: the Message-ID of the mail that could not be delivered, when it says.
  std::optional<std::string> bouncedMessageId;
  /// What the reader had to repair, one line each ("invalid base64 in part 3 (image/png)").
  std::vector<std::string> defects;

  /// The body as plain text: the text/plain part, or else the HTML rendered as text.
  std::optional<std::string> plainText() const;
};

struct MailLimits {
  std::size_t maxDepth = 16;  ///< nesting of multiparts
  std::size_t maxParts = 500; ///< parts in the whole mail
  std::size_t maxMessageBytes = 64u << 20;
  std::size_t maxHeaderFields = 2000; ///< fields in one header (long Received chains are fine)
  std::size_t maxHeaderBytes = 1u << 20;
};

/// Reads `bytes` as a mail. Returns the reason when it cannot be read at all (no header, limits
/// exceeded); repairs what real mailers get wrong (missing charset or closing boundary, unknown
/// transfer encoding or charset, bad base64, bare LF line ends) and lists it in Mail::defects.
/// Never throws for bad input.
Result<Mail, std::string> readMail(std::string_view bytes, const MailLimits& limits = {});

/// Splits an address list ("Ana <a@x.pt>, \"Silva, J.\" <j@y.pt>, b@z") into addresses of kind
/// "email" with their display names decoded.
std::vector<Address> parseAddressList(std::string_view header);

/// `text` in `charset`, as UTF-8. Unknown charsets are taken as UTF-8 where the bytes are valid
/// UTF-8, else as Windows-1252; the result is always valid UTF-8.
std::string toUtf8(std::string_view text, std::string_view charset);

/// A header value with its RFC 2047 encoded words decoded, as UTF-8.
std::string decodeHeaderValue(std::string_view value);

/// The work item id a subject quotes as "[#wi-000123]" (any case), in the server's spelling.
std::optional<std::string> workItemReferenceIn(std::string_view subject);

} // namespace switchboard::email
