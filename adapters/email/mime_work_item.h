#pragma once

// The work item a mail becomes, shared by every email source (Maildir, POP3, IMAP): customer
// and contact point, subject, a plain-text body (HTML rendered as text), attachments kept once
// by digest in the attachment store, and the attributes that let the server thread replies and
// keep automatic mail out of routing (docs/message.md, 4.4).

#include "mail_reader.h"
#include "switchboard/attachment_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::email {

/// How a reply to an earlier contact becomes part of the conversation.
enum class Threading {
  Join, ///< joins the earlier work item while it is open, else a new item in its thread
  Link, ///< always a new item, in the thread of the earlier one
  Off,  ///< every mail is a new, unlinked item
};

/// "join", "link" or "off"; nothing for another word.
std::optional<Threading> threadingFromString(std::string_view text);

struct MailItemOptions {
  /// The contact point of mail whose To: header names no one (the mail's own To: wins).
  std::optional<std::string> contactPoint;
  /// An attachment larger than this is not kept: the item says so in email.defects.
  std::uint64_t maxAttachmentBytes = 20u << 20;
  /// Attachments of one mail beyond this total are not kept either.
  std::uint64_t maxAttachmentsTotal = 50u << 20;
  Threading threading = Threading::Join;
  /// The idempotency key when the source has one of its own (IMAP mailbox, UIDVALIDITY and UID;
  /// POP3 mailbox and UIDL); without it, mailSourceKey().
  std::optional<std::string> sourceKey;
};

/// A mail's idempotency key: its Message-ID without angle brackets, or "sha256:" and the digest
/// of its bytes when it has no usable one.
std::string mailSourceKey(const Mail& mail, std::string_view bytes);

/// The workItemArrived record for `mail` (read from `bytes`), with its attachments put in
/// `attachments`. `mail.from` must be set. Throws std::runtime_error when the attachment store
/// cannot write.
WorkItem mailWorkItem(const Mail& mail, std::string_view bytes, AttachmentStore& attachments,
                      const MailItemOptions& options = {});

} // namespace switchboard::email
