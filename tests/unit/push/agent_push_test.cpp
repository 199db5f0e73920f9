// The agent stream hub over real sockets: the real HttpApi on port 0 in front of a FakeService,
// Poco WebSocket clients.

#include "switchboard/agent_push.h"

#include "tests/unit/api/fake_service.h"

#include <Poco/Buffer.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <dirent.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
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

  // Opens a stream of `agent`; `query` goes after "?", `protocols` into
  // Sec-WebSocket-Protocol. Returns once the hub counts one more connection of the agent.
  std::unique_ptr<WebSocket> connect(const std::string& agent, const std::string& query = "",
                                     const std::string& protocols = "",
                                     Poco::Net::HTTPResponse* handshake = nullptr) {
    std::size_t before = push->connections(agent);
    Poco::Net::HTTPClientSession session("127.0.0.1", http->port());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                   "/v1/agents/" + agent + "/stream" +
                                       (query.empty() ? "" : "?" + query),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", std::string("Bearer ") + kKey);
    if (!protocols.empty()) {
      request.set("Sec-WebSocket-Protocol", protocols);
    }
    Poco::Net::HTTPResponse response;
    auto socket = std::make_unique<WebSocket>(session, request, handshake ? *handshake : response);
    socket->setReceiveTimeout(Poco::Timespan(20, 0));
    EXPECT_TRUE(eventually([&] { return push->connections(agent) > before; }));
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

// The sequence number of an XML frame: <?switchboard seq="N"?>.
std::uint64_t seqOf(const std::string& frame) {
  std::size_t at = frame.find("<?switchboard seq=\"");
  if (at == std::string::npos) {
    return 0;
  }
  return std::stoull(frame.substr(at + 19));
}

Message withdrawFor(const std::string& agent, const std::string& id) {
  Message message = offerFor(agent, id);
  message.workItems.clear();
  message.payload = Command{WithdrawOffer{"wi-" + id, agent, std::string("test")}};
  return message;
}

Message realOffer(const std::string& agent, const std::string& item) {
  Message message;
  message.id = "m-offer-" + item;
  message.sender = {PartyType::Server, "sb-1"};
  message.addressee = {PartyType::Agent, agent};
  Offer offer;
  offer.workItemId = item;
  offer.agentId = agent;
  offer.queueId = "sales";
  message.payload = Command{offer};
  return message;
}

Poco::JSON::Object::Ptr parseJson(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

TEST_F(AgentPushTest, AnOfferCarriesTheWorkItemRecordAndTheRoutingReason) {
  startWith({});
  auto socket = connect("alice");
  push->deliver(realOffer("alice", "wi-1"));
  std::string frame = receive(*socket).payload;
  EXPECT_THAT(frame, HasSubstr("<offer workItem=\"wi-1\" agent=\"alice\" queue=\"sales\""));
  EXPECT_THAT(frame, HasSubstr("reason=\"queue sales: 2 eligible, alice won (longest idle)\""));
  EXPECT_THAT(frame, HasSubstr("<workItem id=\"wi-1\" medium=\"email\" state=\"offered\""));
  EXPECT_THAT(frame, HasSubstr("<subject>Where is my order?</subject>"));
  EXPECT_THAT(frame, HasSubstr("carol@example.com"));
  EXPECT_THAT(frame, HasSubstr("Hello"));
  // History stays on the REST resource: offers stay small.
  EXPECT_THAT(frame, ::testing::Not(HasSubstr("<history")));
}

TEST_F(AgentPushTest, ABodyOverTheInlineLimitIsLeftOutOfTheOffer) {
  PushOptions options;
  options.inlineBodyLimit = 4;
  startWith(options);
  auto socket = connect("alice");
  push->deliver(realOffer("alice", "wi-1"));
  std::string frame = receive(*socket).payload;
  EXPECT_THAT(frame, HasSubstr("<subject>Where is my order?</subject>"));
  EXPECT_THAT(frame, ::testing::Not(HasSubstr("<body")));
}

TEST_F(AgentPushTest, AnOfferForAnUnknownItemIsStillPushedAsItCame) {
  startWith({});
  auto socket = connect("alice");
  push->deliver(realOffer("alice", "wi-404"));
  std::string frame = receive(*socket).payload;
  EXPECT_THAT(frame, HasSubstr("<offer workItem=\"wi-404\""));
  EXPECT_THAT(frame, ::testing::Not(HasSubstr("<workItem ")));
}

TEST_F(AgentPushTest, JsonFramesByQueryParameter) {
  startWith({});
  auto socket = connect("alice", "format=json");
  push->deliver(realOffer("alice", "wi-1"));
  std::string text = receive(*socket).payload;
  auto frame = parseJson(text);
  EXPECT_EQ(frame->getValue<std::string>("type"), "message");
  EXPECT_GT(frame->getValue<std::uint64_t>("seq"), 0U);
  auto message = frame->getObject("message");
  EXPECT_EQ(message->getValue<std::string>("id"), "m-offer-wi-1");
  EXPECT_EQ(message->getObject("addressee")->getValue<std::string>("id"), "alice");
  auto offer = message->getObject("command")->getObject("offer");
  EXPECT_EQ(offer->getValue<std::string>("workItem"), "wi-1");
  auto items = message->getArray("workItem");
  ASSERT_EQ(items->size(), 1U);
  auto item = items->getObject(0);
  EXPECT_EQ(item->getValue<std::string>("subject"), "Where is my order?");
  EXPECT_EQ(item->getObject("body")->getValue<std::string>("text"), "Hello");
  auto address = item->getObject("customer")->getArray("address")->getObject(0);
  EXPECT_EQ(address->getValue<std::string>("text"), "carol@example.com");
  EXPECT_EQ(address->getValue<std::string>("name"), "Carol");

  // The agent still writes XML; the answer comes back as JSON too.
  std::string document = R"(<message id="c-1"><command kind="accept"/></message>)";
  socket->sendFrame(document.data(), static_cast<int>(document.size()), WebSocket::FRAME_TEXT);
  auto answer = parseJson(receive(*socket).payload);
  EXPECT_EQ(answer->getValue<std::string>("type"), "response");
  EXPECT_EQ(answer->getObject("message")->getObject("response")->getValue<std::string>("status"),
            "ok");
}

TEST_F(AgentPushTest, JsonFramesBySubprotocolWhichTheServerNamesInItsAnswer) {
  startWith({});
  Poco::Net::HTTPResponse handshake;
  auto socket = connect("alice", "", "chat, switchboard.v1.json", &handshake);
  EXPECT_EQ(handshake.get("Sec-WebSocket-Protocol", ""), "switchboard.v1.json");
  push->deliver(offerFor("alice", "m-json"));
  auto frame = parseJson(receive(*socket).payload);
  EXPECT_EQ(frame->getObject("message")->getValue<std::string>("id"), "m-json");

  Poco::Net::HTTPResponse xmlHandshake;
  auto xml = connect("alice", "", "switchboard.v1.xml", &xmlHandshake);
  EXPECT_EQ(xmlHandshake.get("Sec-WebSocket-Protocol", ""), "switchboard.v1.xml");
  push->deliver(offerFor("alice", "m-xml"));
  EXPECT_THAT(receive(*xml).payload, HasSubstr("<message"));
}

TEST_F(AgentPushTest, AnUnknownFormatOrSubprotocolOrCursorIsRefusedBeforeTheUpgrade) {
  startWith({});
  for (auto [query, protocols] :
       std::vector<std::pair<std::string, std::string>>{{"format=yaml", ""},
                                                        {"after=abc", ""},
                                                        {"", "chat"},
                                                        {"format=xml", "switchboard.v1.json"}}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", http->port());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                   "/v1/agents/alice/stream?" + query,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", std::string("Bearer ") + kKey);
    if (!protocols.empty()) {
      request.set("Sec-WebSocket-Protocol", protocols);
    }
    Poco::Net::HTTPResponse response;
    EXPECT_THROW(WebSocket(session, request, response), Poco::Net::WebSocketException) << query;
    EXPECT_EQ(response.getStatus(), Poco::Net::HTTPResponse::HTTP_BAD_REQUEST) << query;
  }
  EXPECT_EQ(push->connections("alice"), 0U);
}

TEST_F(AgentPushTest, EveryMessageToAnAgentCarriesTheNextSequenceNumberOfThatAgent) {
  startWith({});
  auto alice = connect("alice");
  auto bob = connect("bob");
  push->deliver(offerFor("alice", "a1"));
  push->deliver(offerFor("bob", "b1"));
  push->deliver(offerFor("alice", "a2"));
  std::uint64_t first = seqOf(receive(*alice).payload);
  std::uint64_t second = seqOf(receive(*alice).payload);
  EXPECT_GT(first, 0U);
  EXPECT_EQ(second, first + 1);
  EXPECT_GT(seqOf(receive(*bob).payload), 0U);
}

TEST_F(AgentPushTest, AReconnectWithACursorGetsWhatItMissedInOrderThenWhatIsNew) {
  startWith({});
  auto socket = connect("alice");
  push->deliver(offerFor("alice", "m-1"));
  std::uint64_t seen = seqOf(receive(*socket).payload);
  socket->shutdown();
  socket.reset();
  ASSERT_TRUE(eventually([&] { return push->connections("alice") == 0; }));

  push->deliver(offerFor("alice", "m-2")); // while away
  push->deliver(withdrawFor("alice", "m-3"));
  auto again = connect("alice", "after=" + std::to_string(seen));
  push->deliver(offerFor("alice", "m-4"));
  std::string second = receive(*again).payload;
  std::string third = receive(*again).payload;
  std::string fourth = receive(*again).payload;
  EXPECT_THAT(second, HasSubstr("m-2"));
  EXPECT_THAT(third, HasSubstr("withdrawOffer"));
  EXPECT_THAT(fourth, HasSubstr("m-4"));
  EXPECT_EQ(seqOf(second), seen + 1);
  EXPECT_EQ(seqOf(third), seen + 2);
  EXPECT_EQ(seqOf(fourth), seen + 3);
  EXPECT_THAT(metricsText(), HasSubstr("switchboard_push_replayed_total 2"));

  // Up to date: nothing is replayed.
  auto current = connect("alice", "after=" + std::to_string(seen + 3));
  push->deliver(offerFor("alice", "m-5"));
  EXPECT_THAT(receive(*current).payload, HasSubstr("m-5"));
}

TEST_F(AgentPushTest, ACursorBeyondTheKeptHistoryGetsAResyncFrame) {
  PushOptions options;
  options.historyLimit = 2;
  startWith(options);
  auto socket = connect("alice");
  push->deliver(offerFor("alice", "m-1"));
  std::uint64_t seen = seqOf(receive(*socket).payload);
  socket->shutdown();
  socket.reset();
  ASSERT_TRUE(eventually([&] { return push->connections("alice") == 0; }));
  for (int i = 2; i <= 4; ++i) { // three missed, two kept
    push->deliver(offerFor("alice", "m-" + std::to_string(i)));
  }
  auto again = connect("alice", "after=" + std::to_string(seen));
  std::string resync = receive(*again).payload;
  EXPECT_THAT(resync,
              HasSubstr("<resync xmlns=\"urn:switchboard:stream:v1\" after=\"" +
                        std::to_string(seen) + "\" last=\"" + std::to_string(seen + 3) + "\"/>"));
  push->deliver(offerFor("alice", "m-5"));
  EXPECT_EQ(seqOf(receive(*again).payload), seen + 4);

  // A cursor from another run of the server (ahead of this one) resyncs too, here in JSON.
  auto other = connect("alice", "format=json&after=" + std::to_string(seen + 1000));
  auto frame = parseJson(receive(*other).payload);
  EXPECT_EQ(frame->getValue<std::string>("type"), "resync");
  EXPECT_EQ(frame->getValue<std::uint64_t>("last"), seen + 4);
  EXPECT_THAT(metricsText(), HasSubstr("switchboard_push_resyncs_total 2"));
}

TEST_F(AgentPushTest, AnAgentThatNeverConnectedHasNoHistoryToReplay) {
  startWith({});
  push->deliver(offerFor("rest-only", "m-1"));
  push->deliver(offerFor("rest-only", "m-2"));
  auto socket = connect("rest-only", "after=1");
  EXPECT_THAT(receive(*socket).payload, HasSubstr("<resync "));
  push->deliver(offerFor("rest-only", "m-3"));
  EXPECT_THAT(receive(*socket).payload, HasSubstr("m-3"));
}

TEST_F(AgentPushTest, OffersOfAnAgentGoneLongerThanTheGraceAreDeclinedAndNewOnesAtOnce) {
  PushOptions options;
  options.grace = std::chrono::milliseconds(100);
  startWith(options);
  auto socket = connect("alice");
  socket->shutdown();
  socket.reset();
  // wi-1 is offered to alice in the fake service.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(service.mutex_);
    return service.items_["wi-1"].item.state == WorkItemState::Queued;
  }));
  EXPECT_EQ(service.lastDeclineAgent, "alice");
  EXPECT_EQ(service.lastDeclineReason, std::optional<std::string>("agent disconnected"));

  // Still away: the next offer goes back at once.
  {
    std::lock_guard lock(service.mutex_);
    service.items_["wi-3"].item.state = WorkItemState::Offered;
    service.items_["wi-3"].item.agentId = "alice";
  }
  push->deliver(realOffer("alice", "wi-3"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(service.mutex_);
    return service.items_["wi-3"].item.state == WorkItemState::Queued;
  }));
  EXPECT_TRUE(eventually([&] {
    return metricsText().find("switchboard_push_rerouted_offers_total 2") != std::string::npos;
  })) << metricsText();
}

TEST_F(AgentPushTest, AnAgentWithAConnectionLeftKeepsItsOffers) {
  PushOptions options;
  options.grace = std::chrono::milliseconds(20);
  startWith(options);
  auto stays = connect("alice");
  auto goes = connect("alice");
  goes->shutdown();
  goes.reset();
  ASSERT_TRUE(eventually([&] { return push->connections("alice") == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300)); // many graces
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.items_["wi-1"].item.state, WorkItemState::Offered);
  EXPECT_TRUE(service.lastDeclineAgent.empty());
}

std::size_t threadCount() {
  std::size_t n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) {
      n += entry->d_name[0] != '.' ? 1 : 0;
    }
    closedir(dir);
  }
  return n;
}

TEST_F(AgentPushTest, HundredsOfConnectionsShareAFewReaderThreadsAndAreAllAnswered) {
  PushOptions options;
  options.readers = 2;
  startWith(options);
  std::size_t before = threadCount();
  std::vector<std::unique_ptr<WebSocket>> sockets;
  for (int i = 0; i < 300; ++i) {
    sockets.push_back(connect("agent-" + std::to_string(i)));
  }
  // No thread per connection (the HTTP server's own pool is already running).
  EXPECT_LT(threadCount(), before + 10);
  std::string document = R"(<message id="c-1"><command kind="accept"/></message>)";
  for (auto& socket : sockets) {
    socket->sendFrame(document.data(), static_cast<int>(document.size()), WebSocket::FRAME_TEXT);
  }
  for (auto& socket : sockets) {
    EXPECT_THAT(receive(*socket).payload, HasSubstr("status=\"ok\""));
  }
  for (int i = 0; i < 300; ++i) {
    push->deliver(offerFor("agent-" + std::to_string(i), "m-" + std::to_string(i)));
  }
  for (int i = 0; i < 300; ++i) {
    EXPECT_THAT(receive(*sockets[i]).payload, HasSubstr("m-" + std::to_string(i) + "\""));
  }
}

} // namespace
} // namespace switchboard
