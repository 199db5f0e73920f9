#include "mime_work_item.h"

#include "mail_text.h"
#include "mime_charset.h"

#include <algorithm>

namespace switchboard::email {
namespace {

using text::cutUtf8;

// The schema's limits for one-line labels and source keys.
constexpr std::size_t kMaxLabel = 512;
constexpr std::size_t kMaxSourceKey = 1000;
// Free attribute values have no schema limit; these keep a hostile header from bloating items.
constexpr std::size_t kMaxAttribute = 4000;
constexpr std::size_t kMaxThreadKeys = 20;

// A label is one line: line breaks in a display name would not survive as an XML attribute.
std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\t') {
      c = ' ';
    }
  }
  return cutUtf8(std::move(text), kMaxLabel);
}

Address label(Address address) {
  address.value = oneLine(std::move(address.value));
  if (address.name) {
    address.name = oneLine(std::move(*address.name));
    if (address.name->empty()) {
      address.name.reset();
    }
  }
  return address;
}

std::string withoutBrackets(std::string_view id) {
  while (!id.empty() && (id.front() == ' ' || id.front() == '\t')) {
    id.remove_prefix(1);
  }
  while (!id.empty() && (id.back() == ' ' || id.back() == '\t')) {
    id.remove_suffix(1);
  }
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') {
    id = id.substr(1, id.size() - 2);
  }
  return std::string(id);
}

bool usableKey(const std::string& key) {
  return !key.empty() && key.size() <= kMaxSourceKey &&
         key.find_first_of(" \t\r\n") == std::string::npos && isUtf8(key);
}

void add(WorkItem& item, std::string name, std::string value) {
  item.attributes.push_back({std::move(name), cutUtf8(repairUtf8(value), kMaxAttribute)});
}

} // namespace

std::optional<Threading> threadingFromString(std::string_view text) {
  if (text == "join") {
    return Threading::Join;
  }
  if (text == "link") {
    return Threading::Link;
  }
  if (text == "off") {
    return Threading::Off;
  }
  return std::nullopt;
}

std::string mailSourceKey(const Mail& mail, std::string_view bytes) {
  if (mail.messageId) {
    std::string id = withoutBrackets(*mail.messageId);
    if (usableKey(id)) {
      return id;
    }
  }
  return sha256Digest(bytes);
}

WorkItem mailWorkItem(const Mail& mail, std::string_view bytes, AttachmentStore& attachments,
                      const MailItemOptions& options) {
  WorkItem item;
  item.medium = std::string(media::kEmail);
  item.sourceKey = options.sourceKey ? *options.sourceKey : mailSourceKey(mail, bytes);
  Customer customer;
  customer.addresses.push_back(label(*mail.from));
  if (customer.addresses.front().name) {
    customer.name = customer.addresses.front().name;
  }
  item.customer = std::move(customer);
  // The address the customer wrote to, as the mail says; one mailbox may serve several.
  if (!mail.to.empty()) {
    item.contactPoint = label(mail.to.front());
  } else if (options.contactPoint) {
    item.contactPoint = Address{"email", *options.contactPoint, std::nullopt};
  }
  if (mail.subject) {
    item.subject = repairUtf8(*mail.subject);
  }
  if (std::optional<std::string> text = mail.plainText()) {
    item.body = Body{"text/plain", *text};
  }
  std::vector<std::string> defects = mail.defects;
  std::uint64_t kept = 0;
  for (const MailPart& part : mail.attachments) {
    std::string shown = part.name.value_or(part.type);
    if (part.bytes.size() > options.maxAttachmentBytes ||
        kept + part.bytes.size() > options.maxAttachmentsTotal) {
      defects.push_back("attachment '" + cutUtf8(shown, 128) + "' of " +
                        std::to_string(part.bytes.size()) + " bytes not kept: over the limit");
      continue;
    }
    kept += part.bytes.size();
    std::optional<std::string> name;
    if (part.name) {
      name = oneLine(repairUtf8(*part.name));
    }
    item.attachments.push_back(attachments.put(part.bytes, std::move(name), part.type));
  }
  // An HTML-only mail reaches the agent as text; the HTML itself is kept beside it.
  if (mail.html && (!mail.text || mail.text->find_first_not_of(" \t\r\n") == std::string::npos)) {
    item.attachments.push_back(attachments.put(*mail.html, "message.html", "text/html"));
  }

  std::string messageId = mail.messageId ? withoutBrackets(*mail.messageId) : std::string();
  if (!messageId.empty()) {
    add(item, "email.messageId", messageId);
  }
  // The key later replies name, whatever source key the mailbox gives the item (IMAP and POP3
  // use UIDVALIDITY:UID or the UIDL when they must).
  if (options.threading != Threading::Off && usableKey(messageId)) {
    add(item, "contactKey", messageId);
  }
  if (mail.inReplyTo) {
    add(item, "email.inReplyTo", *mail.inReplyTo);
  }
  if (!mail.references.empty()) {
    std::string joined;
    for (const std::string& reference : mail.references) {
      joined += (joined.empty() ? "" : " ") + reference;
    }
    add(item, "email.references", joined);
  }
  if (mail.replyTo) {
    add(item, "email.replyTo", *mail.replyTo);
  }
  if (mail.kind != MailKind::Customer) {
    add(item, "email.kind", std::string(toString(mail.kind)));
    add(item, "email.kindReason", mail.kindReason);
    // Automatic mail is kept on record, never offered to an agent as a customer's contact.
    add(item, "noRoute", std::string(toString(mail.kind)) + ": " + mail.kindReason);
  }
  if (mail.bouncedMessageId) {
    add(item, "email.bounced", withoutBrackets(*mail.bouncedMessageId));
  }
  if (!defects.empty()) {
    std::string joined;
    for (const std::string& defect : defects) {
      joined += (joined.empty() ? "" : "; ") + defect;
    }
    add(item, "email.defects", joined);
  }

  if (options.threading != Threading::Off) {
    // The keys of earlier contacts this one answers, nearest first: what the server matches
    // against the source keys of its items and the ids of the replies it sent.
    std::vector<std::string> keys;
    auto addKey = [&](std::string_view raw) {
      std::string key = withoutBrackets(raw);
      if (usableKey(key) && key != messageId && keys.size() < kMaxThreadKeys &&
          std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(std::move(key));
      }
    };
    if (mail.bouncedMessageId) {
      addKey(*mail.bouncedMessageId);
    }
    if (mail.inReplyTo) {
      addKey(*mail.inReplyTo);
    }
    for (auto it = mail.references.rbegin(); it != mail.references.rend(); ++it) {
      addKey(*it);
    }
    if (!keys.empty()) {
      std::string joined;
      for (const std::string& key : keys) {
        joined += (joined.empty() ? "" : " ") + key;
      }
      add(item, "inReplyTo", joined);
    }
    if (mail.subject) {
      if (std::optional<std::string> reference = workItemReferenceIn(*mail.subject)) {
        add(item, "workItemRef", *reference);
      }
    }
    if (options.threading == Threading::Link && (!keys.empty() || mail.subject)) {
      add(item, "threading", "link");
    }
  }
  return item;
}

} // namespace switchboard::email
