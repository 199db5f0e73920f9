// The real `switchboard serve`, as an integrator and an operator meet it: configuration, Maildir
// ingest, REST with keys and agent tokens, and recovery after kill -9.

#include "tests/support/server_process.h"
#include "tests/support/test_data.h"

#include <Poco/Buffer.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace switchboard {
namespace {

using testing::eventually;
using ::testing::HasSubstr;
using testing::HttpReply;
using testing::ServerProcess;

constexpr const char* kKey = "test-integrator-key-0123456789";

const std::string kConfig = R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-e2e"><listener address="127.0.0.1" port="0" threads="4"/></server>
  <store><sqlite path="@DIR@/switchboard.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef" lifetime="1h"/>
  </security>
  <logging level="info" format="json"/>
  <drivers>
    <maildir name="email-1" path="@DIR@/maildir" pollInterval="50ms"/>
  </drivers>
  <routing defaultQueue="general"/>
  <agents>
    <agent id="a-ana" name="Ana Sousa" site="lisbon">
      <skill name="billing" level="8"/>
      <mix><limit medium="email" max="2"/></mix>
    </agent>
    <agent id="a-rui" name="Rui Costa" site="porto">
      <skill name="billing" level="3"/>
      <mix><limit medium="email" max="2"/></mix>
    </agent>
  </agents>
  <queues>
    <queue id="general" ordering="longestIdle" offerTimeout="1h"/>
  </queues>
</switchboard>
)";

std::string mail(int n) {
  return "From: Customer " + std::to_string(n) + " <customer" + std::to_string(n) +
         "@example.com>\r\nTo: apoio@mares-telecom.example\r\nSubject: Question " +
         std::to_string(n) + "\r\nMessage-ID: <q" + std::to_string(n) +
         "@example.com>\r\n\r\nHello, question number " + std::to_string(n) + ".\r\n";
}

// Every work item the server holds, over all pages.
std::vector<Poco::JSON::Object::Ptr> allItems(const ServerProcess& server) {
  std::vector<Poco::JSON::Object::Ptr> items;
  std::string after;
  for (;;) {
    HttpReply reply = server.request(
        "GET", "/v1/work-items?limit=100" + (after.empty() ? "" : "&after=" + after), kKey);
    if (reply.status != 200) {
      throw std::runtime_error("list failed: " + reply.body);
    }
    auto page = reply.json();
    auto array = page->getArray("items");
    for (std::size_t i = 0; i < array->size(); ++i) {
      items.push_back(array->getObject(static_cast<unsigned>(i)));
    }
    if (!page->has("next")) {
      return items;
    }
    after = page->getValue<std::string>("next");
  }
}

std::string tokenFor(const ServerProcess& server, const std::string& agent) {
  HttpReply reply = server.request("POST", "/v1/agents/" + agent + "/tokens", kKey);
  if (reply.status != 201 && reply.status != 200) {
    throw std::runtime_error("token failed: " + reply.body);
  }
  return reply.json()->getValue<std::string>("token");
}

std::string stateOf(const ServerProcess& server, const std::string& item) {
  return server.request("GET", "/v1/work-items/" + item, kKey)
      .json()
      ->getValue<std::string>("state");
}

TEST(ServerEndToEnd, MailBecomesAnOfferThatAnAgentAcceptsAndCompletes) {
  ServerProcess server(kConfig);
  server.start();
  EXPECT_EQ(server.request("GET", "/healthz").status, 200);
  EXPECT_EQ(server.request("GET", "/readyz").status, 200);

  std::string ana = tokenFor(server, "a-ana");
  EXPECT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);
  server.deliverMail("1700000001.M1P1.test", mail(1));
  std::string item;
  ASSERT_TRUE(eventually([&] {
    auto items = allItems(server);
    if (items.size() == 1 && items[0]->getValue<std::string>("state") == "offered") {
      item = items[0]->getValue<std::string>("id");
      return true;
    }
    return false;
  })) << server.log();
  EXPECT_TRUE(std::filesystem::is_empty(server.dir() / "maildir" / "new"));

  auto offered = server.request("GET", "/v1/work-items/" + item, ana).json();
  EXPECT_EQ(offered->getValue<std::string>("agent"), "a-ana");
  EXPECT_EQ(offered->getObject("customer")
                ->getArray("addresses")
                ->getObject(0)
                ->getValue<std::string>("value"),
            "customer1@example.com");
  EXPECT_THAT(offered->getValue<std::string>("trace"), HasSubstr("a-ana"));

  std::string rui = tokenFor(server, "a-rui");
  EXPECT_EQ(server.request("POST", "/v1/work-items/" + item + "/accept", rui).status, 403);
  EXPECT_EQ(server.request("POST", "/v1/work-items/" + item + "/accept", ana).status, 200);
  EXPECT_EQ(server
                .request("POST", "/v1/work-items/" + item + "/complete", ana,
                         R"({"disposition":"answered"})")
                .status,
            200);
  auto done = server.request("GET", "/v1/work-items/" + item, kKey).json();
  EXPECT_EQ(done->getValue<std::string>("state"), "completed");
  EXPECT_GE(done->getArray("history")->size(), 4u);

  auto queues = server.request("GET", "/v1/queues", kKey);
  EXPECT_EQ(queues.status, 200);
  EXPECT_THAT(queues.body, HasSubstr("\"general\""));
  auto metrics = server.request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE"));
  EXPECT_EQ(server.kill(SIGTERM), 0) << server.log();
}

TEST(ServerEndToEnd, EveryEndpointRefusesWhoItMustAndWhatItCannotRead) {
  ServerProcess server(kConfig);
  server.start();
  EXPECT_EQ(server.request("GET", "/v1/agents").status, 401);
  EXPECT_EQ(server.request("GET", "/v1/agents", "wrong-key").status, 401);
  EXPECT_EQ(server.request("GET", "/v1/agents", kKey).status, 200);
  std::string rui = tokenFor(server, "a-rui");
  EXPECT_EQ(server.request("GET", "/v1/agents/a-ana", rui).status, 403);
  EXPECT_EQ(server.request("GET", "/v1/agents/a-rui", rui).status, 200);
  EXPECT_EQ(server.request("POST", "/v1/agents/a-rui/state", rui, "{not json").status, 400);
  EXPECT_EQ(server.request("GET", "/v1/work-items/wi-999999", kKey).status, 404);
  EXPECT_EQ(server.request("GET", "/v1/agents/a-nobody", kKey).status, 404);
  auto problem = server.request("GET", "/v1/work-items/wi-999999", kKey);
  EXPECT_THAT(problem.body, HasSubstr("\"status\":404"));
  auto xml = server.request("POST", "/v1/messages", kKey, "<message/>", "application/xml");
  EXPECT_EQ(xml.status, 400);
  EXPECT_EQ(server.request("GET", "/v1/dead-letters", kKey).status, 200);
  auto openapi = server.request("GET", "/v1/openapi.json", kKey);
  EXPECT_EQ(openapi.status, 200);
  EXPECT_THAT(openapi.body, HasSubstr("\"openapi\""));
}

TEST(ServerEndToEnd, AfterKillNineEveryItemIsBackInItsState) {
  ServerProcess server(kConfig);
  server.start();
  std::string ana = tokenFor(server, "a-ana");
  server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})");
  for (int n = 1; n <= 3; ++n) {
    server.deliverMail("170000000" + std::to_string(n) + ".M1P1.test", mail(n));
  }
  // Ana has room for two emails: two items are offered to her, one waits.
  std::vector<std::string> offered;
  ASSERT_TRUE(eventually([&] {
    offered.clear();
    for (const auto& item : allItems(server)) {
      if (item->getValue<std::string>("state") == "offered") {
        offered.push_back(item->getValue<std::string>("id"));
      }
    }
    return allItems(server).size() == 3 && offered.size() == 2;
  })) << server.log();
  ASSERT_EQ(server.request("POST", "/v1/work-items/" + offered[0] + "/accept", ana).status, 200);

  EXPECT_EQ(server.kill(SIGKILL), 128 + SIGKILL);
  server.start();

  auto items = allItems(server);
  ASSERT_EQ(items.size(), 3u) << "nothing lost, nothing duplicated";
  EXPECT_EQ(stateOf(server, offered[0]), "accepted");
  // The other offer died with the process; its item waits again, as does the third.
  int queued = 0;
  for (const auto& item : items) {
    queued += item->getValue<std::string>("state") == "queued" ? 1 : 0;
  }
  EXPECT_EQ(queued, 2);
  auto agent = server.request("GET", "/v1/agents/a-ana", kKey).json();
  EXPECT_NE(agent->getValue<std::string>("state"), "ready");
  // Ana takes up her accepted item and, once ready, gets the waiting ones.
  ana = tokenFor(server, "a-ana");
  EXPECT_EQ(server.request("POST", "/v1/work-items/" + offered[0] + "/complete", ana, "{}").status,
            200);
  server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})");
  EXPECT_TRUE(eventually([&] {
    int offeredNow = 0;
    for (const auto& item : allItems(server)) {
      offeredNow += item->getValue<std::string>("state") == "offered" ? 1 : 0;
    }
    return offeredNow == 2;
  })) << server.log();
}

TEST(ServerEndToEnd, KilledAtRandomDuringIngestItKeepsExactlyOneItemPerMail) {
  constexpr int kBatch = 500;
  constexpr int kInterruptions = 8;
  ServerProcess server(kConfig);
  int delivered = 0;
  auto deliverBatch = [&] {
    for (int n = delivered; n < delivered + kBatch; ++n) {
      char name[64];
      std::snprintf(name, sizeof name, "17000%05d.M%dP1.test", n, n);
      server.deliverMail(name, mail(n));
    }
    delivered += kBatch;
  };
  auto waiting = [&] {
    auto files = std::filesystem::directory_iterator(server.dir() / "maildir" / "new");
    return static_cast<int>(std::distance(files, std::filesystem::directory_iterator{}));
  };
  // Each round lets the server ingest for a random moment, then kills it without warning. The
  // mailbox is topped up, so the kills land in the middle of ingest however fast the machine is.
  std::mt19937 random(20261121);
  std::uniform_int_distribution<int> pause(10, 120);
  int interrupted = 0;
  deliverBatch();
  for (int round = 0; round < 60 && interrupted < kInterruptions; ++round) {
    if (waiting() == 0) {
      deliverBatch();
    }
    int before = waiting();
    server.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(pause(random)));
    server.kill(SIGKILL);
    int after = waiting();
    interrupted += after > 0 && after < before ? 1 : 0;
  }
  EXPECT_GE(interrupted, kInterruptions) << "the kills must fall in the middle of the ingest";
  server.start();
  ASSERT_TRUE(eventually([&] { return waiting() == 0; }, std::chrono::seconds(120)))
      << server.log();
  auto items = allItems(server);
  std::set<std::string> keys;
  for (const auto& item : items) {
    keys.insert(item->getValue<std::string>("sourceKey"));
  }
  EXPECT_EQ(items.size(), static_cast<std::size_t>(delivered))
      << "after " << interrupted << " kills in the middle of the ingest";
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(delivered));
}

// POST /v1/work-items answers 201 only once the item is committed (its worker lets go while it
// waits): clients post without pause, the server is killed in the middle, and every item it
// acknowledged is there after the restart, once; the posts the kill cut off, sent again with
// their key, make no second item.
TEST(ServerEndToEnd, KilledWhileClientsPostEveryAcknowledgedItemSurvivesOnce) {
  constexpr int kClients = 4;
  ServerProcess server(kConfig);
  std::mutex mutex;
  std::map<std::string, std::string> acknowledged; // sourceKey -> work item id
  std::set<std::string> cutOff;                    // posted, never answered
  int next = 0;
  std::mt19937 random(20261122);
  std::uniform_int_distribution<int> pause(100, 400);
  auto post = [&](const std::string& key) {
    return server.request("POST", "/v1/work-items", kKey,
                          R"({"medium":"web","subject":"call me","sourceKey":")" + key + "\"}");
  };
  for (int round = 0; round < 3; ++round) {
    server.start();
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        while (!stop) {
          std::string key;
          {
            std::lock_guard lock(mutex);
            key = "form-" + std::to_string(next++);
            cutOff.insert(key);
          }
          try {
            HttpReply reply = post(key);
            if (reply.status == 201) {
              std::lock_guard lock(mutex);
              acknowledged[key] = reply.json()->getValue<std::string>("id");
              cutOff.erase(key);
            }
          } catch (const Poco::Exception&) {
            return; // the server is gone
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause(random)));
    EXPECT_EQ(server.kill(SIGKILL), 128 + SIGKILL);
    stop = true;
    for (auto& client : clients) {
      client.join();
    }
  }
  server.start();
  ASSERT_GT(acknowledged.size(), 0u) << server.log();
  for (const std::string& key : cutOff) {
    HttpReply reply = post(key);
    EXPECT_TRUE(reply.status == 200 || reply.status == 201) << reply.body;
  }
  std::map<std::string, std::vector<std::string>> itemsByKey;
  for (const auto& item : allItems(server)) {
    itemsByKey[item->getValue<std::string>("sourceKey")].push_back(
        item->getValue<std::string>("id"));
  }
  for (const auto& [key, id] : acknowledged) {
    ASSERT_EQ(itemsByKey[key].size(), 1u) << key;
    EXPECT_EQ(itemsByKey[key].front(), id) << key;
  }
  for (const auto& [key, ids] : itemsByKey) {
    EXPECT_EQ(ids.size(), 1u) << "two items for " << key;
  }
  EXPECT_EQ(itemsByKey.size(), acknowledged.size() + cutOff.size());
}

// docs/openapi.json is the contract: the running server serves exactly that document, and every
// operation in it, called on the real server, answers with a status the document lists for it.
TEST(ServerEndToEnd, TheRealServerKeepsItsOpenApiContract) {
  ServerProcess server(kConfig);
  server.start();
  std::string documented = testing::readFile(testing::sourceDir() / "docs/openapi.json");
  HttpReply served = server.request("GET", "/v1/openapi.json", kKey);
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(served.body, documented);

  // Something for the operations to act on: a ready agent with an offered item.
  std::string ana = tokenFor(server, "a-ana");
  server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})");
  server.deliverMail("1700000001.M1P1.test", mail(1));
  std::string item;
  ASSERT_TRUE(eventually([&] {
    auto items = allItems(server);
    item = items.empty() ? "" : items[0]->getValue<std::string>("id");
    return !item.empty();
  }));

  auto paths =
      Poco::JSON::Parser().parse(documented).extract<Poco::JSON::Object::Ptr>()->getObject("paths");
  int checked = 0;
  for (const auto& [path, operations] : *paths) {
    std::string target = path;
    for (auto [pattern, value] :
         {std::pair<std::string, std::string>{"/v1/agents/{id}", "/v1/agents/a-ana"},
          {"/v1/work-items/{id}", "/v1/work-items/" + item}}) {
      if (target.starts_with(pattern)) {
        target = value + target.substr(pattern.size());
      }
    }
    for (const auto& [method, operation] : *operations.extract<Poco::JSON::Object::Ptr>()) {
      std::string verb = Poco::toUpper(method);
      auto responses = operation.extract<Poco::JSON::Object::Ptr>()->getObject("responses");
      bool xml = path == "/v1/messages";
      std::string body =
          xml ? testing::readFile(testing::sourceDir() / "samples/messages/03-ping.request.xml")
              : (verb == "GET" ? "" : "{}");
      HttpReply reply =
          server.request(verb, target, kKey, body, xml ? "application/xml" : "application/json");
      EXPECT_TRUE(responses->has(std::to_string(reply.status)))
          << verb << " " << target << " answered " << reply.status
          << ", which docs/openapi.json does not list: " << reply.body;
      EXPECT_NE(reply.status, 500) << verb << " " << target << ": " << reply.body;
      bool open = path == "/healthz" || path == "/readyz" || path == "/metrics";
      if (!open) {
        EXPECT_EQ(server.request(verb, target, "", body).status, 401) << verb << " " << target;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
  // A second POST of the same work item is answered as a duplicate: documented too.
  std::string form = R"({"medium":"web","subject":"Call me back","sourceKey":"form-1"})";
  server.request("POST", "/v1/work-items", kKey, form);
  HttpReply again = server.request("POST", "/v1/work-items", kKey, form);
  EXPECT_TRUE(paths->getObject("/v1/work-items")
                  ->getObject("post")
                  ->getObject("responses")
                  ->has(std::to_string(again.status)))
      << "a duplicate answered " << again.status;
}

TEST(ServerEndToEnd, ABadConfigurationStopsTheStartNamingFileLineAndSetting) {
  std::string broken = kConfig;
  broken.replace(broken.find("offerTimeout=\"1h\""), 17, "offerTimeout=\"soon\"");
  ServerProcess server(broken);
  try {
    server.start();
    FAIL() << "the server started with a bad configuration";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(server.log(), HasSubstr("switchboard.xml:"));
    EXPECT_THAT(server.log(), HasSubstr("offerTimeout"));
  }
}

// The agent stream: opened with an agent token, as a client that cannot set headers does.
std::unique_ptr<Poco::Net::WebSocket> openStream(const ServerProcess& server,
                                                 const std::string& agent, const std::string& token,
                                                 Poco::Net::HTTPResponse& response) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                 "/v1/agents/" + agent + "/stream?access_token=" + token,
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  auto socket = std::make_unique<Poco::Net::WebSocket>(session, request, response);
  // Generous: a slow machine must not fail the test, a missing push must.
  socket->setReceiveTimeout(Poco::Timespan(30, 0));
  return socket;
}

// The next text frame whose document contains `marker`; other frames are skipped, pings
// answered. Throws Poco::TimeoutException when none comes.
std::string receiveUntil(Poco::Net::WebSocket& socket, const std::string& marker) {
  using Poco::Net::WebSocket;
  constexpr int kFin = WebSocket::FRAME_FLAG_FIN;
  Poco::Buffer<char> buffer(0);
  for (;;) {
    buffer.resize(0);
    int flags = 0;
    int n = socket.receiveFrame(buffer, flags);
    int opcode = flags & WebSocket::FRAME_OP_BITMASK;
    if ((n == 0 && flags == 0) || opcode == WebSocket::FRAME_OP_CLOSE) {
      throw std::runtime_error("the server closed the stream");
    }
    if (opcode == WebSocket::FRAME_OP_PING) {
      socket.sendFrame(buffer.begin(), n, kFin | WebSocket::FRAME_OP_PONG);
      continue;
    }
    std::string text(buffer.begin(), buffer.end());
    if (opcode == WebSocket::FRAME_OP_TEXT && text.find(marker) != std::string::npos) {
      return text;
    }
  }
}

std::string attribute(const std::string& document, const std::string& element,
                      const std::string& name) {
  std::size_t at = document.find("<" + element + " ");
  at = document.find(" " + name + "=\"", at);
  if (at == std::string::npos) {
    return "";
  }
  at += name.size() + 3;
  return document.substr(at, document.find('"', at) - at);
}

TEST(ServerEndToEnd, AnAgentGetsItsOfferOnItsStreamAndAcceptsItThere) {
  ServerProcess server(kConfig);
  server.start();
  std::string ana = tokenFor(server, "a-ana");
  Poco::Net::HTTPResponse handshake;
  auto stream = openStream(server, "a-ana", ana, handshake);
  EXPECT_EQ(handshake.getStatus(), Poco::Net::HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);

  server.deliverMail("1700000101.M1P1.test", mail(101));
  std::string offer = receiveUntil(*stream, "<offer ");
  EXPECT_THAT(offer, HasSubstr("<addressee type=\"agent\" id=\"a-ana\"/>"));
  EXPECT_THAT(offer, HasSubstr("agent=\"a-ana\" queue=\"general\""));
  std::string item = attribute(offer, "offer", "workItem");
  ASSERT_FALSE(item.empty()) << offer;
  // The offer is pushed as it is decided; its store write follows behind.
  EXPECT_TRUE(eventually([&] { return stateOf(server, item) == "offered"; }));

  std::string accept = R"(<?xml version="1.0" encoding="UTF-8"?>
<message xmlns="urn:switchboard:message:v1" version="1.0" id="a-ana.ws-1"
         time="2026-11-21T09:15:09.674Z" correlationId=")" +
                       attribute(offer, "message", "id") + R"(">
  <sender type="agent" id="a-ana"/>
  <addressee type="server" id="sb-e2e"/>
  <command><accept workItem=")" +
                       item + R"(" agent="a-ana"/></command>
</message>)";
  stream->sendFrame(accept.data(), static_cast<int>(accept.size()),
                    Poco::Net::WebSocket::FRAME_TEXT);
  std::string answer = receiveUntil(*stream, "correlationId=\"a-ana.ws-1\"");
  EXPECT_THAT(answer, HasSubstr("status=\"ok\"")) << answer;
  EXPECT_EQ(stateOf(server, item), "accepted");
  EXPECT_THAT(server.request("GET", "/metrics").body,
              HasSubstr("switchboard_push_connected_agents 1"));
  stream->shutdown();
}

TEST(ServerEndToEnd, AnotherAgentsTokenCannotOpenAnAgentsStream) {
  ServerProcess server(kConfig);
  server.start();
  std::string rui = tokenFor(server, "a-rui");
  Poco::Net::HTTPResponse refused;
  EXPECT_THROW(openStream(server, "a-ana", rui, refused), Poco::Net::WebSocketException);
  EXPECT_EQ(refused.getStatus(), Poco::Net::HTTPResponse::HTTP_FORBIDDEN);
  Poco::Net::HTTPResponse own;
  auto stream = openStream(server, "a-rui", rui, own);
  EXPECT_EQ(own.getStatus(), Poco::Net::HTTPResponse::HTTP_SWITCHING_PROTOCOLS);
  stream->shutdown();
}

// The stream with a query: a format, a cursor.
std::unique_ptr<Poco::Net::WebSocket> openStreamWith(const ServerProcess& server,
                                                     const std::string& agent,
                                                     const std::string& token,
                                                     const std::string& query) {
  Poco::Net::HTTPResponse response;
  return openStream(server, agent, token + "&" + query, response);
}

std::uint64_t sequenceOf(const std::string& frame) {
  std::size_t at = frame.find("<?switchboard seq=\"");
  return at == std::string::npos ? 0 : std::stoull(frame.substr(at + 19));
}

TEST(ServerEndToEnd, AnOfferOnTheStreamShowsTheCustomerSubjectAndRoutingReason) {
  ServerProcess server(kConfig);
  server.start();
  std::string ana = tokenFor(server, "a-ana");
  Poco::Net::HTTPResponse handshake;
  auto stream = openStream(server, "a-ana", ana, handshake);
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);
  server.deliverMail("1700000201.M1P1.test", mail(201));
  std::string offer = receiveUntil(*stream, "<offer ");
  EXPECT_GT(sequenceOf(offer), 0U) << offer;
  EXPECT_THAT(offer, HasSubstr("<subject>Question 201</subject>"));
  EXPECT_THAT(offer, HasSubstr("customer201@example.com"));
  EXPECT_THAT(offer, HasSubstr("Hello, question number 201."));
  EXPECT_THAT(offer, HasSubstr("state=\"offered\""));
  // The routing decision, as GET /v1/work-items/{id} explains it, on one line.
  EXPECT_THAT(attribute(offer, "offer", "reason"), HasSubstr("offered to a-ana"));
  EXPECT_THAT(attribute(offer, "offer", "reason"), HasSubstr("eligible: a-ana"));
  stream->shutdown();
}

TEST(ServerEndToEnd, AJsonStreamReconnectingWithItsCursorGetsTheOfferItMissed) {
  ServerProcess server(kConfig);
  server.start();
  std::string ana = tokenFor(server, "a-ana");
  auto stream = openStreamWith(server, "a-ana", ana, "format=json");
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);
  server.deliverMail("1700000301.M1P1.test", mail(301));
  Poco::JSON::Parser parser;
  auto first = parser.parse(receiveUntil(*stream, "\"offer\"")).extract<Poco::JSON::Object::Ptr>();
  auto seen = first->getValue<std::uint64_t>("seq");
  EXPECT_EQ(first->getObject("message")
                ->getArray("workItem")
                ->getObject(0)
                ->getValue<std::string>("subject"),
            "Question 301");
  stream->shutdown();
  stream.reset();
  EXPECT_TRUE(eventually([&] {
    return server.request("GET", "/metrics").body.find("switchboard_push_connections 0") !=
           std::string::npos;
  }));

  server.deliverMail("1700000302.M1P1.test", mail(302)); // offered while away (capacity 2)
  EXPECT_TRUE(eventually([&] {
    auto items = allItems(server);
    return items.size() == 2 && items[1]->getValue<std::string>("state") == "offered";
  }));
  auto again = openStreamWith(server, "a-ana", ana, "format=json&after=" + std::to_string(seen));
  auto missed = parser.parse(receiveUntil(*again, "\"offer\"")).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(missed->getValue<std::uint64_t>("seq"), seen + 1);
  EXPECT_EQ(missed->getObject("message")
                ->getArray("workItem")
                ->getObject(0)
                ->getValue<std::string>("subject"),
            "Question 302");
  again->shutdown();
}

TEST(ServerEndToEnd, AnOfferWhoseAgentLostItsStreamGoesToTheNextAgentAfterTheGrace) {
  std::string config = kConfig;
  const std::string logging = "<logging level=\"info\" format=\"json\"/>";
  config.replace(config.find(logging), logging.size(),
                 logging + "\n  <push grace=\"300ms\" heartbeat=\"1s\"/>");
  ServerProcess server(config);
  server.start();
  std::string ana = tokenFor(server, "a-ana");
  std::string rui = tokenFor(server, "a-rui");
  auto stream = openStreamWith(server, "a-ana", ana, "format=xml");
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);
  server.deliverMail("1700000401.M1P1.test", mail(401));
  std::string offer = receiveUntil(*stream, "<offer ");
  std::string item = attribute(offer, "offer", "workItem");
  ASSERT_FALSE(item.empty());
  // Rui is ready only now, so the first offer went to Ana; Rui works over REST only.
  ASSERT_EQ(server.request("POST", "/v1/agents/a-rui/state", rui, R"({"state":"ready"})").status,
            200);
  stream->shutdown(); // Ana's desktop goes away
  stream.reset();
  EXPECT_TRUE(eventually([&] {
    auto reply = server.request("GET", "/v1/work-items/" + item, kKey).json();
    return reply->getValue<std::string>("state") == "offered" &&
           reply->optValue<std::string>("agent", "") == "a-rui";
  })) << server.request("GET", "/v1/work-items/" + item, kKey).body;
  EXPECT_THAT(server.request("GET", "/metrics").body,
              HasSubstr("switchboard_push_rerouted_offers_total 1"));
}

std::size_t threadsOf(pid_t pid) {
  std::size_t n = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    n += entry.is_directory() ? 1 : 0;
  }
  return n;
}

#ifdef SWITCHBOARD_JEMALLOC
// The program is linked with jemalloc (decision 0016): the running server has it mapped.
TEST(ServerEndToEnd, TheServerAllocatesWithJemalloc) {
  ServerProcess server(kConfig);
  server.start();
  std::ifstream maps("/proc/" + std::to_string(server.pid()) + "/maps");
  std::string contents((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_THAT(contents, HasSubstr("libjemalloc.so"));
}
#endif

TEST(ServerEndToEnd, HundredsOfStreamsCostTheServerNoThreadEachAndAllGetTheOffer) {
  ServerProcess server(kConfig);
  server.start();
  std::string ana = tokenFor(server, "a-ana");
  std::size_t before = threadsOf(server.pid());
  std::vector<std::unique_ptr<Poco::Net::WebSocket>> streams;
  for (int i = 0; i < 400; ++i) {
    streams.push_back(openStreamWith(server, "a-ana", ana, "format=xml"));
  }
  EXPECT_TRUE(eventually([&] {
    return server.request("GET", "/metrics").body.find("switchboard_push_connections 400") !=
           std::string::npos;
  }));
  EXPECT_LT(threadsOf(server.pid()), before + 10);
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);
  server.deliverMail("1700000501.M1P1.test", mail(501));
  for (auto& stream : streams) {
    EXPECT_THAT(receiveUntil(*stream, "<offer "), HasSubstr("<subject>Question 501</subject>"));
  }
  for (auto& stream : streams) {
    stream->shutdown();
  }
}

} // namespace
} // namespace switchboard
