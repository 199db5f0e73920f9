#pragma once

// The REST API's plain-HTTP front end: HTTP/1.1 on one or more listening sockets, served by a
// fixed set of worker threads, where an idle keep-alive connection holds no thread.
//
// Poco's HTTPServer gives each connection a thread for as long as the connection lives, so with
// N threads the (N+1)th client that keeps its connection open waits until another closes (up to
// the keep-alive timeout), and every request pays for a fresh epoll set to wait for the next.
// Here idle connections wait together in one epoll set in which every worker waits; a
// connection goes to one worker when bytes of a request arrive, and back to the set after its
// response. Requests
// are still read and answered through Poco's HTTPServerRequestImpl and HTTPServerResponseImpl,
// so handlers (and WebSocket upgrades, which take the socket over) see what they saw before.
//
// TLS listeners stay on Poco's HTTPServer: a TLS connection can hold decrypted bytes that epoll
// cannot see.

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace switchboard::api {

class HttpConnections {
 public:
  struct Options {
    int threads = 4; ///< worker threads: requests served at once
  };

  /// Events an owner may count; called on worker threads.
  struct Observer {
    std::function<void(int delta)> connections; ///< a connection opened (+1) or closed (-1)
  };

  /// Serves `sockets` (bound and listening, without TLS) with handlers from `factory`. Timeouts
  /// and keep-alive come from `params`. Throws std::system_error when the epoll set cannot be
  /// made. Nothing is served before start().
  HttpConnections(std::vector<Poco::Net::ServerSocket> sockets,
                  Poco::Net::HTTPServerParams::Ptr params,
                  Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Options options,
                  Observer observer = {});
  /// Stops (stopAll()) if still running.
  ~HttpConnections();

  HttpConnections(const HttpConnections&) = delete;
  HttpConnections& operator=(const HttpConnections&) = delete;

  void start();
  /// Stops accepting and closes the listening sockets. Open connections are still served.
  void stopAccepting();
  /// Closes every connection (shutting down those in the middle of a request, so that their
  /// worker returns soon) and joins the threads. Idempotent.
  void stopAll();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace switchboard::api
