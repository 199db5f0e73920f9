#include "smtp_message.h"

#include "switchboard/attachment_store.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/MailMessage.h>
#include <Poco/Net/StringPartSource.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

namespace switchboard::email {
namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// References kept in a reply: the first (the thread's root) and the most recent ones.
constexpr std::size_t kMaxReferences = 20;

std::string base64(std::string_view bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool printableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// Length of a reply prefix ("Re:", "RE[2]:", "Aw: ") at the start of `text`, or 0.
std::size_t replyPrefix(std::string_view text) {
  for (std::string_view word : {"antw", "re", "aw", "sv"}) {
    if (text.size() <= word.size() || lower(text.substr(0, word.size())) != word) {
      continue;
    }
    std::size_t at = word.size();
    if (at < text.size() && (text[at] == '[' || text[at] == '(')) {
      char close = text[at] == '[' ? ']' : ')';
      std::size_t end = text.find(close, at);
      if (end == std::string_view::npos) {
        continue;
      }
      at = end + 1;
    }
    while (at < text.size() && text[at] == ' ') {
      ++at;
    }
    if (at < text.size() && text[at] == ':') {
      return at + 1;
    }
  }
  return 0;
}

bool safeAddress(std::string_view address) {
  return !address.empty() && address.find_first_of("\r\n<>,;\" \t") == std::string_view::npos &&
         address.find('@') != std::string_view::npos;
}

bool safeText(std::string_view text) {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

std::string headerOf(std::string_view mail) {
  std::size_t end = mail.find("\r\n\r\n");
  std::size_t bare = mail.find("\n\n");
  end = std::min(end, bare);
  return std::string(mail.substr(0, end == std::string_view::npos ? mail.size() : end));
}

// The unfolded value of the first header `name` (lower case) in `header`.
std::optional<std::string> headerValue(const std::string& header, std::string_view name) {
  std::istringstream lines(header);
  std::optional<std::string> value;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (value && !line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      *value += " " + std::string(trim(line));
      continue;
    }
    if (value) {
      return value;
    }
    std::size_t colon = line.find(':');
    if (colon != std::string::npos && lower(trim(line.substr(0, colon))) == name) {
      value = std::string(trim(line.substr(colon + 1)));
    }
  }
  return value;
}

std::string foldIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) {
    out += (out.empty() ? "<" : "\r\n <") + id + ">";
  }
  return out;
}

} // namespace

std::string replySubject(const std::optional<std::string>& agentSubject,
                         const std::optional<std::string>& itemSubject,
                         std::string_view workItemId) {
  const std::string tag = "[#" + std::string(workItemId) + "]";
  bool own = agentSubject && !trim(*agentSubject).empty();
  std::string text = own ? *agentSubject : itemSubject.value_or("");
  for (std::size_t at; (at = text.find(tag)) != std::string::npos;) {
    text.erase(at, tag.size());
  }
  std::string_view rest = trim(text);
  bool prefixed = false;
  for (std::size_t length; (length = replyPrefix(rest)) > 0;) {
    rest = trim(rest.substr(length));
    prefixed = true;
  }
  std::string subject = (own && !prefixed) ? std::string() : std::string("Re: ");
  subject += rest;
  if (!rest.empty()) {
    subject += ' ';
  }
  return subject + tag;
}

std::string makeMessageId(std::string_view workItemId, std::string_view seed,
                          std::string_view domain) {
  std::string id;
  for (char c : workItemId) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      id += c;
    }
  }
  if (id.empty() || id.size() != workItemId.size()) {
    id = "x";
  }
  std::string digest = sha256Digest(std::string(workItemId) + '\n' + std::string(seed));
  std::string host(domain.empty() ? std::string_view("switchboard.invalid") : domain);
  return "sb." + id + "." + digest.substr(7, 24) + "@" + host;
}

std::optional<std::string> workItemOfMessageId(std::string_view messageId) {
  messageId = trim(messageId);
  if (messageId.starts_with('<')) {
    messageId.remove_prefix(1);
  }
  if (!messageId.starts_with("sb.")) {
    return std::nullopt;
  }
  messageId.remove_prefix(3);
  std::size_t dot = messageId.find('.');
  if (dot == std::string_view::npos || dot == 0 || messageId.substr(0, dot) == "x") {
    return std::nullopt;
  }
  return std::string(messageId.substr(0, dot));
}

std::optional<std::string> workItemOfSubject(std::string_view subject) {
  std::size_t open = subject.rfind("[#");
  if (open == std::string_view::npos) {
    return std::nullopt;
  }
  std::size_t close = subject.find(']', open);
  if (close == std::string_view::npos || close == open + 2) {
    return std::nullopt;
  }
  return std::string(subject.substr(open + 2, close - open - 2));
}

std::string domainOf(std::string_view address) {
  std::size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : lower(address.substr(at + 1));
}

std::vector<std::string> messageIdsIn(std::string_view header) {
  std::vector<std::string> ids;
  std::string current;
  for (char c : header) {
    if (c == '<' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
      if (!current.empty()) {
        ids.push_back(std::move(current));
        current.clear();
      }
    } else {
      current += c;
    }
  }
  if (!current.empty()) {
    ids.push_back(std::move(current));
  }
  return ids;
}

std::string encodeHeaderText(std::string_view text) {
  if (printableAscii(text)) {
    return std::string(text);
  }
  // 45 bytes of text make 60 characters of base64: with "=?UTF-8?B?" and "?=" a word stays
  // within 75 characters, as RFC 2047 asks. Words never split a UTF-8 sequence.
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + 45);
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    std::string_view chunk = text.substr(start, end - start);
    std::string clean;
    for (char c : chunk) {
      clean += (c == '\r' || c == '\n') ? ' ' : c;
    }
    out += (out.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") + base64(clean) + "?=";
    start = end;
  }
  return out;
}

std::string formatAddress(const Address& address) {
  if (!safeAddress(address.value)) {
    throw std::invalid_argument("'" + address.value + "' is not a usable mail address");
  }
  if (!address.name || trim(*address.name).empty()) {
    return address.value;
  }
  std::string name(trim(*address.name));
  if (!printableAscii(name)) {
    return encodeHeaderText(name) + " <" + address.value + ">";
  }
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  return quoted + "\" <" + address.value + ">";
}

OutgoingMail composeMail(const MailDraft& draft) {
  if (draft.to.empty()) {
    throw std::invalid_argument("the mail has no recipient");
  }
  for (const std::string* id : {&draft.messageId}) {
    if (id->empty() || !safeText(*id) || id->find_first_of("<> ") != std::string::npos) {
      throw std::invalid_argument("unusable Message-ID '" + *id + "'");
    }
  }
  Poco::Net::MailMessage mail;
  mail.setSender(formatAddress(draft.from));
  std::string to;
  std::string cc;
  OutgoingMail out;
  out.envelopeFrom = draft.from.value;
  auto addRecipient = [&](const Address& address, std::string& header) {
    header += (header.empty() ? "" : ",\r\n ") + formatAddress(address);
    std::string key = lower(address.value);
    if (std::none_of(out.recipients.begin(), out.recipients.end(),
                     [&](const std::string& r) { return lower(r) == key; })) {
      out.recipients.push_back(address.value);
    }
  };
  for (const Address& address : draft.to) {
    addRecipient(address, to);
  }
  for (const Address& address : draft.cc) {
    addRecipient(address, cc);
  }
  mail.set("To", to);
  if (!cc.empty()) {
    mail.set("Cc", cc);
  }
  mail.setSubject(encodeHeaderText(draft.subject));
  mail.setDate(Poco::Timestamp(draft.date.time_since_epoch().count() * 1000));
  mail.set("Message-ID", "<" + draft.messageId + ">");
  if (draft.inReplyTo && safeText(*draft.inReplyTo)) {
    mail.set("In-Reply-To", "<" + *draft.inReplyTo + ">");
  }
  std::vector<std::string> references;
  for (const std::string& reference : draft.references) {
    if (safeText(reference) && reference.find_first_of("<> ") == std::string::npos &&
        std::find(references.begin(), references.end(), reference) == references.end()) {
      references.push_back(reference);
    }
  }
  if (references.size() > kMaxReferences) {
    references.erase(references.begin() + 1,
                     references.begin() +
                         static_cast<std::ptrdiff_t>(references.size() - kMaxReferences + 1));
  }
  if (!references.empty()) {
    mail.set("References", foldIds(references));
  }
  if (draft.automatic) {
    mail.set("Auto-Submitted", "auto-replied");
    mail.set("X-Auto-Response-Suppress", "All");
  }
  // Bare line feeds are not lines to SMTP: a "." after one would escape dot-stuffing.
  std::string text;
  text.reserve(draft.body.text.size() + draft.body.text.size() / 32);
  for (std::size_t i = 0; i < draft.body.text.size(); ++i) {
    char c = draft.body.text[i];
    if (c == '\r' && i + 1 < draft.body.text.size() && draft.body.text[i + 1] == '\n') {
      continue;
    }
    text += c == '\n' || c == '\r' ? std::string("\r\n") : std::string(1, c);
  }
  std::string type = draft.body.type.value_or("text/plain");
  if (type != "text/html") {
    type = "text/plain";
  }
  std::string bodyType = type + "; charset=UTF-8";
  if (draft.attachments.empty()) {
    mail.setContentType(bodyType);
    mail.setContent(text, Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
  } else {
    mail.addContent(new Poco::Net::StringPartSource(text, bodyType),
                    Poco::Net::MailMessage::ENCODING_QUOTED_PRINTABLE);
    for (const AttachmentBytes& attachment : draft.attachments) {
      std::string name = attachment.reference.name.value_or("attachment");
      Poco::Net::MailMessage::ContentTransferEncoding encoding =
          Poco::Net::MailMessage::ENCODING_BASE64;
      mail.addAttachment(encodeHeaderText(name),
                         new Poco::Net::StringPartSource(
                             attachment.bytes, attachment.reference.type, encodeHeaderText(name)),
                         encoding);
    }
  }
  std::ostringstream bytes;
  mail.write(bytes);
  out.bytes = std::move(bytes).str();
  if (!out.bytes.ends_with("\r\n")) {
    out.bytes += "\r\n";
  }
  out.messageId = draft.messageId;
  return out;
}

bool isAutomaticMail(std::string_view mail) {
  std::string header = headerOf(mail);
  if (auto submitted = headerValue(header, "auto-submitted");
      submitted && lower(*submitted) != "no") {
    return true;
  }
  if (auto precedence = headerValue(header, "precedence")) {
    std::string value = lower(*precedence);
    if (value == "bulk" || value == "junk" || value == "list") {
      return true;
    }
  }
  for (std::string_view name :
       {"x-autoreply", "x-autorespond", "list-id", "x-auto-response-suppress"}) {
    if (headerValue(header, name)) {
      return true;
    }
  }
  if (auto type = headerValue(header, "content-type");
      type && lower(*type).starts_with("multipart/report")) {
    return true;
  }
  if (auto path = headerValue(header, "return-path"); path && trim(*path) == "<>") {
    return true;
  }
  if (auto from = headerValue(header, "from")) {
    std::string value = lower(*from);
    if (value.find("mailer-daemon") != std::string::npos ||
        value.find("postmaster@") != std::string::npos) {
      return true;
    }
  }
  return false;
}

} // namespace switchboard::email
