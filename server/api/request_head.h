#pragma once

// The head of an ordinary HTTP/1.x request, read straight from the bytes a connection buffered,
// without Poco's stream parser. Poco's MessageHeader::read reads a character at a time through a
// stream buffer and runs every header value through RFC 2047 word decoding, which HTTP does not
// use; on a small request that was the largest single cost of serving it.
//
// Only requests this parser is sure of are taken: anything unusual (a bare LF, a folded header
// line, a header over Poco's limits, a body without Content-Length, Transfer-Encoding, Expect,
// Upgrade, HEAD) is left to Poco's parser, so that malformed requests get exactly the answers
// they got before (400 from Poco), and WebSocket upgrades and HEAD keep Poco's request object.

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::api {

struct RequestHead {
  std::string_view method;
  std::string_view uri;
  std::string_view version; ///< "HTTP/1.0" or "HTTP/1.1"
  /// In the order sent, names as sent, values without the white space around them.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  /// Bytes of `bytes` the head takes, empty lines before the request line included; the body
  /// follows.
  std::size_t headSize = 0;
  std::size_t contentLength = 0; ///< 0 without a Content-Length header
};

/// Limits of Poco's parser (HTTPRequest and MessageHeader): beyond them the request goes to Poco,
/// which refuses it.
struct RequestHeadLimits {
  std::size_t method = 32;
  std::size_t uri = 16 * 1024;
  std::size_t fields = 100;
  std::size_t name = 256;
  std::size_t value = 8 * 1024;
  std::size_t body = 1024 * 1024; ///< a larger body goes to Poco, which streams it
};

/// The head of the request at the start of `bytes` when it is an ordinary one and its body (of
/// `contentLength` bytes) is all in `bytes` too; nothing otherwise, and then Poco parses it.
std::optional<RequestHead> parseRequestHead(std::string_view bytes,
                                            const RequestHeadLimits& limits = {});

} // namespace switchboard::api
