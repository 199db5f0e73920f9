#include "buffered_exchange.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Net/HTTPChunkedStream.h>
#include <Poco/Net/HTTPFixedLengthStream.h>
#include <Poco/Net/HTTPStream.h>
#include <Poco/Net/NetException.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>

namespace switchboard::api {

void ServerSession::writeAll(std::string_view bytes) {
  while (!bytes.empty()) {
    int written = write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (written <= 0) {
      throw Poco::Net::NetException("the connection took no more bytes");
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

BufferedResponse::~BufferedResponse() {
  try {
    stream_.reset(); // a chunked stream writes its last chunk here, as Poco's does
  } catch (...) {
    // The client is gone; there is nobody to tell.
  }
}

std::string BufferedResponse::head() const {
  std::string text;
  text.reserve(256);
  text.append(getVersion()).append(" ").append(std::to_string(static_cast<int>(getStatus())));
  text.append(" ").append(getReason()).append("\r\n");
  for (const auto& [name, value] : *this) {
    text.append(name).append(": ").append(value).append("\r\n");
  }
  text.append("\r\n");
  return text;
}

void BufferedResponse::beginSending() {
  if (sent_) {
    throw Poco::IllegalStateException("the response was sent already");
  }
  sent_ = true;
}

void BufferedResponse::sendContinue() {
  session_.writeAll(getVersion() + " 100 Continue\r\n\r\n");
}

std::ostream& BufferedResponse::send() {
  beginSending();
  int status = static_cast<int>(getStatus());
  if (status < 200 || status == HTTP_NO_CONTENT || status == HTTP_NOT_MODIFIED) {
    session_.writeAll(head());
    stream_ = std::make_unique<Poco::NullOutputStream>(); // these answers have no body
  } else if (getChunkedTransferEncoding()) {
    session_.writeAll(head());
    stream_ = std::make_unique<Poco::Net::HTTPChunkedOutputStream>(session_);
  } else if (hasContentLength()) {
    session_.writeAll(head());
    stream_ =
        std::make_unique<Poco::Net::HTTPFixedLengthOutputStream>(session_, getContentLength64());
  } else {
    setKeepAlive(false); // the body ends where the connection does
    session_.writeAll(head());
    stream_ = std::make_unique<Poco::Net::HTTPOutputStream>(session_);
  }
  return *stream_;
}

void BufferedResponse::sendFile(const std::string& path, const std::string& mediaType) {
  Poco::File file(path);
  Poco::Timestamp modified = file.getLastModified();
  Poco::File::FileSize length = file.getSize();
  Poco::FileInputStream in(path);
  if (!in.good()) {
    throw Poco::OpenFileException(path);
  }
  set("Last-Modified",
      Poco::DateTimeFormatter::format(modified, Poco::DateTimeFormat::HTTP_FORMAT));
  setContentLength64(static_cast<Poco::Int64>(length));
  setContentType(mediaType);
  setChunkedTransferEncoding(false);
  beginSending();
  session_.writeAll(head());
  stream_ = std::make_unique<Poco::Net::HTTPFixedLengthOutputStream>(
      session_, static_cast<Poco::Int64>(length));
  Poco::StreamCopier::copyStream(in, *stream_);
}

void BufferedResponse::sendBuffer(const void* buffer, std::size_t length) {
  setContentLength64(static_cast<Poco::Int64>(length));
  setChunkedTransferEncoding(false);
  beginSending();
  std::string whole = head();
  whole.append(static_cast<const char*>(buffer), length);
  session_.writeAll(whole);
}

void BufferedResponse::redirect(const std::string& uri, HTTPStatus status) {
  setContentLength(0);
  setChunkedTransferEncoding(false);
  setStatusAndReason(status);
  set("Location", uri);
  beginSending();
  session_.writeAll(head());
}

void BufferedResponse::requireAuthentication(const std::string& realm) {
  setStatusAndReason(HTTP_UNAUTHORIZED);
  set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
  setContentLength(0);
  setChunkedTransferEncoding(false);
  beginSending();
  session_.writeAll(head());
}

BufferedRequest::BufferedRequest(const RequestHead& head, std::string body,
                                 BufferedResponse& response, ServerSession& session,
                                 Poco::Net::HTTPServerParams* params)
    : response_(response), params_(params), client_(session.clientAddress()),
      server_(session.serverAddress()), secure_(session.socket().secure()), body_(std::move(body)),
      stream_(body_.data(), body_.size()) {
  setMethod(std::string(head.method));
  setURI(std::string(head.uri));
  setVersion(std::string(head.version));
  for (const auto& [name, value] : head.headers) {
    add(std::string(name), std::string(value));
  }
}

} // namespace switchboard::api
