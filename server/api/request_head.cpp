#include "request_head.h"

#include "http_text.h"

#include <array>
#include <charconv>

namespace switchboard::api {

namespace {

// RFC 9110 token characters (method and field names).
constexpr std::array<bool, 256> kToken = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) {
    table[static_cast<std::size_t>(c)] = true;
  }
  for (int c = 'a'; c <= 'z'; ++c) {
    table[static_cast<std::size_t>(c)] = true;
    table[static_cast<std::size_t>(c - 'a' + 'A')] = true;
  }
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}();

bool isToken(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    if (!kToken[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

// Visible characters, and in a field value also space and tab: no control characters.
bool isVisible(std::string_view text, bool spaces) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == 0x7f || (byte < 0x20 && !(spaces && byte == '\t')) || (byte == ' ' && !spaces)) {
      return false;
    }
  }
  return true;
}

} // namespace

std::optional<RequestHead> parseRequestHead(std::string_view bytes,
                                            const RequestHeadLimits& limits) {
  // Empty lines before a request are allowed (Poco skips them too).
  std::size_t start = 0;
  while (start + 1 < bytes.size() && bytes[start] == '\r' && bytes[start + 1] == '\n') {
    start += 2;
  }
  std::size_t end = bytes.find("\r\n\r\n", start);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view head = bytes.substr(start, end + 2 - start); // each line ends in CRLF
  RequestHead parsed;
  parsed.headSize = end + 4;

  std::size_t lineEnd = head.find("\r\n");
  std::string_view requestLine = head.substr(0, lineEnd);
  std::size_t firstSpace = requestLine.find(' ');
  std::size_t lastSpace = requestLine.rfind(' ');
  if (firstSpace == std::string_view::npos || firstSpace == lastSpace) {
    return std::nullopt;
  }
  parsed.method = requestLine.substr(0, firstSpace);
  parsed.uri = requestLine.substr(firstSpace + 1, lastSpace - firstSpace - 1);
  parsed.version = requestLine.substr(lastSpace + 1);
  if (!isToken(parsed.method) || parsed.method.size() > limits.method || parsed.uri.empty() ||
      parsed.uri.size() > limits.uri || !isVisible(parsed.uri, false) ||
      (parsed.version != "HTTP/1.1" && parsed.version != "HTTP/1.0")) {
    return std::nullopt;
  }
  if (parsed.method == "HEAD") {
    return std::nullopt; // Poco's response leaves the body out only for its own request object
  }

  bool hasLength = false;
  for (std::size_t at = lineEnd + 2; at < head.size();) {
    std::size_t next = head.find("\r\n", at);
    std::string_view line = head.substr(at, next - at);
    at = next + 2;
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return std::nullopt; // a bare line feed or carriage return
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt; // also a folded line (starting with white space)
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trimWhiteSpace(line.substr(colon + 1));
    if (!isToken(name) || name.size() > limits.name || value.size() > limits.value ||
        !isVisible(value, true) || parsed.headers.size() == limits.fields) {
      return std::nullopt;
    }
    if (namedInAnyCase(name, "transfer-encoding") || namedInAnyCase(name, "expect") ||
        namedInAnyCase(name, "upgrade")) {
      return std::nullopt;
    }
    if (namedInAnyCase(name, "content-length")) {
      std::size_t length = 0;
      auto [stop, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (hasLength || value.empty() || error != std::errc() ||
          stop != value.data() + value.size() || length > limits.body) {
        return std::nullopt;
      }
      hasLength = true;
      parsed.contentLength = length;
    }
    parsed.headers.emplace_back(name, value);
  }
  // Without a length Poco reads a GET's or DELETE's body as empty and any other's until the
  // connection closes: those stay with Poco.
  if (!hasLength && parsed.method != "GET" && parsed.method != "DELETE") {
    return std::nullopt;
  }
  if (bytes.size() - parsed.headSize < parsed.contentLength) {
    return std::nullopt;
  }
  return parsed;
}

} // namespace switchboard::api
