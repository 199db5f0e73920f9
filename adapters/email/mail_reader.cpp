#include "mail_reader.h"
#include "mail_text.h"

#include "mime_charset.h"
#include "mime_decode.h"
#include "mime_html.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace switchboard::email {
namespace {

using text::isSpace;
using text::lowerAscii;
using text::trim;

// Refusals: the mail cannot be read at all. Caught in readMail and turned into its reason.
class Unreadable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20) || x == y;
         });
}

struct Field {
  std::string_view name;
  std::string value; ///< unfolded, trimmed, not decoded
};

struct Header {
  std::vector<Field> fields;

  const std::string* get(std::string_view name) const {
    for (const Field& field : fields) {
      if (equalsIgnoreCase(field.name, name)) {
        return &field.value;
      }
    }
    return nullptr;
  }
  std::optional<std::string> optional(std::string_view name) const {
    const std::string* value = get(name);
    return value ? std::optional<std::string>(*value) : std::nullopt;
  }
};

// The line starting at `at`: its content and where the next one starts.
std::string_view lineAt(std::string_view data, std::size_t at, std::size_t& next) {
  std::size_t end = data.find('\n', at);
  if (end == std::string_view::npos) {
    next = data.size();
    end = data.size();
  } else {
    next = end + 1;
  }
  std::string_view line = data.substr(at, end - at);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

// Reads the header block of `data`; returns where the body starts (after the blank line).
std::size_t readHeader(std::string_view data, Header& header, const MailLimits& limits,
                       std::vector<std::string>& defects, bool topLevel) {
  std::size_t at = 0;
  while (at < data.size()) {
    std::size_t next = 0;
    std::string_view line = lineAt(data, at, next);
    if (line.empty()) {
      return next;
    }
    if (next > limits.maxHeaderBytes) {
      throw Unreadable("header longer than " + std::to_string(limits.maxHeaderBytes) + " bytes");
    }
    if ((line.front() == ' ' || line.front() == '\t') && !header.fields.empty()) {
      header.fields.back().value += ' ';
      header.fields.back().value += trim(line);
      at = next;
      continue;
    }
    std::size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? line : trim(line.substr(0, colon));
    bool validName =
        colon != std::string_view::npos && !name.empty() &&
        std::all_of(name.begin(), name.end(), [](char c) { return c > 32 && c < 127; });
    if (!validName) {
      // An mbox "From " line before the header is a leftover of local delivery.
      if (topLevel && header.fields.empty() && line.starts_with("From ")) {
        at = next;
        continue;
      }
      if (header.fields.empty()) {
        if (!topLevel) {
          defects.push_back("a MIME part without a header");
        }
        return 0;
      }
      // A header not ended by a blank line: what follows is the body, as mail programs show it.
      defects.push_back("a header not ended by a blank line");
      return at;
    }
    if (header.fields.size() >= limits.maxHeaderFields) {
      throw Unreadable("more than " + std::to_string(limits.maxHeaderFields) + " header fields");
    }
    header.fields.push_back({name, std::string(trim(line.substr(colon + 1)))});
    at = next;
  }
  return data.size();
}

struct Delimiter {
  std::size_t lineStart = 0; ///< where the line break before the delimiter starts
  std::size_t next = 0;      ///< where the line after the delimiter starts
  bool closing = false;
};

// Finds the next delimiter line "--boundary" (or "--boundary--") at or after `from`.
std::optional<Delimiter> findDelimiter(std::string_view body, std::string_view dashBoundary,
                                       std::size_t from) {
  std::size_t at = from;
  while (at <= body.size()) {
    std::size_t found = body.find(dashBoundary, at);
    if (found == std::string_view::npos) {
      return std::nullopt;
    }
    bool lineStart = found == 0 || body[found - 1] == '\n';
    if (lineStart && found >= from) {
      std::size_t after = found + dashBoundary.size();
      bool closing = body.substr(after, 2) == "--";
      std::size_t rest = closing ? after + 2 : after;
      while (rest < body.size() && (body[rest] == ' ' || body[rest] == '\t')) {
        ++rest;
      }
      // Anything else on the line means a longer boundary that merely starts with this one;
      // a closing delimiter may be followed by anything (some mailers add text).
      if (closing || rest == body.size() || body[rest] == '\r' || body[rest] == '\n') {
        Delimiter delimiter;
        delimiter.closing = closing;
        delimiter.lineStart = found;
        if (found > 0 && body[found - 1] == '\n') {
          delimiter.lineStart = found - 1;
          if (found > 1 && body[found - 2] == '\r') {
            delimiter.lineStart = found - 2;
          }
        }
        std::size_t lineEnd = body.find('\n', found);
        delimiter.next = lineEnd == std::string_view::npos ? body.size() : lineEnd + 1;
        return delimiter;
      }
    }
    at = found + 1;
  }
  return std::nullopt;
}

// A boundary guessed from the body, for a multipart that names none: the first "--" line.
std::optional<std::string> guessBoundary(std::string_view body) {
  std::size_t at = 0;
  for (int lines = 0; at < body.size() && lines < 200; ++lines) {
    std::size_t next = 0;
    std::string_view line = trim(lineAt(body, at, next));
    if (line.size() > 2 && line.size() <= 72 && line.starts_with("--")) {
      return std::string(line.substr(2));
    }
    at = next;
  }
  return std::nullopt;
}

// The charset an HTML part names in its own <meta> when its Content-Type does not.
std::string metaCharset(std::string_view html) {
  std::string head = lowerAscii(html.substr(0, 2048));
  std::size_t at = head.find("charset=");
  if (at == std::string::npos) {
    return {};
  }
  at += 8;
  while (at < head.size() && (head[at] == '"' || head[at] == '\'' || head[at] == ' ')) {
    ++at;
  }
  std::size_t end = at;
  while (end < head.size() && (std::isalnum(static_cast<unsigned char>(head[end])) ||
                               head[end] == '-' || head[end] == '_' || head[end] == ':')) {
    ++end;
  }
  return head.substr(at, end - at);
}

// RFC 3676 format=flowed: a line ending in a space continues on the next one; a leading space
// was added to protect the line ("space-stuffing"); the signature separator "-- " stays a line.
std::string unflow(std::string_view text, bool deleteSpace) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line =
        text.substr(at, (end == std::string_view::npos ? text.size() : end) - at);
    std::string_view ending = text.substr(at + line.size(), next - at - line.size());
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
      ending = text.substr(at + line.size(), next - at - line.size());
    }
    if (!line.empty() && line.front() == ' ') {
      line.remove_prefix(1);
    }
    bool quoted = !line.empty() && line.front() == '>';
    bool flowed = !line.empty() && line.back() == ' ' && line != "-- " && !quoted;
    if (flowed) {
      out.append(deleteSpace ? line.substr(0, line.size() - 1) : line);
    } else {
      out.append(line);
      out.append(ending);
    }
    at = next;
  }
  return out;
}

class Walker {
 public:
  Walker(Mail& mail, const MailLimits& limits) : mail_(mail), limits_(limits) {}

  void entity(std::string_view body, const Header& header, std::size_t depth, bool inAlternative,
              bool inRelated) {
    if (++parts_ > limits_.maxParts) {
      throw Unreadable("more than " + std::to_string(limits_.maxParts) + " MIME parts");
    }
    ParameterizedValue type;
    if (const std::string* contentType = header.get("Content-Type")) {
      type = parseParameterized(*contentType);
    }
    if (type.value.find('/') == std::string::npos) {
      if (!type.value.empty()) {
        mail_.defects.push_back("content type '" + type.value.substr(0, 64) +
                                "' read as text/plain");
      }
      type.value = "text/plain";
    }
    if (type.value.starts_with("multipart/")) {
      multipart(body, type, depth);
      return;
    }
    if (type.value == "message/rfc822" || type.value == "text/rfc822-headers" ||
        type.value == "message/delivery-status") {
      noteReport(body, type.value);
    }
    ParameterizedValue disposition;
    if (const std::string* value = header.get("Content-Disposition")) {
      disposition = parseParameterized(*value);
    }
    std::string content = transferDecode(body, header, type.value);
    std::optional<std::string> name;
    if (auto found = disposition.parameters.find("filename");
        found != disposition.parameters.end() && !found->second.empty()) {
      name = found->second;
    } else if (auto named = type.parameters.find("name");
               named != type.parameters.end() && !named->second.empty()) {
      name = named->second;
    }
    bool attached = disposition.value == "attachment";
    bool bodyText = !attached && !name && (type.value == "text/plain" || type.value == "text/html");
    if (bodyText) {
      std::string charset;
      if (auto found = type.parameters.find("charset"); found != type.parameters.end()) {
        charset = found->second;
      }
      if (charset.empty() && type.value == "text/html") {
        charset = metaCharset(content);
      }
      Utf8Text text = convertToUtf8(content, charset);
      if (type.value == "text/plain" && type.parameters.contains("format") &&
          lowerAscii(type.parameters["format"]) == "flowed") {
        auto delsp = type.parameters.find("delsp");
        text.text =
            unflow(text.text, delsp != type.parameters.end() && lowerAscii(delsp->second) == "yes");
      }
      if (!text.known) {
        mail_.defects.push_back("unknown charset '" + charset.substr(0, 64) + "' in part " +
                                std::to_string(parts_) + ", read as UTF-8");
      } else if (!text.clean) {
        mail_.defects.push_back("bytes not valid in charset '" + charset.substr(0, 64) +
                                "' in part " + std::to_string(parts_) + " replaced");
      }
      std::optional<std::string>& slot = type.value == "text/plain" ? mail_.text : mail_.html;
      if (!slot) {
        slot = std::move(text.text);
      } else if (!inAlternative) {
        // Apple Mail splits the text around inline images into several parts of one mixed.
        *slot += type.value == "text/plain" ? "\n" : "";
        *slot += text.text;
      }
      return;
    }
    MailPart part;
    part.name = std::move(name);
    part.type = type.value;
    part.bytes = std::move(content);
    if (const std::string* id = header.get("Content-ID")) {
      std::string_view value = trim(*id);
      if (value.size() >= 2 && value.front() == '<' && value.back() == '>') {
        value = value.substr(1, value.size() - 2);
      }
      if (!value.empty()) {
        part.contentId = std::string(value);
      }
    }
    part.isInline = disposition.value == "inline" || (inRelated && part.contentId && !attached);
    mail_.attachments.push_back(std::move(part));
  }

 private:
  void multipart(std::string_view body, ParameterizedValue& type, std::size_t depth) {
    if (depth >= limits_.maxDepth) {
      throw Unreadable("multiparts nested deeper than " + std::to_string(limits_.maxDepth));
    }
    std::string boundary;
    if (auto found = type.parameters.find("boundary");
        found != type.parameters.end() && !found->second.empty()) {
      boundary = found->second;
    } else if (std::optional<std::string> guessed = guessBoundary(body)) {
      mail_.defects.push_back(type.value + " without a boundary; found '" + guessed->substr(0, 72) +
                              "' in the body");
      boundary = *guessed;
    } else {
      mail_.defects.push_back(type.value + " without a boundary; read as text");
      textFallback(body);
      return;
    }
    if (type.value == "multipart/report") {
      auto reportType = type.parameters.find("report-type");
      std::string report =
          reportType == type.parameters.end() ? "" : lowerAscii(reportType->second);
      classify(report == "disposition-notification" ? MailKind::AutoReply : MailKind::Bounce,
               "Content-Type: multipart/report" +
                   (report.empty() ? std::string() : "; report-type=" + report.substr(0, 64)));
    }
    bool alternative = type.value == "multipart/alternative";
    bool related = type.value == "multipart/related";
    std::string dashBoundary = "--" + boundary;
    std::optional<Delimiter> delimiter = findDelimiter(body, dashBoundary, 0);
    if (!delimiter) {
      mail_.defects.push_back(type.value + ": boundary never found; read as text");
      textFallback(body);
      return;
    }
    std::size_t found = 0;
    while (!delimiter->closing) {
      std::size_t start = delimiter->next;
      std::optional<Delimiter> next = findDelimiter(body, dashBoundary, start);
      std::size_t end = next ? next->lineStart : body.size();
      if (end < start) {
        end = start;
      }
      part(body.substr(start, end - start), depth, alternative, related);
      ++found;
      if (!next) {
        mail_.defects.push_back(type.value + " without its closing boundary");
        break;
      }
      delimiter = next;
    }
    if (found == 0) {
      mail_.defects.push_back(type.value + " with no parts");
    }
  }

  void part(std::string_view data, std::size_t depth, bool alternative, bool related) {
    Header header;
    std::size_t bodyStart = readHeader(data, header, limits_, mail_.defects, false);
    entity(data.substr(std::min(bodyStart, data.size())), header, depth + 1, alternative, related);
  }

  void textFallback(std::string_view body) {
    if (!mail_.text) {
      mail_.text = convertToUtf8(body, "utf-8").text;
    }
  }

  std::string transferDecode(std::string_view body, const Header& header, const std::string& type) {
    const std::string* encoding = header.get("Content-Transfer-Encoding");
    std::string name = encoding ? lowerAscii(trim(*encoding)) : "7bit";
    if (name == "base64") {
      Decoded decoded = decodeBase64(body);
      if (!decoded.clean) {
        mail_.defects.push_back("invalid base64 in part " + std::to_string(parts_) + " (" +
                                type.substr(0, 64) + "), kept what decodes");
      }
      return std::move(decoded.bytes);
    }
    if (name == "quoted-printable") {
      Decoded decoded = decodeQuotedPrintable(body);
      if (!decoded.clean) {
        mail_.defects.push_back("invalid quoted-printable in part " + std::to_string(parts_) +
                                ", kept as written");
      }
      return std::move(decoded.bytes);
    }
    if (name != "7bit" && name != "8bit" && name != "binary" && !name.empty()) {
      mail_.defects.push_back("unknown transfer encoding '" + name.substr(0, 64) +
                              "', kept as written");
    }
    return std::string(body);
  }

  // The headers of the mail a delivery report is about: its Message-ID links the bounce to the
  // conversation it belongs to.
  void noteReport(std::string_view body, const std::string& type) {
    if (type == "message/delivery-status" || mail_.bouncedMessageId) {
      return;
    }
    Header original;
    std::vector<std::string> ignored;
    try {
      readHeader(body, original, limits_, ignored, false);
    } catch (const Unreadable&) {
      return;
    }
    if (const std::string* id = original.get("Message-ID")) {
      mail_.bouncedMessageId = std::string(trim(*id));
    }
  }

  // A delivery report outranks an auto-reply (bounces often carry Auto-Submitted too).
  void classify(MailKind kind, std::string reason) {
    if ((kind == MailKind::Bounce && mail_.kind != MailKind::Bounce) ||
        (kind == MailKind::AutoReply && mail_.kind == MailKind::Customer)) {
      mail_.kind = kind;
      mail_.kindReason = std::move(reason);
    }
  }

  Mail& mail_;
  const MailLimits& limits_;
  std::size_t parts_ = 0;
};

// Automatic mail by its header (RFC 3834, and the de facto headers of older responders).
void classifyByHeader(const Header& header, Mail& mail) {
  auto set = [&](MailKind kind, std::string_view field, const std::string& value) {
    if (mail.kind == MailKind::Customer) {
      mail.kind = kind;
      mail.kindReason = std::string(field) + ": " + value.substr(0, 128);
    }
  };
  if (const std::string* failed = header.get("X-Failed-Recipients")) {
    set(MailKind::Bounce, "X-Failed-Recipients", *failed);
  }
  if (mail.from) {
    std::string sender = lowerAscii(mail.from->value);
    std::string local = sender.substr(0, sender.find('@'));
    if (local == "mailer-daemon" || local == "postmaster") {
      set(MailKind::Bounce, "From", mail.from->value);
    }
  }
  if (const std::string* submitted = header.get("Auto-Submitted")) {
    std::string value = lowerAscii(trim(*submitted));
    if (!value.empty() && !value.starts_with("no")) {
      set(MailKind::AutoReply, "Auto-Submitted", value);
    }
  }
  if (const std::string* precedence = header.get("Precedence")) {
    std::string value = lowerAscii(trim(*precedence));
    if (value == "bulk" || value == "junk" || value == "list" || value == "auto_reply") {
      set(MailKind::AutoReply, "Precedence", value);
    }
  }
  for (std::string_view name : {"X-Autoreply", "X-Autorespond", "X-Auto-Reply"}) {
    if (const std::string* value = header.get(name)) {
      std::string lowered = lowerAscii(trim(*value));
      if (lowered != "no" && lowered != "false" && lowered != "0") {
        set(MailKind::AutoReply, name, lowered.empty() ? "yes" : lowered);
      }
    }
  }
}

std::optional<std::string> angleId(const std::optional<std::string>& value) {
  if (!value) {
    return std::nullopt;
  }
  std::string_view text = trim(*value);
  // A Message-ID header may carry a comment or two ids; the first <...> is the id.
  std::size_t open = text.find('<');
  std::size_t close = open == std::string_view::npos ? open : text.find('>', open);
  if (open != std::string_view::npos && close != std::string_view::npos) {
    return std::string(text.substr(open, close - open + 1));
  }
  return text.empty() ? std::nullopt : std::optional<std::string>(std::string(text));
}

} // namespace

std::string_view toString(MailKind kind) {
  switch (kind) {
  case MailKind::AutoReply:
    return "autoReply";
  case MailKind::Bounce:
    return "bounce";
  case MailKind::Customer:
    break;
  }
  return "customer";
}

std::optional<std::string> Mail::plainText() const {
  if (text && !trim(*text).empty()) {
    return text;
  }
  if (html) {
    return htmlToText(*html);
  }
  return text;
}

std::string toUtf8(std::string_view text, std::string_view charset) {
  return convertToUtf8(text, charset).text;
}

std::string decodeHeaderValue(std::string_view value) {
  return decodeEncodedWords(value);
}

std::vector<Address> parseAddressList(std::string_view list) {
  std::vector<Address> addresses;
  std::string current;
  bool quoted = false;
  int angle = 0;
  int comment = 0;
  auto finish = [&] {
    std::string_view item = trim(current);
    // Group syntax ("undisclosed-recipients:;", "Team: a@x, b@y;") keeps only its members.
    if (std::size_t colon = item.find(':'); colon != std::string_view::npos &&
                                            item.find('<') == std::string_view::npos &&
                                            item.find('"') == std::string_view::npos) {
      item = trim(item.substr(colon + 1));
    }
    while (!item.empty() && item.back() == ';') {
      item = trim(item.substr(0, item.size() - 1));
    }
    Address address;
    address.kind = "email";
    std::size_t open = item.rfind('<');
    std::size_t close = item.rfind('>');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
      address.value = std::string(trim(item.substr(open + 1, close - open - 1)));
      std::string name(trim(item.substr(0, open)));
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
        name = name.substr(1, name.size() - 2);
      }
      if (!trim(name).empty()) {
        address.name = decodeEncodedWords(name);
      }
    } else {
      // "a@b.c (Ana Silva)": the comment is the name.
      std::size_t paren = item.find('(');
      if (paren != std::string_view::npos) {
        std::size_t end = item.rfind(')');
        if (end != std::string_view::npos && end > paren + 1) {
          address.name = decodeEncodedWords(trim(item.substr(paren + 1, end - paren - 1)));
        }
        item = trim(item.substr(0, paren));
      }
      address.value = std::string(item);
    }
    if (!address.value.empty() && address.value.find_first_of(" \t\"") == std::string::npos) {
      address.value = repairUtf8(address.value);
      addresses.push_back(std::move(address));
    }
    current.clear();
  };
  for (char c : list) {
    if (c == '"' && comment == 0) {
      quoted = !quoted;
    } else if (!quoted && c == '(') {
      ++comment;
    } else if (!quoted && c == ')' && comment > 0) {
      --comment;
    } else if (!quoted && comment == 0 && c == '<') {
      ++angle;
    } else if (!quoted && comment == 0 && c == '>' && angle > 0) {
      --angle;
    } else if (!quoted && angle == 0 && comment == 0 && c == ',') {
      finish();
      continue;
    }
    current += c;
  }
  finish();
  return addresses;
}

std::optional<std::string> workItemReferenceIn(std::string_view subject) {
  std::string lowered = lowerAscii(subject);
  for (std::size_t at = lowered.find("[#wi-"); at != std::string::npos;
       at = lowered.find("[#wi-", at + 1)) {
    std::size_t digits = at + 5;
    std::size_t end = digits;
    while (end < lowered.size() && end - digits < 18 && lowered[end] >= '0' &&
           lowered[end] <= '9') {
      ++end;
    }
    if (end == digits || end >= lowered.size() || lowered[end] != ']') {
      continue;
    }
    std::string number = lowered.substr(digits, end - digits);
    number.erase(0, std::min(number.find_first_not_of('0'), number.size() - 1));
    if (number.size() < 6) {
      number.insert(0, 6 - number.size(), '0');
    }
    return "wi-" + number;
  }
  return std::nullopt;
}

Result<Mail, std::string> readMail(std::string_view bytes, const MailLimits& limits) {
  try {
    if (bytes.size() > limits.maxMessageBytes) {
      return "message of " + std::to_string(bytes.size()) + " bytes is over the limit of " +
             std::to_string(limits.maxMessageBytes);
    }
    Mail mail;
    Header header;
    std::size_t bodyStart = readHeader(bytes, header, limits, mail.defects, true);
    if (header.fields.empty()) {
      return std::string("the mail has no header");
    }
    if (const std::string* from = header.get("From")) {
      std::vector<Address> senders = parseAddressList(*from);
      if (!senders.empty()) {
        mail.from = senders.front();
      }
    }
    if (const std::string* to = header.get("To")) {
      mail.to = parseAddressList(*to);
    }
    if (const std::string* cc = header.get("Cc")) {
      mail.cc = parseAddressList(*cc);
    }
    if (const std::string* replyTo = header.get("Reply-To")) {
      std::vector<Address> list = parseAddressList(*replyTo);
      if (!list.empty()) {
        mail.replyTo = list.front().value;
      }
    }
    if (const std::string* subject = header.get("Subject")) {
      mail.subject = decodeEncodedWords(*subject);
    }
    mail.messageId = angleId(header.optional("Message-ID"));
    mail.inReplyTo = angleId(header.optional("In-Reply-To"));
    if (const std::string* references = header.get("References")) {
      std::string_view rest = *references;
      while (!rest.empty()) {
        std::size_t open = rest.find('<');
        std::size_t close = open == std::string_view::npos ? open : rest.find('>', open);
        if (close == std::string_view::npos) {
          // Ids without brackets: split at white space.
          for (std::size_t at = 0; at < rest.size();) {
            std::size_t start = rest.find_first_not_of(" \t", at);
            if (start == std::string_view::npos) {
              break;
            }
            std::size_t end = rest.find_first_of(" \t", start);
            end = end == std::string_view::npos ? rest.size() : end;
            mail.references.emplace_back(rest.substr(start, end - start));
            at = end;
          }
          break;
        }
        mail.references.emplace_back(rest.substr(open, close - open + 1));
        rest = rest.substr(close + 1);
      }
    }
    classifyByHeader(header, mail);
    Walker(mail, limits)
        .entity(bytes.substr(std::min(bodyStart, bytes.size())), header, 0, false, false);
    // A forwarded mail names a Message-ID too; only a bounce is about the mail it carries.
    if (mail.kind != MailKind::Bounce) {
      mail.bouncedMessageId.reset();
    }
    return mail;
  } catch (const Unreadable& e) {
    return std::string("unreadable MIME: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("unreadable MIME: ") + e.what();
  }
}

} // namespace switchboard::email
