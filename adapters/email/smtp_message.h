#pragma once

// Composing the mails an email driver sends: replies to a work item's customer and
// acknowledgements of arrival. Pure functions, no I/O: the outbox composes a mail once, keeps its
// bytes, and sends those same bytes however often it has to try.
//
// Threading. A reply carries In-Reply-To: the customer's Message-ID, and References: the
// customer's References followed by their Message-ID, so the customer's mail program shows it in
// the conversation. Its own Message-ID is <sb.WORKITEM.HASH@DOMAIN>, and its subject ends in the
// item reference "[#WORKITEM]": when the customer answers, either one names the work item
// (workItemOfMessageId, workItemOfSubject).

#include "switchboard/message.h"
#include "switchboard/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::email {

/// A mail ready for the outbox.
struct OutgoingMail {
  std::string messageId;               ///< without angle brackets
  std::string envelopeFrom;            ///< MAIL FROM
  std::vector<std::string> recipients; ///< RCPT TO: To and Cc addresses, each once
  std::string bytes;                   ///< RFC 5322 with MIME, CRLF line ends, not dot-stuffed
};

/// Bytes of an attachment, with the reference they were found by.
struct AttachmentBytes {
  Attachment reference;
  std::string bytes;
};

/// Everything a mail says.
struct MailDraft {
  Address from;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::string subject;
  std::string messageId;                ///< without angle brackets
  std::optional<std::string> inReplyTo; ///< without angle brackets
  std::vector<std::string> references;  ///< without angle brackets, oldest first
  Body body;
  std::vector<AttachmentBytes> attachments;
  /// An automatic mail (acknowledgement): marked Auto-Submitted: auto-replied (RFC 3834).
  bool automatic = false;
  Timestamp date{};
};

/// The subject of a reply: the agent's subject when given, else "Re: " and the item's subject;
/// reply prefixes (Re:, RE:, Aw:, Sv:, Antw:, Re[2]:) collapse into one "Re: ", and the item
/// reference "[#WORKITEM]" is added once.
std::string replySubject(const std::optional<std::string>& agentSubject,
                         const std::optional<std::string>& itemSubject,
                         std::string_view workItemId);

/// A new Message-ID for a mail about `workItemId`: "sb.WORKITEM.HASH@DOMAIN", HASH from `seed`.
std::string makeMessageId(std::string_view workItemId, std::string_view seed,
                          std::string_view domain);

/// The work item a Message-ID made by makeMessageId names (angle brackets allowed).
std::optional<std::string> workItemOfMessageId(std::string_view messageId);
/// The work item the reference "[#WORKITEM]" in a subject names.
std::optional<std::string> workItemOfSubject(std::string_view subject);

/// The domain of a mail address ("mares-telecom.example" of "apoio@mares-telecom.example").
std::string domainOf(std::string_view address);

/// Message-IDs in a header value ("<a@b> <c@d>", or bare ids separated by spaces), without
/// their angle brackets.
std::vector<std::string> messageIdsIn(std::string_view header);

/// The text of a header: as is when printable ASCII, else RFC 2047 encoded words (UTF-8, base64),
/// folded so that no line is longer than 78 characters.
std::string encodeHeaderText(std::string_view text);

/// "Name <address>" with the name quoted or encoded as it needs; the bare address without one.
std::string formatAddress(const Address& address);

/// The mail: headers, a text/plain or text/html body (quoted-printable) and the attachments
/// (base64) in a multipart/mixed. Throws std::invalid_argument for an address that could carry a
/// header injection (line breaks, angle brackets).
OutgoingMail composeMail(const MailDraft& draft);

/// Whether a mail is automatic (RFC 3834 and common practice): Auto-Submitted other than "no",
/// Precedence bulk/junk/list, X-Autoreply, X-Autorespond, List-Id, a multipart/report, an empty
/// Return-Path, or a sender that is a mailer daemon or postmaster. `headers`: the raw mail (only
/// its header is read).
bool isAutomaticMail(std::string_view mail);

} // namespace switchboard::email
