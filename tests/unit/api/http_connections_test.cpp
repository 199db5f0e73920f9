// HttpConnections on its own: requests answered after their handler returned (defer()),
// with one worker, so that a request that held its worker would stall the others.

#include "http_connections.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <chrono>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::testing {
namespace {

using api::HttpConnections;

void reply(Poco::Net::HTTPServerResponse& response, const std::string& body) {
  response.setContentLength(static_cast<std::streamsize>(body.size()));
  response.sendBuffer(body.data(), body.size());
}

/// Requests to /later wait here, parked, until the test answers them.
struct Waiting {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<Poco::Net::HTTPServerResponse*, std::shared_ptr<HttpConnections::Parked>>>
      requests;

  void add(Poco::Net::HTTPServerResponse& response,
           std::shared_ptr<HttpConnections::Parked> parked) {
    std::lock_guard lock(mutex);
    requests.emplace_back(&response, std::move(parked));
    changed.notify_all();
  }

  /// Waits (up to a generous deadline) for `count` parked requests.
  bool waitFor(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(20),
                            [&] { return requests.size() >= count; });
  }

  /// Answers the parked request number `index` with `body`, then lets its connection go on.
  void answer(std::size_t index, const std::string& body) {
    std::pair<Poco::Net::HTTPServerResponse*, std::shared_ptr<HttpConnections::Parked>> request;
    {
      std::lock_guard lock(mutex);
      request = requests.at(index);
    }
    reply(*request.first, body);
    request.second->resume();
  }
};

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Waiting& waiting) : waiting_(waiting) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const std::string& uri = request.getURI();
    if (uri == "/later") {
      waiting_.add(response, HttpConnections::defer());
      return;
    }
    if (uri == "/inline") {
      // Deferred, then answered before the handler returns: an ordinary request.
      auto parked = HttpConnections::defer();
      reply(response, "inline");
      parked->resume();
      return;
    }
    if (uri == "/echo") {
      reply(response, "echo " + std::string(std::istreambuf_iterator<char>(request.stream()),
                                            std::istreambuf_iterator<char>()));
      return;
    }
    if (uri == "/addresses") {
      reply(response, "client=" + request.clientAddress().toString() +
                          " server=" + request.serverAddress().toString() + ";");
      return;
    }
    reply(response, "now " + uri);
  }

 private:
  Waiting& waiting_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Waiting& waiting) : waiting_(waiting) {}
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(waiting_);
  }

 private:
  Waiting& waiting_;
};

class Client {
 public:
  Poco::Net::SocketAddress localAddress() const { return socket_.address(); }
  /// Drops what was read so far, so that readUntil() waits for the next answer.
  void forget() { received_.clear(); }
  explicit Client(std::uint16_t port) : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket_.setReceiveTimeout(Poco::Timespan(20, 0));
  }

  void sendRaw(const std::string& bytes) {
    socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }

  void send(const std::string& path) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
    socket_.sendBytes(request.data(), static_cast<int>(request.size()));
  }

  /// Reads until `text` has arrived (or the connection ends); returns all read so far.
  std::string readUntil(const std::string& text) {
    char buffer[1024];
    while (received_.find(text) == std::string::npos) {
      int got = socket_.receiveBytes(buffer, sizeof buffer);
      if (got <= 0) {
        break;
      }
      received_.append(buffer, static_cast<std::size_t>(got));
    }
    return received_;
  }

 private:
  Poco::Net::StreamSocket socket_;
  std::string received_;
};

class HttpConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Poco::Net::ServerSocket listening;
    listening.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, false);
    listening.listen(64);
    port = listening.address().port();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setTimeout(Poco::Timespan(3, 0)); // the time a begun request has to arrive whole
    HttpConnections::Options options;
    options.threads = 1;
    options.parkedTimeout = std::chrono::seconds(20);
    connections = std::make_unique<HttpConnections>(std::vector<Poco::Net::ServerSocket>{listening},
                                                    params, new Factory(waiting), options);
    connections->start();
  }

  void TearDown() override {
    if (connections) {
      // Anything still parked is answered so that the stop does not wait for it.
      std::size_t count = 0;
      {
        std::lock_guard lock(waiting.mutex);
        count = waiting.requests.size();
      }
      for (std::size_t i = answered; i < count; ++i) {
        waiting.answer(i, "teardown");
      }
      connections->stopAll();
    }
  }

  /// A new client's request to `path` is answered: with the fixture's one worker, it is free.
  void expectAnotherClientServed(const std::string& path = "/fast") {
    Client fast(port);
    fast.send(path);
    EXPECT_NE(fast.readUntil("now " + path).find("HTTP/1.1 200 OK"), std::string::npos);
  }

  Waiting waiting;
  std::size_t answered = 0;
  std::uint16_t port = 0;
  std::unique_ptr<HttpConnections> connections;
};

TEST_F(HttpConnectionsTest, AParkedRequestLeavesItsWorkerToOtherConnections) {
  Client slow(port);
  slow.send("/later");
  ASSERT_TRUE(waiting.waitFor(1));
  // The only worker is free although /later has no answer yet.
  expectAnotherClientServed("/now");

  waiting.answer(0, "late answer");
  answered = 1;
  EXPECT_NE(slow.readUntil("late answer").find("HTTP/1.1 200 OK"), std::string::npos);
  // And the connection goes on after its parked request.
  slow.send("/again");
  EXPECT_NE(slow.readUntil("now /again").find("now /again"), std::string::npos);
}

TEST_F(HttpConnectionsTest, PipelinedRequestsBehindAParkedOneAreAnsweredInOrder) {
  Client client(port);
  client.send("/later");
  client.send("/second");
  ASSERT_TRUE(waiting.waitFor(1));
  waiting.answer(0, "first answer");
  answered = 1;
  std::string text = client.readUntil("now /second");
  auto first = text.find("first answer");
  auto second = text.find("now /second");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second);
}

TEST_F(HttpConnectionsTest, AnswerAndResumeBeforeTheHandlerReturnsIsAnOrdinaryRequest) {
  Client client(port);
  client.send("/inline");
  EXPECT_NE(client.readUntil("inline").find("HTTP/1.1 200 OK"), std::string::npos);
  client.send("/after");
  EXPECT_NE(client.readUntil("now /after").find("now /after"), std::string::npos);
}

TEST_F(HttpConnectionsTest, StopWaitsForAParkedRequestToBeAnswered) {
  Client client(port);
  client.send("/later");
  ASSERT_TRUE(waiting.waitFor(1));
  std::thread stopping([&] { connections->stopAll(); });
  // The stop has begun (the listener closes first); the parked request still gets its answer.
  for (int i = 0; i < 2000; ++i) {
    try {
      Poco::Net::StreamSocket probe(Poco::Net::SocketAddress("127.0.0.1", port));
    } catch (const Poco::Exception&) {
      break; // refused: the listener is closed
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  waiting.answer(0, "answered during the stop");
  answered = 1;
  EXPECT_NE(client.readUntil("answered during the stop").find("HTTP/1.1 200 OK"),
            std::string::npos);
  stopping.join();
  connections.reset();
}

// Requests see the connection's two addresses, the same on every request of a connection.
TEST_F(HttpConnectionsTest, RequestsKnowTheClientAndServerAddresses) {
  Client client(port);
  std::string expected = "client=" + client.localAddress().toString() +
                         " server=127.0.0.1:" + std::to_string(port) + ";";
  for (int round = 0; round < 2; ++round) {
    client.send("/addresses");
    std::string answer = client.readUntil(expected);
    EXPECT_NE(answer.find(expected), std::string::npos) << answer;
    client.forget();
  }
}

// The fixture has one worker: a client that sends half a request, or a body in parts, must not
// hold it. (The pauses only give the worker the slow client's bytes first.)
TEST_F(HttpConnectionsTest, HalfARequestHoldsNoWorker) {
  Client slow(port);
  slow.sendRaw("GET /slow HTTP/1.1\r\nHost: te");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  expectAnotherClientServed();
  slow.sendRaw("st\r\n\r\n");
  EXPECT_NE(slow.readUntil("now /slow").find("HTTP/1.1 200 OK"), std::string::npos);
}

TEST_F(HttpConnectionsTest, ABodyThatArrivesInPartsHoldsNoWorker) {
  Client slow(port);
  slow.sendRaw("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nhello");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  expectAnotherClientServed();
  slow.sendRaw("world");
  EXPECT_NE(slow.readUntil("echo helloworld").find("HTTP/1.1 200 OK"), std::string::npos);
  // A pipelined request that arrives in pieces, after a whole one.
  slow.forget();
  slow.sendRaw("GET /one HTTP/1.1\r\nHost: test\r\n\r\nGET /two HT");
  EXPECT_NE(slow.readUntil("now /one").find("now /one"), std::string::npos);
  slow.sendRaw("TP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_NE(slow.readUntil("now /two").find("now /two"), std::string::npos);
}

TEST_F(HttpConnectionsTest, AHeadBeyondItsLimitIsRefusedWith431) {
  Client client(port);
  client.sendRaw("GET /big HTTP/1.1\r\nX-Filler: " + std::string(70 * 1024, 'a'));
  EXPECT_NE(client.readUntil("HTTP/1.1 431").find("HTTP/1.1 431"), std::string::npos);
}

TEST_F(HttpConnectionsTest, ARequestThatNeverCompletesIsClosedAfterTheRequestTimeout) {
  Client client(port);
  client.sendRaw("GET /never HTTP/1.1\r\nHost: te");
  // The server closes it (3 s here); the client's own receive timeout (20 s) would throw.
  EXPECT_EQ(client.readUntil("HTTP/1.1"), "");
}

} // namespace
} // namespace switchboard::testing
