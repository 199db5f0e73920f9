// The second reference of bench/rest_bench.sh: a bare Poco::Net HTTPServer that answers every
// request with the bytes of one file, with the same thread count as Switchboard's listener. The
// difference between it and Switchboard is what Switchboard's own work costs (routing the
// request, authentication, the service call, JSON); the difference between it and nginx is what
// the HTTP layer costs.
//
// Usage: poco_http_reference FILE PORT THREADS   (runs until SIGTERM)

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>

namespace {

class FileHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit FileHandler(const std::string& body) : body_(body) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    request.stream().ignore(std::numeric_limits<std::streamsize>::max());
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body_.size()));
    response.send() << body_;
  }

 private:
  const std::string& body_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(std::string body) : body_(std::move(body)) {}
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new FileHandler(body_);
  }

 private:
  std::string body_;
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: poco_http_reference FILE PORT THREADS\n";
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  std::ostringstream body;
  body << file.rdbuf();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(std::stoi(argv[3]));
  params->setMaxQueued(256);
  Poco::Net::ServerSocket socket(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(std::stoi(argv[2]))));
  Poco::ThreadPool pool(2, std::stoi(argv[3]));
  Poco::Net::HTTPServer server(new Factory(body.str()), pool, socket, params);
  server.start();
  int received = 0;
  sigwait(&signals, &received);
  server.stop();
  return 0;
}
