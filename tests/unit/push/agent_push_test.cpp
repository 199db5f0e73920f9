// The agent stream hub over real sockets: the real HttpApi on port 0 in front of a FakeService,
// Poco WebSocket clients.

#include "switchboard/agent_push.h"

#include "tests/unit/api/fake_service.h"

#include <Poco/Buffer.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace switchboard {
namespace {

using Poco::Net::WebSocket;
using ::testing::HasSubstr;

constexpr int kFin = WebSocket::FRAME_FLAG_FIN;
constexpr const char* kKey = "push-test-integrator-key-0123456789";

struct Received {
  int opcode = 0;
  std::string payload;
};

// The next frame that is not a ping (pings are answered, as a browser does).
Received receive(WebSocket& socket) {
  Poco::Buffer<char> buffer(0);
  for (;;) {
    buffer.resize(0);
    int flags = 0;
    int n = socket.receiveFrame(buffer, flags);
    int opcode = flags & WebSocket::FRAME_OP_BITMASK;
    if (n == 0 && flags == 0) {
      return {};
    }
    if (opcode == WebSocket::FRAME_OP_PING) {
      socket.sendFrame(buffer.begin(), static_cast<int>(buffer.size()),
                       kFin | WebSocket::FRAME_OP_PONG);
      continue;
    }
    return {opcode, std::string(buffer.begin(), buffer.end())};
  }
}

int closeCode(const Received& frame) {
  if (frame.payload.size() < 2) {
    return 0;
  }
  return (static_cast<unsigned char>(frame.payload[0]) << 8) |
         static_cast<unsigned char>(frame.payload[1]);
}

Message offerFor(const std::string& agent, const std::string& id, std::size_t subjectBytes = 8) {
  Message message;
  message.id = id;
  message.sender = {PartyType::Server, "sb-1"};
  message.addressee = {PartyType::Agent, agent};
  WorkItem item;
  item.id = "wi-" + id;
  item.medium = "email";
  item.subject = std::string(subjectBytes, 's');
  message.workItems.push_back(item);
  return message;
}

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class AgentPushTest : public ::testing::Test {
 protected:
  void startWith(PushOptions options) {
    push = std::make_unique<AgentPush>(service, metrics, logger, options);
    ApiOptions api;
    api.address = "127.0.0.1";
    api.port = 0;
    api.threads = 8;
    api.keys = {{"crm", kKey}};
    api.drainTimeout = std::chrono::milliseconds(200);
    http = std::make_unique<HttpApi>(service, metrics, logger, api);
    http->addUpgradeRoute("/v1/agents/{id}/stream", push->upgradeHandler());
    push->start();
    http->start();
  }

  void TearDown() override {
    if (push) {
      push->stop();
    }
    if (http) {
      http->stop();
    }
  }

  std::unique_ptr<WebSocket> connect(const std::string& agent) {
    Poco::Net::HTTPClientSession session("127.0.0.1", http->port());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                   "/v1/agents/" + agent + "/stream",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", std::string("Bearer ") + kKey);
    Poco::Net::HTTPResponse response;
    auto socket = std::make_unique<WebSocket>(session, request, response);
    socket->setReceiveTimeout(Poco::Timespan(20, 0));
    EXPECT_TRUE(eventually([&] { return push->connections(agent) > 0; }));
    return socket;
  }

  std::string metricsText() const { return metrics.render(); }

  testing::FakeService service;
  MetricsRegistry metrics;
  std::ostringstream logs;
  Logger logger{LogLevel::Warn, logs};
  std::unique_ptr<AgentPush> push;
  std::unique_ptr<HttpApi> http;
};

TEST_F(AgentPushTest, PushesAnAgentsMessagesToEachOfItsConnectionsAndToNoOtherAgent) {
  startWith({});
  auto tab1 = connect("alice");
  auto tab2 = connect("alice");
  auto other = connect("bob");
  EXPECT_EQ(push->connections("alice"), 2U);

  push->deliver(offerFor("alice", "m-for-alice"));
  push->deliver(offerFor("bob", "m-for-bob"));

  for (auto* socket : {tab1.get(), tab2.get()}) {
    Received frame = receive(*socket);
    EXPECT_EQ(frame.opcode, WebSocket::FRAME_OP_TEXT);
    EXPECT_THAT(frame.payload, HasSubstr("m-for-alice"));
    EXPECT_THAT(frame.payload, HasSubstr("<message"));
  }
  // Bob's first frame is his own message: alice's never reached him.
  Received first = receive(*other);
  EXPECT_THAT(first.payload, HasSubstr("m-for-bob"));
  EXPECT_THAT(first.payload, ::testing::Not(HasSubstr("m-for-alice")));
  // Counted once the send returns, which may be just after the client has the frame.
  EXPECT_TRUE(eventually([&] {
    return metricsText().find("switchboard_push_messages_total 3\n") != std::string::npos;
  })) << metricsText();
  EXPECT_THAT(metricsText(), HasSubstr("switchboard_push_connected_agents 2"));
}

TEST_F(AgentPushTest, AMessageFromTheAgentIsExchangedAndAnsweredOnTheSameSocket) {
  startWith({});
  auto socket = connect("alice");
  std::string document = R"(<message id="c-1"><command kind="accept"/></message>)";
  socket->sendFrame(document.data(), static_cast<int>(document.size()), WebSocket::FRAME_TEXT);
  Received answer = receive(*socket);
  EXPECT_EQ(answer.opcode, WebSocket::FRAME_OP_TEXT);
  EXPECT_THAT(answer.payload, HasSubstr("status=\"ok\""));
  EXPECT_EQ(service.lastDocument, document);
  // An integrator's connection speaks as the integrator, as POST /v1/messages does.
  EXPECT_EQ(service.lastCaller.type, PartyType::Crm);
  EXPECT_EQ(service.lastCaller.id, "crm");
}

TEST_F(AgentPushTest, ADocumentThatIsNotAMessageClosesTheStreamWithTheReason) {
  startWith({});
  auto socket = connect("alice");
  std::string document = "hello";
  socket->sendFrame(document.data(), static_cast<int>(document.size()), WebSocket::FRAME_TEXT);
  Received close = receive(*socket);
  EXPECT_EQ(close.opcode, WebSocket::FRAME_OP_CLOSE);
  EXPECT_EQ(closeCode(close), 1007);
  EXPECT_THAT(close.payload, HasSubstr("not a Switchboard message"));
}

TEST_F(AgentPushTest, AClientThatDoesNotReadIsDroppedWithoutStallingOthers) {
  PushOptions options;
  options.queueLimit = 4;
  options.sendTimeout = std::chrono::seconds(60);
  startWith(options);
  auto slow = connect("slow"); // never reads
  auto fast = connect("alice");

  // 64 MB for a client that reads nothing: far beyond what socket buffers hold, so the queue
  // of four must overflow whatever the speed of the machine.
  for (int i = 0; i < 1000; ++i) {
    push->deliver(offerFor("slow", "m-" + std::to_string(i), 64 * 1024));
  }
  ASSERT_TRUE(eventually([&] { return push->connections("slow") == 0; }));
  EXPECT_THAT(metricsText(),
              HasSubstr("switchboard_push_dropped_connections_total{reason=\"overflow\"} 1"));

  push->deliver(offerFor("alice", "m-after"));
  EXPECT_THAT(receive(*fast).payload, HasSubstr("m-after"));
  EXPECT_EQ(push->connections("alice"), 1U);
}

TEST_F(AgentPushTest, AConnectionThatDoesNotAnswerPingsIsDroppedOneThatDoesStays) {
  PushOptions options;
  options.heartbeat = std::chrono::milliseconds(100);
  startWith(options);
  auto silent = connect("bob"); // never reads, so never answers a ping
  auto alive = connect("alice");
  std::atomic<bool> done = false;
  std::thread answering([&] {
    alive->setReceiveTimeout(Poco::Timespan(0, 50 * 1000));
    while (!done) {
      try {
        receive(*alive);
      } catch (const Poco::TimeoutException&) {
      }
    }
  });
  ASSERT_TRUE(eventually([&] { return push->connections("bob") == 0; }));
  EXPECT_THAT(metricsText(),
              HasSubstr("switchboard_push_dropped_connections_total{reason=\"heartbeat\"} 1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(600)); // three heartbeat limits
  EXPECT_EQ(push->connections("alice"), 1U);
  done = true;
  answering.join();
}

TEST_F(AgentPushTest, StopClosesEveryConnectionWithGoingAway) {
  startWith({});
  auto socket = connect("alice");
  std::thread stopping([&] { push->stop(); });
  Received close = receive(*socket);
  EXPECT_EQ(close.opcode, WebSocket::FRAME_OP_CLOSE);
  EXPECT_EQ(closeCode(close), 1001);
  socket->shutdown(); // answer the close, as a client does
  stopping.join();
  EXPECT_EQ(push->connections("alice"), 0U);
}

TEST_F(AgentPushTest, AMessageForAnAgentWithoutConnectionsIsNotPushed) {
  startWith({});
  push->deliver(offerFor("nobody", "m-1"));
  auto socket = connect("nobody");
  push->deliver(offerFor("nobody", "m-2"));
  EXPECT_THAT(receive(*socket).payload, HasSubstr("m-2"));
  EXPECT_TRUE(eventually([&] {
    return metricsText().find("switchboard_push_messages_total 1\n") != std::string::npos;
  })) << metricsText();
}

} // namespace
} // namespace switchboard
