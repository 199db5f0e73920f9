#pragma once

// The REST API's plain-HTTP front end: HTTP/1.1 on one or more listening sockets, served by a
// fixed set of worker threads, where an idle keep-alive connection holds no thread.
//
// Poco's HTTPServer gives each connection a thread for as long as the connection lives, so with
// N threads the (N+1)th client that keeps its connection open waits until another closes (up to
// the keep-alive timeout), and every request pays for a fresh epoll set to wait for the next.
// Here idle connections wait together in one epoll set in which every worker waits; a
// connection goes to one worker when bytes of a request arrive, and back to the set after its
// response. A request goes to a worker only once it has arrived whole; an ordinary one is then
// read from the buffered bytes and answered through a BufferedRequest and BufferedResponse
// (buffered_exchange.h, decision 0015), any other (HEAD, a WebSocket upgrade, a chunked body,
// anything malformed) through Poco's HTTPServerRequestImpl and HTTPServerResponseImpl. Handlers
// see Poco's interfaces either way.
//
// TLS listeners stay on Poco's HTTPServer: a TLS connection can hold decrypted bytes that epoll
// cannot see.

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace switchboard::api {

class HttpConnections {
 public:
  struct Impl;

  struct Options {
    int threads = 4; ///< worker threads: requests served at once
    /// How long stopAll() waits for parked requests (defer()) to be resumed.
    std::chrono::milliseconds parkedTimeout{5000};
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

  /// A request whose answer comes after its handler returned (defer()).
  class Parked {
   public:
    virtual ~Parked() = default;
    /// Call once the response is sent (from any thread): the connection serves its next
    /// request. Called before the handler returned, the request simply ends as usual.
    virtual void resume() = 0;
  };

  /// Called by a handler on the worker serving its request: the connection waits without the
  /// worker once the handler returns, the request and response objects stay valid, and the
  /// handler (or whoever it hands the work to) sends the response and calls resume(). Returns
  /// nullptr when the calling thread is not serving a request of an HttpConnections (a TLS
  /// listener): answer before returning.
  static std::shared_ptr<Parked> defer();

  /// Runs `task` soon on one of the workers. Tasks posted after stopAll() are dropped.
  void post(std::function<void()> task);
  /// post() as a function that stays safe to call after this object is gone (it drops).
  std::function<void(std::function<void()>)> poster() const;

  void start();
  /// Stops accepting and closes the listening sockets. Open connections are still served.
  void stopAccepting();
  /// Waits (a while) for parked requests to be resumed, then closes every connection (shutting
  /// down those in the middle of a request, so that their worker returns soon) and joins the
  /// threads. Idempotent.
  void stopAll();

 private:
  std::shared_ptr<Impl> impl_; ///< shared with parked requests, which may outlive a stop
};

} // namespace switchboard::api
