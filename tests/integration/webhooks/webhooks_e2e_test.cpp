// Web hooks as a CRM meets them: the real `switchboard serve` POSTs every step of every work
// item to a receiver that is down at first, survives a kill -9 on the way, and in the end has
// delivered each item's steps in order, each signed; then an integrator replays by REST.

#include "connectors/rest/webhook_signature.h"
#include "tests/support/server_process.h"
#include "tests/support/webhook_receiver.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace switchboard {
namespace {

using testing::eventually;
using testing::HttpReply;
using testing::ServerProcess;
using testing::WebhookReceiver;

constexpr const char* kKey = "test-integrator-key-0123456789";
constexpr const char* kHookSecret = "test-hook-secret-0123456789";

std::string config(std::uint16_t receiverPort) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-hooks"><listener address="127.0.0.1" port="0" threads="4"/></server>
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
      <mix><limit medium="email" max="5"/></mix>
    </agent>
  </agents>
  <queues>
    <queue id="general" ordering="longestIdle" offerTimeout="1h"/>
  </queues>
  <webhooks>
    <webhook name="crm-events" url="http://127.0.0.1:)" +
         std::to_string(receiverPort) + R"(/hooks" secret=")" + kHookSecret +
         R"(" maxBackoff="200ms" start="beginning"/>
  </webhooks>
</switchboard>
)";
}

std::string mail(int n) {
  return "From: Customer " + std::to_string(n) + " <customer" + std::to_string(n) +
         "@example.com>\r\nTo: apoio@mares-telecom.example\r\nSubject: Question " +
         std::to_string(n) + "\r\nMessage-ID: <hook" + std::to_string(n) +
         "@example.com>\r\n\r\nHello, question number " + std::to_string(n) + ".\r\n";
}

Poco::JSON::Object::Ptr parse(const std::string& body) {
  return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
}

// The event a step of an item's history becomes.
std::string eventFor(const std::string& state, const std::string& cause) {
  if (state == "new") {
    return cause == "arrived" ? "workItem.arrived" : "workItem.updated";
  }
  if (state == "offered") {
    return "workItem.routed";
  }
  for (const char* named : {"queued", "accepted", "completed", "abandoned", "failed"}) {
    if (state == named) {
      return "workItem." + state;
    }
  }
  return "workItem.updated";
}

// Per item, the events its history says the CRM must get, in order.
std::map<std::string, std::vector<std::string>> expectedLives(const ServerProcess& server) {
  std::map<std::string, std::vector<std::string>> lives;
  auto list = server.request("GET", "/v1/work-items?limit=100", kKey).json()->getArray("items");
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string id = list->getObject(static_cast<unsigned>(i))->getValue<std::string>("id");
    auto item = server.request("GET", "/v1/work-items/" + id, kKey).json();
    auto history = item->getArray("history");
    for (std::size_t h = 0; h < history->size(); ++h) {
      auto entry = history->getObject(static_cast<unsigned>(h));
      lives[id].push_back(eventFor(entry->optValue<std::string>("state", ""),
                                   entry->getValue<std::string>("cause")));
    }
  }
  return lives;
}

// Per item, the events received (first delivery of each event id), in order.
std::map<std::string, std::vector<std::string>> receivedLives(const WebhookReceiver& receiver,
                                                              std::set<std::string>* ids) {
  std::map<std::string, std::vector<std::string>> lives;
  for (const auto& request : receiver.accepted()) {
    auto event = parse(request.body);
    std::string id = event->getValue<std::string>("id");
    if (!ids->insert(id).second) {
      continue; // a repeat after the crash: allowed, and dropped by id as a CRM would
    }
    if (auto item = event->getObject("workItem")) {
      lives[item->getValue<std::string>("id")].push_back(event->getValue<std::string>("event"));
    }
  }
  return lives;
}

TEST(WebhooksEndToEnd, EveryStepReachesTheCrmInOrderThroughOutageAndKillNine) {
  std::uint16_t port = 0;
  {
    WebhookReceiver probe; // a free port with nothing listening on it, for now
    port = probe.port();
  }
  ServerProcess server(config(port));
  server.start();
  HttpReply token = server.request("POST", "/v1/agents/a-ana/tokens", kKey);
  ASSERT_LT(token.status, 300) << token.body;
  std::string ana = token.json()->getValue<std::string>("token");
  server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})");
  for (int n = 1; n <= 3; ++n) {
    server.deliverMail("170000000" + std::to_string(n) + ".M1P1.hooks", mail(n));
  }
  std::string first;
  ASSERT_TRUE(eventually([&] {
    auto items = server.request("GET", "/v1/work-items?state=offered", kKey).json();
    auto list = items->getArray("items");
    if (list->size() != 3) {
      return false;
    }
    first = list->getObject(0)->getValue<std::string>("id");
    return true;
  })) << server.log();
  ASSERT_EQ(server.request("POST", "/v1/work-items/" + first + "/accept", ana).status, 200);
  ASSERT_EQ(server.request("POST", "/v1/work-items/" + first + "/complete", ana, "{}").status, 200);

  // The receiver has been down all along: the hook keeps retrying, then the server dies.
  auto hooks = server.request("GET", "/v1/webhooks", kKey);
  ASSERT_EQ(hooks.status, 200) << hooks.body;
  auto status = hooks.json()->getArray("webhooks")->getObject(0);
  EXPECT_EQ(status->getValue<std::string>("name"), "crm-events");
  EXPECT_EQ(status->getValue<int>("delivered"), 0);
  EXPECT_TRUE(eventually([&] {
    return server.request("GET", "/v1/webhooks", kKey)
               .json()
               ->getArray("webhooks")
               ->getObject(0)
               ->getValue<int>("failedAttempts") > 0;
  }));
  EXPECT_EQ(server.kill(SIGKILL), 128 + SIGKILL);

  WebhookReceiver receiver(port);
  server.start();
  // Recovery may still be writing steps of its own: compare once both sides have settled.
  std::map<std::string, std::vector<std::string>> expected;
  std::map<std::string, std::vector<std::string>> received;
  std::set<std::string> ids;
  std::size_t total = 0;
  bool agentEvent = false;
  ASSERT_TRUE(eventually([&] {
    expected = expectedLives(server);
    ids.clear();
    received = receivedLives(receiver, &ids);
    total = 0;
    for (const auto& [item, life] : expected) {
      total += life.size();
    }
    agentEvent = false;
    for (const auto& request : receiver.accepted()) {
      agentEvent =
          agentEvent || parse(request.body)->getValue<std::string>("event") == "agent.stateChanged";
    }
    return expected.size() == 3 && received == expected && agentEvent;
  })) << server.log();
  EXPECT_EQ(received, expected);
  EXPECT_THAT(received[first],
              ::testing::ElementsAre("workItem.arrived", "workItem.queued", "workItem.routed",
                                     "workItem.accepted", "workItem.completed"));
  for (const auto& request : receiver.accepted()) {
    EXPECT_EQ(request.headers.at("X-Switchboard-Signature"),
              webhooks::signature(kHookSecret, request.headers.at("X-Switchboard-Timestamp"),
                                  request.body));
  }

  // An integrator asks for everything again, from the beginning of time.
  std::size_t before = receiver.accepted().size();
  HttpReply replay = server.request("POST", "/v1/webhooks/crm-events/replay", kKey,
                                    R"({"from":"2000-01-01T00:00:00Z"})");
  ASSERT_EQ(replay.status, 202) << replay.body;
  EXPECT_TRUE(eventually([&] { return receiver.accepted().size() >= before + total + 1; }));
  EXPECT_EQ(
      server
          .request("POST", "/v1/webhooks/nobody/replay", kKey, R"({"from":"2000-01-01T00:00:00Z"})")
          .status,
      404);
  EXPECT_EQ(
      server.request("POST", "/v1/webhooks/crm-events/replay", kKey, R"({"from":"soon"})").status,
      400);
  EXPECT_EQ(server.request("GET", "/v1/webhooks", ana).status, 403)
      << "agent tokens do not reach the web hooks";
}

} // namespace
} // namespace switchboard
