#pragma once

// A web hook receiver for the tests: a real HTTP server on loopback that keeps every request it
// gets and answers with the status the test chooses.

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::testing {

struct ReceivedRequest {
  std::map<std::string, std::string> headers;
  std::string body;
  int answered = 0;
};

class WebhookReceiver {
 public:
  /// Decides the status of each request (200 when unset).
  using Answer = std::function<int(const ReceivedRequest&)>;

  /// Listens on `port` (0: any free port).
  explicit WebhookReceiver(std::uint16_t port = 0) {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", port), true);
    socket.listen(64);
    port_ = socket.address().port();
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(4);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
    server_->start();
  }
  ~WebhookReceiver() { server_->stopAll(true); }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks"; }

  void answerWith(Answer answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }

  /// The requests answered 2xx, in the order they arrived.
  std::vector<ReceivedRequest> accepted() const {
    std::lock_guard lock(mutex_);
    std::vector<ReceivedRequest> out;
    for (const ReceivedRequest& request : requests_) {
      if (request.answered >= 200 && request.answered < 300) {
        out.push_back(request);
      }
    }
    return out;
  }
  std::size_t attempts() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

  /// Waits until `count` requests were accepted; false after a generous deadline.
  bool waitForAccepted(std::size_t count,
                       std::chrono::seconds deadline = std::chrono::seconds(60)) const {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (accepted().size() >= count) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(WebhookReceiver& receiver) : receiver_(receiver) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      ReceivedRequest received;
      for (const auto& [name, value] : request) {
        received.headers[name] = value;
      }
      received.headers["Content-Type"] = request.getContentType();
      Poco::StreamCopier::copyToString(request.stream(), received.body);
      {
        std::lock_guard lock(receiver_.mutex_);
        received.answered = receiver_.answer_ ? receiver_.answer_(received) : 200;
        receiver_.requests_.push_back(received);
      }
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(received.answered));
      response.setContentLength(0);
      response.send();
    }

   private:
    WebhookReceiver& receiver_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(WebhookReceiver& receiver) : receiver_(receiver) {}
    Poco::Net::HTTPRequestHandler*
    createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(receiver_);
    }

   private:
    WebhookReceiver& receiver_;
  };

  mutable std::mutex mutex_;
  Answer answer_;
  std::vector<ReceivedRequest> requests_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

} // namespace switchboard::testing
