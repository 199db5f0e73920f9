#pragma once

// The request and response objects of an ordinary request whose head parseRequestHead() read
// from the connection's buffered bytes (request_head.h). To a handler they are Poco's
// HTTPServerRequest and HTTPServerResponse, as Poco's own implementations are; they differ in how
// they get there: the request is built from the parsed head and serves its body (already read)
// from memory, and the response writes an answer given whole (sendBuffer) as one piece, head and
// body together. Poco's response could not serve such a request: it writes a body only for a
// request object of its own class.
//
// Requests Poco's parser keeps (HEAD, WebSocket upgrades, chunked or streamed bodies, anything
// unusual) still get Poco's HTTPServerRequestImpl and HTTPServerResponseImpl.

#include "request_head.h"

#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerSession.h>

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace switchboard::api {

/// A server session whose owner may write to it (Poco lets only its own streams).
class ServerSession : public Poco::Net::HTTPServerSession {
 public:
  using HTTPServerSession::HTTPServerSession;
  /// Sends all of `bytes`. Throws Poco::Exception when the connection fails.
  void writeAll(std::string_view bytes);
};

class BufferedResponse : public Poco::Net::HTTPServerResponse {
 public:
  explicit BufferedResponse(ServerSession& session) : session_(session) {}
  ~BufferedResponse() override;

  void sendContinue() override;
  /// As Poco's: the head now, then a stream for a body of the announced length, a chunked one,
  /// or (neither announced) one that ends with the connection, which then is not kept alive.
  std::ostream& send() override;
  void sendFile(const std::string& path, const std::string& mediaType) override;
  /// Head and body in one write.
  void sendBuffer(const void* buffer, std::size_t length) override;
  void redirect(const std::string& uri, HTTPStatus status = HTTP_FOUND) override;
  void requireAuthentication(const std::string& realm) override;
  bool sent() const override { return sent_; }

 private:
  /// The status line, the headers and the empty line after them.
  std::string head() const;
  /// Marks the response sent; a second answer to one request is a handler's defect.
  void beginSending();

  ServerSession& session_;
  std::unique_ptr<std::ostream> stream_;
  bool sent_ = false;
};

class BufferedRequest : public Poco::Net::HTTPServerRequest {
 public:
  BufferedRequest(const RequestHead& head, std::string body, BufferedResponse& response,
                  ServerSession& session, Poco::Net::HTTPServerParams* params);

  std::istream& stream() override { return stream_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return *params_; }
  Poco::Net::HTTPServerResponse& response() const override { return response_; }
  bool secure() const override { return secure_; }

 private:
  BufferedResponse& response_;
  Poco::Net::HTTPServerParams* params_;
  Poco::Net::SocketAddress client_;
  Poco::Net::SocketAddress server_;
  bool secure_;
  std::string body_;
  Poco::MemoryInputStream stream_; ///< over body_
};

} // namespace switchboard::api
