#include "mail_reader.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/QuotedPrintableDecoder.h>
#include <Poco/String.h>
#include <Poco/TextConverter.h>
#include <Poco/TextEncoding.h>
#include <Poco/UTF8Encoding.h>

#include <limits>
#include <sstream>

namespace switchboard::email {
namespace {

using Poco::Net::MessageHeader;
using Poco::Net::NameValueCollection;

// Real mail carries long Received chains; the limit only stops a header that never ends.
constexpr int kMaxHeaderFields = 2000;

std::string lower(std::string text) {
  return Poco::toLower(text);
}

std::string trim(std::string_view text) {
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  std::size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// Encoded words (=?charset?B|Q?...?=) anywhere in a header, decoded to UTF-8.
std::string decodeHeader(const std::string& value) {
  if (value.find("=?") == std::string::npos) {
    return value;
  }
  try {
    return MessageHeader::decodeWord(value, "UTF-8");
  } catch (const Poco::Exception&) {
    return value;
  }
}

std::optional<std::string> header(const MessageHeader& headers, const std::string& name) {
  if (!headers.has(name)) {
    return std::nullopt;
  }
  return trim(headers.get(name));
}

struct ContentType {
  std::string type = "text/plain";
  NameValueCollection parameters;
};

ContentType contentType(const MessageHeader& headers) {
  ContentType result;
  if (headers.has("Content-Type")) {
    std::string value;
    MessageHeader::splitParameters(headers.get("Content-Type"), value, result.parameters);
    value = lower(trim(value));
    if (value.find('/') != std::string::npos) {
      result.type = value;
    }
  }
  return result;
}

std::string decodeContent(std::istream& in, const MessageHeader& headers) {
  std::string encoding = lower(header(headers, "Content-Transfer-Encoding").value_or("7bit"));
  std::ostringstream out;
  if (encoding == "base64") {
    Poco::Base64Decoder decoder(in);
    out << decoder.rdbuf();
  } else if (encoding == "quoted-printable") {
    Poco::Net::QuotedPrintableDecoder decoder(in);
    out << decoder.rdbuf();
  } else {
    out << in.rdbuf();
  }
  return std::move(out).str();
}

std::optional<std::string> fileName(const MessageHeader& headers, const ContentType& type) {
  if (headers.has("Content-Disposition")) {
    std::string disposition;
    NameValueCollection parameters;
    MessageHeader::splitParameters(headers.get("Content-Disposition"), disposition, parameters);
    if (parameters.has("filename")) {
      return decodeHeader(parameters.get("filename"));
    }
  }
  if (type.parameters.has("name")) {
    return decodeHeader(type.parameters.get("name"));
  }
  return std::nullopt;
}

bool isAttachment(const MessageHeader& headers) {
  return headers.has("Content-Disposition") &&
         lower(trim(headers.get("Content-Disposition"))).starts_with("attachment");
}

class Walker {
 public:
  Walker(Mail& mail, const MailLimits& limits) : mail_(mail), limits_(limits) {}

  void entity(std::istream& in, const MessageHeader& headers, std::size_t depth) {
    if (++parts_ > limits_.maxParts) {
      throw std::runtime_error("more than " + std::to_string(limits_.maxParts) + " MIME parts");
    }
    ContentType type = contentType(headers);
    if (type.type.starts_with("multipart/")) {
      if (depth >= limits_.maxDepth) {
        throw std::runtime_error("multiparts nested deeper than " +
                                 std::to_string(limits_.maxDepth));
      }
      if (!type.parameters.has("boundary")) {
        throw std::runtime_error(type.type + " without a boundary");
      }
      Poco::Net::MultipartReader reader(in, type.parameters.get("boundary"));
      while (reader.hasNextPart()) {
        MessageHeader partHeaders;
        reader.nextPart(partHeaders);
        entity(reader.stream(), partHeaders, depth + 1);
      }
      // The epilogue after the closing boundary belongs to no part; an enclosing multipart finds
      // its next boundary only once it is consumed.
      in.ignore(std::numeric_limits<std::streamsize>::max());
      return;
    }
    std::string content = decodeContent(in, headers);
    std::optional<std::string> name = fileName(headers, type);
    bool inlineText = !isAttachment(headers) && !name;
    std::string charset = type.parameters.get("charset", "us-ascii");
    if (inlineText && type.type == "text/plain" && !mail_.text) {
      mail_.text = toUtf8(content, charset);
    } else if (inlineText && type.type == "text/html" && !mail_.html) {
      mail_.html = toUtf8(content, charset);
    } else {
      mail_.attachments.push_back({std::move(name), type.type, std::move(content)});
    }
  }

 private:
  Mail& mail_;
  const MailLimits& limits_;
  std::size_t parts_ = 0;
};

} // namespace

std::string toUtf8(std::string_view text, std::string_view charset) {
  std::string name = lower(std::string(charset));
  if (name.empty() || name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii") {
    return std::string(text);
  }
  Poco::TextEncoding* source = Poco::TextEncoding::find(name);
  if (source == nullptr) {
    return std::string(text);
  }
  Poco::UTF8Encoding utf8;
  Poco::TextConverter converter(*source, utf8);
  std::string out;
  converter.convert(text.data(), static_cast<int>(text.size()), out);
  return out;
}

std::vector<Address> parseAddressList(std::string_view list) {
  std::vector<Address> addresses;
  std::string current;
  bool quoted = false;
  int angle = 0;
  auto finish = [&] {
    std::string item = trim(current);
    current.clear();
    if (item.empty()) {
      return;
    }
    Address address;
    address.kind = "email";
    std::size_t open = item.rfind('<');
    std::size_t close = item.rfind('>');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      address.value = trim(std::string_view(item).substr(open + 1, close - open - 1));
      std::string name = trim(std::string_view(item).substr(0, open));
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
        name = name.substr(1, name.size() - 2);
      }
      if (!name.empty()) {
        address.name = decodeHeader(name);
      }
    } else {
      address.value = item;
    }
    if (!address.value.empty()) {
      addresses.push_back(std::move(address));
    }
  };
  for (char c : list) {
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == '<') {
      ++angle;
    } else if (!quoted && c == '>' && angle > 0) {
      --angle;
    } else if (!quoted && angle == 0 && c == ',') {
      finish();
      continue;
    }
    current += c;
  }
  finish();
  return addresses;
}

Result<Mail, std::string> readMail(std::string_view bytes, const MailLimits& limits) {
  try {
    std::istringstream in{std::string(bytes)};
    MessageHeader headers;
    headers.setFieldLimit(kMaxHeaderFields);
    headers.read(in);
    if (headers.empty()) {
      return std::string("the mail has no header");
    }
    Mail mail;
    if (auto from = header(headers, "From")) {
      std::vector<Address> senders = parseAddressList(*from);
      if (!senders.empty()) {
        mail.from = senders.front();
      }
    }
    if (auto to = header(headers, "To")) {
      mail.to = parseAddressList(*to);
    }
    if (auto cc = header(headers, "Cc")) {
      mail.cc = parseAddressList(*cc);
    }
    if (auto subject = header(headers, "Subject")) {
      mail.subject = decodeHeader(*subject);
    }
    mail.messageId = header(headers, "Message-ID");
    mail.inReplyTo = header(headers, "In-Reply-To");
    if (auto references = header(headers, "References")) {
      std::istringstream words(*references);
      for (std::string word; words >> word;) {
        mail.references.push_back(word);
      }
    }
    // The blank line that ends the header is left in the stream by MessageHeader::read.
    if (in.peek() == '\r') {
      in.get();
    }
    if (in.peek() == '\n') {
      in.get();
    }
    Walker(mail, limits).entity(in, headers, 0);
    return mail;
  } catch (const Poco::Exception& e) {
    return "unreadable MIME: " + e.displayText();
  } catch (const std::exception& e) {
    return std::string("unreadable MIME: ") + e.what();
  }
}

} // namespace switchboard::email
