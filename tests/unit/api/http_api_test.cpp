#include "tests/unit/api/api_harness.h"

#include "authenticator.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>

#include <atomic>
#include <future>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string bearer(const std::string& credential) {
  return "Bearer " + credential;
}

class HttpApiTest : public ApiHarness {
 protected:
  std::string tokenFor(const std::string& agent) {
    auto reply = post("/v1/agents/" + agent + "/tokens", "");
    EXPECT_EQ(reply.status, 201) << reply.body;
    return bearer(reply.json()->getValue<std::string>("token"));
  }

  /// Checks the RFC 9457 shape and returns the problem's type.
  std::string expectProblem(const Reply& reply, int status, const std::string& instance) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.contentType, "application/problem+json");
    auto problem = reply.json();
    EXPECT_THAT(problem->getValue<std::string>("type"), StartsWith("urn:switchboard:problem:"));
    EXPECT_FALSE(problem->getValue<std::string>("title").empty());
    EXPECT_EQ(problem->getValue<int>("status"), status);
    EXPECT_TRUE(problem->has("detail"));
    EXPECT_EQ(problem->getValue<std::string>("instance"), instance);
    return problem->getValue<std::string>("type");
  }
};

// ------------------------------------------------------------------------------- operations

TEST_F(HttpApiTest, BindsARealPortWhenAskedForPortZero) {
  EXPECT_GT(api->port(), 0);
  EXPECT_THAT(logText.str(), HasSubstr("\"event\":\"http.started\""));
  EXPECT_THAT(logText.str(), HasSubstr("\"port\":" + std::to_string(api->port())));
}

TEST_F(HttpApiTest, HealthzAndReadyzNeedNoKey) {
  EXPECT_EQ(get("/healthz", "").status, 200);
  EXPECT_EQ(get("/readyz", "").status, 200);
  service.isReady = false;
  expectProblem(get("/readyz", ""), 503, "/readyz");
}

TEST_F(HttpApiTest, MetricsCountRequestsByRouteAndStatusWithALatencyHistogram) {
  get("/v1/agents/alice");
  get("/v1/agents/nobody");
  auto reply = get("/metrics", "");
  ASSERT_EQ(reply.status, 200);
  EXPECT_THAT(reply.contentType, StartsWith("text/plain; version=0.0.4"));
  EXPECT_THAT(reply.body, HasSubstr("switchboard_http_requests_total{route=\"/v1/agents/{id}\","
                                    "method=\"GET\",status=\"200\"} 1\n"));
  EXPECT_THAT(reply.body, HasSubstr("switchboard_http_requests_total{route=\"/v1/agents/{id}\","
                                    "method=\"GET\",status=\"404\"} 1\n"));
  EXPECT_THAT(reply.body, HasSubstr("switchboard_http_request_duration_seconds_bucket{route=\"/v1/"
                                    "agents/{id}\",le=\"+Inf\"} 2\n"));
}

TEST_F(HttpApiTest, ServiceMetricsReportQueuesAndAgentsAtScrapeTime) {
  registerServiceMetrics(metrics, service);
  auto body = get("/metrics", "").body;
  EXPECT_THAT(body, HasSubstr("switchboard_queue_waiting_items{queue=\"sales\"} 3\n"));
  EXPECT_THAT(body, HasSubstr("switchboard_queue_oldest_wait_seconds{queue=\"sales\"} 4.5\n"));
  EXPECT_THAT(body, HasSubstr("switchboard_agents{state=\"ready\"} 1\n"));
  EXPECT_THAT(body, HasSubstr("switchboard_agents{state=\"notReady\"} 1\n"));
}

TEST_F(HttpApiTest, ServesItsOpenApiDocument) {
  auto reply = get("/v1/openapi.json");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json()->getValue<std::string>("openapi").substr(0, 2), "3.");
  EXPECT_EQ(get("/v1/openapi.json", "").status, 401);
}

// --------------------------------------------------------------------------- authentication

TEST_F(HttpApiTest, NoCredentialsIs401WithAChallenge) {
  auto reply = get("/v1/agents", "");
  expectProblem(reply, 401, "/v1/agents");
  EXPECT_EQ(reply.header("WWW-Authenticate"), "Bearer realm=\"switchboard\"");
}

TEST_F(HttpApiTest, AWrongKeyOrSchemeIs401) {
  auto reply = get("/v1/agents", bearer("not-the-key"));
  expectProblem(reply, 401, "/v1/agents");
  EXPECT_THAT(reply.header("WWW-Authenticate"), HasSubstr("error=\"invalid_token\""));
  auto basic = get("/v1/agents", "Basic Y3JtOnNlY3JldA==");
  expectProblem(basic, 401, "/v1/agents");
  EXPECT_THAT(basic.header("WWW-Authenticate"), HasSubstr("invalid_request"));
}

TEST_F(HttpApiTest, ATamperedTokenIs401) {
  auto token = tokenFor("alice");
  std::string tampered = token;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  expectProblem(get("/v1/agents/alice", tampered), 401, "/v1/agents/alice");
  // A token naming another agent, with alice's signature.
  auto dot = token.find('.', 12);
  std::string forged = "Bearer sbt1." + api::base64UrlEncode("bob") + token.substr(dot);
  expectProblem(get("/v1/agents/bob", forged), 401, "/v1/agents/bob");
}

TEST_F(HttpApiTest, AnExpiredTokenIs401SayingSo) {
  api::Authenticator authenticator({}, kTokenSecret, std::chrono::hours(1));
  auto old = authenticator.issue("alice", std::chrono::system_clock::now() - std::chrono::hours(2));
  auto reply = get("/v1/agents/alice", bearer(old.token));
  expectProblem(reply, 401, "/v1/agents/alice");
  EXPECT_THAT(reply.header("WWW-Authenticate"), HasSubstr("expired"));
}

TEST_F(HttpApiTest, ATokenSignedWithAnotherSecretIs401) {
  api::Authenticator other({}, "another-secret-0123456789abcdefghijkl", std::chrono::hours(1));
  auto token = other.issue("alice", std::chrono::system_clock::now());
  expectProblem(get("/v1/agents/alice", bearer(token.token)), 401, "/v1/agents/alice");
}

TEST_F(HttpApiTest, AnAgentTokenReachesOnlyItsOwnAgent) {
  auto alice = tokenFor("alice");
  EXPECT_EQ(get("/v1/agents/alice", alice).status, 200);
  expectProblem(get("/v1/agents/bob", alice), 403, "/v1/agents/bob");
  expectProblem(get("/v1/agents", alice), 403, "/v1/agents");
  expectProblem(post("/v1/agents/bob/state", R"({"state":"ready"})", alice), 403,
                "/v1/agents/bob/state");
  expectProblem(post("/v1/agents/alice/tokens", "", alice), 403, "/v1/agents/alice/tokens");
  expectProblem(get("/v1/queues", alice), 403, "/v1/queues");
  expectProblem(get("/v1/dead-letters", alice), 403, "/v1/dead-letters");
}

TEST_F(HttpApiTest, SecretsNeverReachTheLog) {
  logger.setLevel(LogLevel::Debug);
  auto token = tokenFor("alice");
  get("/v1/agents/alice", token);
  get("/v1/agents", bearer("wrong-key"));
  EXPECT_THAT(logText.str(), HasSubstr("http.request"));
  EXPECT_THAT(logText.str(), Not(HasSubstr(kIntegratorKey)));
  EXPECT_THAT(logText.str(), Not(HasSubstr(token.substr(7))));
  EXPECT_THAT(logText.str(), Not(HasSubstr("wrong-key")));
}

// ----------------------------------------------------------------------------------- agents

TEST_F(HttpApiTest, ListsAndGetsAgents) {
  auto list = get("/v1/agents");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.contentType, "application/json");
  EXPECT_EQ(list.json()->getArray("agents")->size(), 2u);
  auto alice = get("/v1/agents/alice").json();
  EXPECT_EQ(alice->getValue<std::string>("name"), "Alice");
  EXPECT_EQ(alice->getValue<std::string>("state"), "ready");
  EXPECT_EQ(alice->getArray("skills")->getObject(0)->getValue<int>("level"), 8);
  EXPECT_EQ(alice->getObject("attributes")->getValue<std::string>("team"), "blue");
}

TEST_F(HttpApiTest, UnknownAgentIs404Problem) {
  auto type = expectProblem(get("/v1/agents/nobody"), 404, "/v1/agents/nobody");
  EXPECT_EQ(type, "urn:switchboard:problem:not-found");
  EXPECT_EQ(get("/v1/agents/nobody").json()->getValue<std::string>("title"), "unknown agent");
}

TEST_F(HttpApiTest, PutCreatesOrUpdatesAProfile) {
  Call c;
  c.method = "PUT";
  c.path = "/v1/agents/dave";
  c.body = R"({"name":"Dave","site":"paris","seniority":3,"skills":[{"name":"french","level":9}],
              "capacity":[{"medium":"chat","max":3}],"attributes":{"team":"red"}})";
  auto reply = call(c);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()->getValue<std::string>("id"), "dave");
  std::lock_guard lock(service.mutex_);
  const auto& dave = service.agents_.at("dave");
  EXPECT_EQ(dave.site, "paris");
  ASSERT_EQ(dave.capacity.size(), 1u);
  EXPECT_EQ(dave.capacity[0].max, 3);
  EXPECT_EQ(dave.skills[0], (Skill{"french", 9}));
}

TEST_F(HttpApiTest, PutRefusesSchemaWrongBodiesNamingTheField) {
  Call c;
  c.method = "PUT";
  c.path = "/v1/agents/dave";
  auto detailOf = [&](const std::string& body) {
    c.body = body;
    auto reply = call(c);
    expectProblem(reply, 400, "/v1/agents/dave");
    return reply.json()->getValue<std::string>("detail");
  };
  EXPECT_THAT(detailOf(R"({"id":"eve"})"), HasSubstr("'id'"));
  EXPECT_THAT(detailOf(R"({"state":"ready"})"), HasSubstr("read-only"));
  EXPECT_THAT(detailOf(R"({"skills":[{"name":"x","level":11}]})"), HasSubstr("skills[0].level"));
  EXPECT_THAT(detailOf(R"({"name":42})"), HasSubstr("'name': expected a string"));
  EXPECT_THAT(detailOf(R"({"nickname":"d"})"), HasSubstr("unknown field 'nickname'"));
  EXPECT_THAT(detailOf(R"([1,2])"), HasSubstr("JSON object"));
}

TEST_F(HttpApiTest, MalformedJsonIs400WithTheReason) {
  auto reply = post("/v1/agents/alice/state", R"({"state": "ready",)");
  expectProblem(reply, 400, "/v1/agents/alice/state");
  EXPECT_THAT(reply.json()->getValue<std::string>("detail"), HasSubstr("not valid JSON"));
}

TEST_F(HttpApiTest, StateChangesLogInSetReadyAndRefuseServerStates) {
  auto reply = post("/v1/agents/bob/state", R"({"state":"notReady","reason":"login"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()->getValue<std::string>("state"), "notReady");
  auto token = tokenFor("bob");
  EXPECT_EQ(post("/v1/agents/bob/state", R"({"state":"ready"})", token).status, 200);
  {
    std::lock_guard lock(service.mutex_);
    EXPECT_EQ(service.agents_.at("bob").state, AgentState::Ready);
  }
  auto busy = post("/v1/agents/bob/state", R"({"state":"busy"})");
  expectProblem(busy, 400, "/v1/agents/bob/state");
  EXPECT_THAT(busy.body, HasSubstr("set by the server"));
  expectProblem(post("/v1/agents/bob/state", R"({"state":"sleepy"})"), 400, "/v1/agents/bob/state");
  expectProblem(post("/v1/agents/nobody/state", R"({"state":"ready"})"), 404,
                "/v1/agents/nobody/state");
}

TEST_F(HttpApiTest, TokensAreIssuedForKnownAgentsOnly) {
  auto reply = post("/v1/agents/alice/tokens", "");
  ASSERT_EQ(reply.status, 201);
  auto body = reply.json();
  EXPECT_THAT(body->getValue<std::string>("token"), StartsWith("sbt1."));
  EXPECT_EQ(body->getValue<std::string>("agent"), "alice");
  EXPECT_FALSE(body->getValue<std::string>("expires").empty());
  EXPECT_EQ(reply.header("Cache-Control"), "no-store");
  expectProblem(post("/v1/agents/nobody/tokens", ""), 404, "/v1/agents/nobody/tokens");
}

// ------------------------------------------------------------------------------- work items

TEST_F(HttpApiTest, ListsWorkItemsWithFilters) {
  auto reply = get("/v1/work-items?state=offered&queue=sales&agent=alice&medium=email&after=wi-0"
                   "&limit=5");
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto items = reply.json()->getArray("items");
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ(items->getObject(0)->getValue<std::string>("id"), "wi-1");
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastFilter.state, WorkItemState::Offered);
  EXPECT_EQ(service.lastFilter.queueId, "sales");
  EXPECT_EQ(service.lastFilter.medium, "email");
  EXPECT_EQ(service.lastFilter.afterId, "wi-0");
  EXPECT_EQ(service.lastFilter.limit, 5u);
}

TEST_F(HttpApiTest, AFullPageOfWorkItemsNamesTheNextCursor) {
  auto reply = get("/v1/work-items?limit=2");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json()->getValue<std::string>("next"), "wi-2");
  auto rest = get("/v1/work-items?limit=2&after=wi-2").json();
  EXPECT_EQ(rest->getArray("items")->size(), 1u);
  EXPECT_FALSE(rest->has("next"));
}

TEST_F(HttpApiTest, BadWorkItemFiltersAre400) {
  expectProblem(get("/v1/work-items?state=lost"), 400, "/v1/work-items");
  expectProblem(get("/v1/work-items?limit=0"), 400, "/v1/work-items");
  expectProblem(get("/v1/work-items?limit=abc"), 400, "/v1/work-items");
  expectProblem(get("/v1/work-items?colour=red"), 400, "/v1/work-items");
}

TEST_F(HttpApiTest, AnAgentTokenListsOnlyItsOwnItems) {
  auto token = tokenFor("alice");
  auto reply = get("/v1/work-items", token);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json()->getArray("items")->size(), 1u);
  {
    std::lock_guard lock(service.mutex_);
    EXPECT_EQ(service.lastFilter.agentId, "alice");
  }
  expectProblem(get("/v1/work-items?agent=bob", token), 403, "/v1/work-items");
}

TEST_F(HttpApiTest, GetsAWorkItemWithHistoryAndTrace) {
  auto reply = get("/v1/work-items/wi-1");
  ASSERT_EQ(reply.status, 200);
  auto item = reply.json();
  EXPECT_EQ(item->getValue<std::string>("state"), "offered");
  EXPECT_EQ(item->getValue<std::string>("agent"), "alice");
  EXPECT_EQ(item->getObject("customer")
                ->getArray("addresses")
                ->getObject(0)
                ->getValue<std::string>("value"),
            "carol@example.com");
  EXPECT_EQ(item->getArray("history")->getObject(0)->getValue<std::string>("cause"), "arrived");
  EXPECT_THAT(item->getValue<std::string>("trace"), HasSubstr("alice won"));
  expectProblem(get("/v1/work-items/wi-404"), 404, "/v1/work-items/wi-404");
}

TEST_F(HttpApiTest, AnAgentTokenSeesOnlyItsOwnItems) {
  auto token = tokenFor("alice");
  EXPECT_EQ(get("/v1/work-items/wi-1", token).status, 200);
  expectProblem(get("/v1/work-items/wi-2", token), 403, "/v1/work-items/wi-2");
}

TEST_F(HttpApiTest, CreatesAWorkItem) {
  auto reply = post("/v1/work-items", R"({"medium":"web","priority":70,"queue":"sales",
      "sourceKey":"form-17","subject":"Call me back",
      "customer":{"name":"Carol","addresses":[{"kind":"phone","value":"+4930123"}]},
      "body":{"text":"Please call"},"attributes":{"language":"de"}})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto id = reply.json()->getValue<std::string>("id");
  EXPECT_EQ(reply.header("Location"), "/v1/work-items/" + id);
  EXPECT_FALSE(reply.json()->getValue<bool>("duplicate"));
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastSource, "api");
  EXPECT_EQ(service.lastCreated.priority, 70);
  EXPECT_EQ(service.lastCreated.customer->addresses[0].value, "+4930123");
  EXPECT_EQ(service.lastCreated.attributes[0], (Attribute{"language", "de"}));
}

TEST_F(HttpApiTest, CreatingTheSameSourceKeyAgainIsADuplicate) {
  std::string body = R"({"medium":"web","sourceKey":"form-18"})";
  EXPECT_EQ(post("/v1/work-items", body).status, 201);
  auto again = post("/v1/work-items", body);
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(again.json()->getValue<bool>("duplicate"));
}

TEST_F(HttpApiTest, CreatingAWorkItemNeedsAMedium) {
  auto reply = post("/v1/work-items", R"({"subject":"x"})");
  expectProblem(reply, 400, "/v1/work-items");
  EXPECT_THAT(reply.body, HasSubstr("'medium'"));
  expectProblem(post("/v1/work-items", R"({"medium":"web"})", tokenFor("alice")), 403,
                "/v1/work-items");
}

TEST_F(HttpApiTest, AnAgentAcceptsAndDeclinesOnlyItemsOfferedToIt) {
  auto alice = tokenFor("alice");
  auto bob = tokenFor("bob");
  expectProblem(post("/v1/work-items/wi-1/accept", "", bob), 403, "/v1/work-items/wi-1/accept");
  expectProblem(post("/v1/work-items/wi-1/decline", "{}", bob), 403, "/v1/work-items/wi-1/decline");
  auto accepted = post("/v1/work-items/wi-1/accept", "", alice);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.json()->getValue<std::string>("state"), "accepted");
  expectProblem(post("/v1/work-items/wi-1/accept", R"({"agent":"bob"})", alice), 403,
                "/v1/work-items/wi-1/accept");
}

TEST_F(HttpApiTest, AnIntegratorAcceptsForANamedAgent) {
  expectProblem(post("/v1/work-items/wi-1/accept", "{}"), 400, "/v1/work-items/wi-1/accept");
  auto conflict = post("/v1/work-items/wi-1/accept", R"({"agent":"bob"})");
  expectProblem(conflict, 409, "/v1/work-items/wi-1/accept");
  EXPECT_EQ(conflict.json()->getValue<std::string>("title"), "not offered");
  EXPECT_EQ(post("/v1/work-items/wi-1/accept", R"({"agent":"alice"})").status, 200);
  expectProblem(post("/v1/work-items/wi-404/accept", R"({"agent":"alice"})"), 404,
                "/v1/work-items/wi-404/accept");
}

TEST_F(HttpApiTest, DeclinesWithAReason) {
  auto reply = post("/v1/work-items/wi-1/decline", R"({"reason":"lunch"})", tokenFor("alice"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastDeclineAgent, "alice");
  EXPECT_EQ(service.lastDeclineReason, "lunch");
}

TEST_F(HttpApiTest, TransfersToAQueueOrAgent) {
  auto reply = post("/v1/work-items/wi-2/transfer",
                    R"({"agent":"bob","targetType":"queue","target":"billing","reason":"wrong"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  {
    std::lock_guard lock(service.mutex_);
    EXPECT_EQ(service.lastTransfer.targetType, TransferTarget::Queue);
    EXPECT_EQ(service.lastTransfer.target, "billing");
    EXPECT_EQ(service.lastTransfer.agentId, "bob");
  }
  expectProblem(post("/v1/work-items/wi-2/transfer", R"({"targetType":"moon","target":"x"})"), 400,
                "/v1/work-items/wi-2/transfer");
  expectProblem(post("/v1/work-items/wi-2/transfer", R"({"targetType":"agent","target":"a"})",
                     tokenFor("bob")),
                403, "/v1/work-items/wi-2/transfer");
}

TEST_F(HttpApiTest, CompletesWithADisposition) {
  auto bob = tokenFor("bob");
  expectProblem(post("/v1/work-items/wi-2/complete", "{}", tokenFor("alice")), 403,
                "/v1/work-items/wi-2/complete");
  auto reply =
      post("/v1/work-items/wi-2/complete", R"({"disposition":"solved","notes":"ok"})", bob);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.json()->getValue<std::string>("state"), "completed");
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastComplete.agentId, "bob");
  EXPECT_EQ(service.lastComplete.disposition, "solved");
}

TEST_F(HttpApiTest, RepliesHandASendReplyToTheService) {
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items/wi-2/reply";
  c.authorization = tokenFor("bob");
  c.headers["Idempotency-Key"] = "reply-key-1";
  c.body = R"({"subject":"Re: order","body":{"type":"text/plain","text":"On its way"},
              "cc":[{"kind":"email","value":"boss@example.com"}]})";
  auto reply = call(c);
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.json()->getValue<std::string>("replyId"), "reply-key-1");
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastReply.body.text, "On its way");
  EXPECT_EQ(service.lastReply.agentId, "bob");
  EXPECT_EQ(service.lastReply.cc.at(0).value, "boss@example.com");
}

TEST_F(HttpApiTest, AReplyNeedsABody) {
  auto reply = post("/v1/work-items/wi-2/reply", R"({"subject":"x"})");
  expectProblem(reply, 400, "/v1/work-items/wi-2/reply");
  EXPECT_THAT(reply.body, HasSubstr("'body'"));
}

// ----------------------------------------------------------- queues, messages, dead letters

TEST_F(HttpApiTest, ListsQueuesWithStatistics) {
  auto reply = get("/v1/queues");
  ASSERT_EQ(reply.status, 200);
  auto sales = reply.json()->getArray("queues")->getObject(0);
  EXPECT_EQ(sales->getValue<std::string>("id"), "sales");
  EXPECT_EQ(sales->getValue<int>("waiting"), 3);
  EXPECT_EQ(sales->getValue<int>("oldestWaitMs"), 4500);
  EXPECT_EQ(sales->getValue<int>("agentsReady"), 2);
  EXPECT_DOUBLE_EQ(sales->getValue<double>("serviceLevel"), 0.9);
}

TEST_F(HttpApiTest, ExchangesAMessageDocument) {
  Call c;
  c.method = "POST";
  c.path = "/v1/messages";
  c.contentType = "application/xml";
  c.body = "<message xmlns=\"urn:switchboard:message:v1\"/>";
  auto reply = call(c);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.contentType, StartsWith("application/xml"));
  EXPECT_THAT(reply.body, HasSubstr("<response kind=\"ping\""));
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastDocument, c.body);
  EXPECT_EQ(service.lastCaller, (Party{PartyType::Crm, "crm"}));
}

TEST_F(HttpApiTest, AnUnreadableMessageIs400WithTheCodecReason) {
  Call c;
  c.method = "POST";
  c.path = "/v1/messages";
  c.contentType = "text/xml";
  c.body = "<oops/>";
  auto reply = call(c);
  expectProblem(reply, 400, "/v1/messages");
  EXPECT_THAT(reply.body, HasSubstr("1:1: not a Switchboard message"));
}

TEST_F(HttpApiTest, AWrongMediaTypeIs415) {
  Call c;
  c.method = "POST";
  c.path = "/v1/messages";
  c.body = "{}";
  expectProblem(call(c), 415, "/v1/messages");
  c.path = "/v1/agents/alice/state";
  c.contentType = "text/plain";
  c.body = R"({"state":"ready"})";
  expectProblem(call(c), 415, "/v1/agents/alice/state");
  c.contentType = "application/json; charset=utf-8";
  EXPECT_EQ(call(c).status, 200);
}

TEST_F(HttpApiTest, ListsDeadLetters) {
  auto reply = get("/v1/dead-letters?limit=10");
  ASSERT_EQ(reply.status, 200);
  auto letter = reply.json()->getArray("deadLetters")->getObject(0);
  EXPECT_EQ(letter->getValue<int>("id"), 7);
  EXPECT_EQ(letter->getValue<std::string>("reason"), "1:1: not well-formed");
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.lastLimit, 10u);
}

// ---------------------------------------------------------------------------- HTTP errors

TEST_F(HttpApiTest, UnknownRouteIs404) {
  auto type = expectProblem(get("/v1/nothing-here"), 404, "/v1/nothing-here");
  EXPECT_EQ(type, "urn:switchboard:problem:no-route");
  expectProblem(get("/v1/agents/alice/"), 404, "/v1/agents/alice/");
}

TEST_F(HttpApiTest, WrongMethodIs405WithAllow) {
  Call c;
  c.method = "DELETE";
  c.path = "/v1/agents/alice";
  auto reply = call(c);
  expectProblem(reply, 405, "/v1/agents/alice");
  EXPECT_EQ(reply.header("Allow"), "GET, PUT");
  c.method = "BREW";
  expectProblem(call(c), 405, "/v1/agents/alice");
  EXPECT_THAT(metrics.render(),
              HasSubstr("route=\"unmatched\",method=\"other\",status=\"405\"} 1"));
}

TEST_F(HttpApiTest, ABodyOverTheLimitIs413) {
  std::string big = R"({"medium":"web","subject":")" + std::string(5000, 'x') + "\"}";
  expectProblem(post("/v1/work-items", big), 413, "/v1/work-items");
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items";
  c.body = big;
  c.chunked = true;
  expectProblem(call(c), 413, "/v1/work-items");
  EXPECT_EQ(get("/healthz", "").status, 200); // and the server carries on
}

TEST_F(HttpApiTest, AHandlerThatThrowsIs500CountedAndLogged) {
  service.throwOnAgents = true;
  auto reply = get("/v1/agents");
  expectProblem(reply, 500, "/v1/agents");
  EXPECT_THAT(reply.body, Not(HasSubstr("exploded")));
  EXPECT_THAT(metrics.render(),
              HasSubstr("switchboard_http_handler_errors_total{route=\"/v1/agents\"} 1\n"));
  EXPECT_THAT(logText.str(), HasSubstr("\"event\":\"http.handler_failed\""));
  EXPECT_THAT(logText.str(), HasSubstr("exploded"));
  service.throwOnAgents = false;
  EXPECT_EQ(get("/v1/agents").status, 200);
}

// --------------------------------------------------------------------------- idempotency

TEST_F(HttpApiTest, ARepeatedIdempotencyKeyReplaysTheStoredResponse) {
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items";
  c.body = R"({"medium":"web","subject":"once"})";
  c.headers["Idempotency-Key"] = "create-1";
  auto first = call(c);
  ASSERT_EQ(first.status, 201);
  auto second = call(c);
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("Idempotent-Replayed"), "true");
  std::lock_guard lock(service.mutex_);
  EXPECT_EQ(service.creates, 1);
}

TEST_F(HttpApiTest, AnIdempotencyKeyReusedForAnotherRequestIs422) {
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items";
  c.body = R"({"medium":"web","subject":"one"})";
  c.headers["Idempotency-Key"] = "create-2";
  ASSERT_EQ(call(c).status, 201);
  c.body = R"({"medium":"web","subject":"two"})";
  auto type = expectProblem(call(c), 422, "/v1/work-items");
  EXPECT_EQ(type, "urn:switchboard:problem:idempotency-mismatch");
}

TEST_F(HttpApiTest, ErrorsAreReplayedTooButKeysAreScopedToTheCaller) {
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items/wi-1/accept";
  c.body = R"({"agent":"bob"})";
  c.headers["Idempotency-Key"] = "k";
  EXPECT_EQ(call(c).status, 409);
  EXPECT_EQ(call(c).header("Idempotent-Replayed"), "true");
  c.authorization = tokenFor("alice");
  c.body = "{}";
  EXPECT_EQ(call(c).status, 200); // alice's "k" is not the integrator's "k"
}

TEST_F(HttpApiTest, AnOverlongIdempotencyKeyIs400) {
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items";
  c.body = R"({"medium":"web"})";
  c.headers["Idempotency-Key"] = std::string(300, 'k');
  expectProblem(call(c), 400, "/v1/work-items");
}

// A POST with an Idempotency-Key waits for its answer to be stored without holding its worker:
// with one worker, other requests are served meanwhile, and the answer comes once it is stored.
class OneWorkerApiTest : public HttpApiTest {
 protected:
  void customize(ApiOptions& options) override { options.threads = 1; }
};

TEST_F(OneWorkerApiTest, AKeyedPostWaitingForItsStoredAnswerHoldsNoWorker) {
  service.holdStoredAnswers = true;
  Call c;
  c.method = "POST";
  c.path = "/v1/work-items";
  c.body = R"({"medium":"web","subject":"held"})";
  c.headers["Idempotency-Key"] = "held-1";
  auto first = std::async(std::launch::async, [&] { return call(c); });
  for (int i = 0; i < 1000 && service.heldStoredAnswers() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(service.heldStoredAnswers(), 1u) << "the answer is being stored";
  EXPECT_EQ(get("/v1/queues").status, 200) << "the one worker is free meanwhile";
  auto type = expectProblem(call(c), 409, "/v1/work-items");
  EXPECT_EQ(type, "urn:switchboard:problem:idempotency-in-flight");
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout)
      << "answered before its answer was stored";
  service.releaseStoredAnswers();
  Reply answered = first.get();
  EXPECT_EQ(answered.status, 201);
  Reply replayed = call(c);
  EXPECT_EQ(replayed.status, 201);
  EXPECT_EQ(replayed.body, answered.body);
  EXPECT_EQ(replayed.header("Idempotent-Replayed"), "true");
}

// ------------------------------------------------------------------------------ lifecycle

TEST_F(HttpApiTest, ServesManyClientsAtOnce) {
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (get("/v1/queues").status == 200) {
          ++ok;
        }
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  EXPECT_EQ(ok.load(), 200);
  EXPECT_THAT(get("/metrics", "").body,
              HasSubstr("switchboard_http_requests_total{route=\"/v1/queues\",method=\"GET\","
                        "status=\"200\"} 200\n"));
}

TEST_F(HttpApiTest, StopIsIdempotentAndAStoppedServerRefusesConnections) {
  auto port = api->port();
  api->stop();
  api->stop();
  EXPECT_EQ(api->port(), 0);
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  Poco::Net::HTTPRequest request("GET", "/healthz");
  EXPECT_ANY_THROW(session.sendRequest(request); Poco::Net::HTTPResponse r;
                   session.receiveResponse(r));
  api->start();
  EXPECT_EQ(get("/healthz", "").status, 200);
}

// ------------------------------------------------------------------ keep-alive connections

/// A raw keep-alive connection: requests are written and answers read by hand, so that the
/// test sees exactly what travels on one connection.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port)
      : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {
    // Far beyond anything a loaded machine needs, far below the keep-alive timeouts below.
    socket_.setReceiveTimeout(Poco::Timespan(10, 0));
  }

  void send(const std::string& bytes) {
    socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }

  /// Reads until `answers` complete responses without bodies beyond Content-Length arrived.
  std::string receive(int answers) {
    std::string text;
    char buffer[4096];
    while (complete(text) < answers) {
      int got = socket_.receiveBytes(buffer, sizeof buffer);
      if (got <= 0) {
        break;
      }
      text.append(buffer, static_cast<std::size_t>(got));
    }
    return text;
  }

  /// True once the server closed the connection (a read returns end of stream, or the
  /// connection was reset); false when nothing came for the receive timeout.
  bool closedByServer() {
    char byte = 0;
    try {
      return socket_.receiveBytes(&byte, 1) == 0;
    } catch (const Poco::TimeoutException&) {
      return false;
    } catch (const Poco::Net::ConnectionResetException&) {
      return true;
    }
  }

 private:
  static int complete(const std::string& text) {
    int count = 0;
    std::size_t at = 0;
    for (;;) {
      auto end = text.find("\r\n\r\n", at);
      if (end == std::string::npos) {
        return count;
      }
      std::size_t length = 0;
      auto header = text.find("Content-Length: ", at);
      if (header != std::string::npos && header < end) {
        length = std::stoul(text.substr(header + 16));
      }
      if (text.size() < end + 4 + length) {
        return count;
      }
      ++count;
      at = end + 4 + length;
    }
  }

  Poco::Net::StreamSocket socket_;
};

const std::string kHealthRequest = "GET /healthz HTTP/1.1\r\nHost: switchboard\r\n\r\n";

int countAnswers(const std::string& text, const std::string& status) {
  int count = 0;
  for (auto at = text.find(status); at != std::string::npos; at = text.find(status, at + 1)) {
    ++count;
  }
  return count;
}

class KeepAliveTest : public ApiHarness {
  void customize(ApiOptions& options) override {
    options.threads = 2;
    // An idle connection that held a thread would hold it this long.
    options.keepAliveTimeout = std::chrono::seconds(60);
  }
};

TEST_F(KeepAliveTest, MoreOpenConnectionsThanThreadsAreAllServed) {
  std::vector<std::unique_ptr<RawConnection>> connections;
  for (int i = 0; i < 6; ++i) {
    connections.push_back(std::make_unique<RawConnection>(api->port()));
  }
  // Round after round, each connection asks once and stays open: with a thread per open
  // connection, the third would wait for the first to close.
  for (int round = 0; round < 3; ++round) {
    for (auto& connection : connections) {
      connection->send(kHealthRequest);
      EXPECT_EQ(countAnswers(connection->receive(1), "HTTP/1.1 200 OK"), 1);
    }
  }
  EXPECT_THAT(get("/metrics", "").body, HasSubstr("switchboard_http_connections 7\n"));
}

TEST_F(KeepAliveTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(api->port());
  connection.send(kHealthRequest + "GET /nowhere HTTP/1.1\r\nHost: switchboard\r\n\r\n" +
                  kHealthRequest);
  std::string answers = connection.receive(3);
  auto first = answers.find("HTTP/1.1 200 OK");
  auto second = answers.find("HTTP/1.1 404");
  auto third = answers.find("HTTP/1.1 200 OK", first + 1);
  ASSERT_NE(first, std::string::npos) << answers;
  ASSERT_NE(second, std::string::npos) << answers;
  ASSERT_NE(third, std::string::npos) << answers;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
}

TEST_F(KeepAliveTest, AnUnreadableRequestIs400AndClosesOnlyItsConnection) {
  RawConnection bad(api->port());
  RawConnection good(api->port());
  // A method longer than any HTTP method: the request line cannot be read.
  bad.send(std::string(40, 'X') + " / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(countAnswers(bad.receive(1), "HTTP/1.1 400"), 1);
  EXPECT_TRUE(bad.closedByServer());
  good.send(kHealthRequest);
  EXPECT_EQ(countAnswers(good.receive(1), "HTTP/1.1 200 OK"), 1);
}

TEST_F(KeepAliveTest, StopClosesIdleConnectionsAtOnce) {
  RawConnection idle(api->port());
  idle.send(kHealthRequest);
  ASSERT_EQ(countAnswers(idle.receive(1), "HTTP/1.1 200 OK"), 1);
  api->stop(); // returns without waiting for the 60 s keep-alive timeout
  EXPECT_TRUE(idle.closedByServer());
}

class ShortKeepAliveTest : public ApiHarness {
  void customize(ApiOptions& options) override {
    options.keepAliveTimeout = std::chrono::seconds(1);
  }
};

TEST_F(ShortKeepAliveTest, AnIdleConnectionIsClosedAfterTheKeepAliveTimeout) {
  RawConnection idle(api->port());
  idle.send(kHealthRequest);
  ASSERT_EQ(countAnswers(idle.receive(1), "HTTP/1.1 200 OK"), 1);
  // The read waits (up to 10 s) until the server closes the idle connection.
  EXPECT_TRUE(idle.closedByServer());
  // The close is counted once a worker has taken it up; only the scrape's own connection stays.
  bool counted = false;
  for (int i = 0; i < 2000 && !counted; ++i) {
    counted =
        get("/metrics", "").body.find("switchboard_http_connections 1\n") != std::string::npos;
    if (!counted) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_TRUE(counted);
}

TEST(HttpApiOptions, RefusesAShortTokenSecretAndAnEmptyKey) {
  FakeService service;
  MetricsRegistry metrics;
  std::ostringstream out;
  Logger logger(LogLevel::Info, out);
  ApiOptions options;
  options.tokenSecret = "short";
  EXPECT_THROW(HttpApi(service, metrics, logger, options), std::invalid_argument);
  options.tokenSecret.clear();
  options.keys = {{"crm", ""}};
  EXPECT_THROW(HttpApi(service, metrics, logger, options), std::invalid_argument);
}

TEST(HttpApiOptions, ABusyPortIsAClearError) {
  FakeService service;
  MetricsRegistry metrics;
  std::ostringstream out;
  Logger logger(LogLevel::Info, out);
  ApiOptions options;
  options.port = 0;
  HttpApi first(service, metrics, logger, options);
  first.start();
  options.port = first.port();
  HttpApi second(service, metrics, logger, options);
  try {
    second.start();
    FAIL() << "second server bound a busy port";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(options.port)));
  }
}

// --------------------------------------------------------------------- metrics with a key

class KeyedMetricsTest : public ApiHarness {
  void customize(ApiOptions& options) override { options.metricsNeedKey = true; }
};

TEST_F(KeyedMetricsTest, MetricsCanRequireAKey) {
  EXPECT_EQ(get("/metrics", "").status, 401);
  EXPECT_EQ(get("/metrics").status, 200);
}

// -------------------------------------------------------------------- tokens switched off

class NoTokensTest : public ApiHarness {
  void customize(ApiOptions& options) override { options.tokenSecret.clear(); }
};

TEST_F(NoTokensTest, WithoutATokenSecretTokensAreNeitherIssuedNorAccepted) {
  EXPECT_EQ(post("/v1/agents/alice/tokens", "").status, 503);
  api::Authenticator other({}, kTokenSecret, std::chrono::hours(1));
  auto token = other.issue("alice", std::chrono::system_clock::now());
  EXPECT_EQ(get("/v1/agents/alice", bearer(token.token)).status, 401);
}

// ------------------------------------------------------------------- WebSocket upgrades

class UpgradeTest : public ApiHarness {
 protected:
  void beforeStart() override {
    api->addUpgradeRoute("/v1/agents/{id}/stream", [this](Poco::Net::HTTPServerRequest& request,
                                                          Poco::Net::HTTPServerResponse& response,
                                                          const UpgradeContext& context) {
      Poco::Net::WebSocket socket(request, response);
      std::string hello = "hello " + context.principal.id + " on " + context.params.at(0).second;
      socket.sendFrame(hello.data(), static_cast<int>(hello.size()));
      socket.shutdown();
    });
  }

  std::string connect(const std::string& target, const std::string& authorization) {
    Poco::Net::HTTPClientSession session("127.0.0.1", api->port());
    Poco::Net::HTTPRequest request("GET", target, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!authorization.empty()) {
      request.set("Authorization", authorization);
    }
    Poco::Net::HTTPResponse response;
    Poco::Net::WebSocket socket(session, request, response);
    char buffer[256];
    int flags = 0;
    int n = socket.receiveFrame(buffer, sizeof buffer, flags);
    return std::string(buffer, static_cast<std::size_t>(std::max(n, 0)));
  }
};

TEST_F(UpgradeTest, AnAgentOpensItsOwnStream) {
  auto token = post("/v1/agents/alice/tokens", "").json()->getValue<std::string>("token");
  EXPECT_EQ(connect("/v1/agents/alice/stream", bearer(token)), "hello alice on alice");
  EXPECT_EQ(connect("/v1/agents/alice/stream?access_token=" + token, ""), "hello alice on alice");
  // The server counts an upgrade when its handler returns, which may be after the client has
  // read the frame: wait for the count rather than race it.
  const std::string counted = "route=\"/v1/agents/{id}/stream\",method=\"GET\",status=\"101\"} 2";
  for (int i = 0; i < 1000 && metrics.render().find(counted) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(metrics.render(), HasSubstr(counted));
}

TEST_F(UpgradeTest, AStreamRefusesOtherAgentsAndNoCredentials) {
  auto token = post("/v1/agents/bob/tokens", "").json()->getValue<std::string>("token");
  EXPECT_ANY_THROW(connect("/v1/agents/alice/stream", bearer(token)));
  EXPECT_ANY_THROW(connect("/v1/agents/alice/stream", ""));
  EXPECT_THAT(metrics.render(), HasSubstr("status=\"403\"} 1"));
  EXPECT_THAT(metrics.render(), HasSubstr("status=\"401\"} 1"));
  auto routes = api->routes();
  EXPECT_NE(std::find(routes.begin(), routes.end(),
                      std::pair<std::string, std::string>("GET", "/v1/agents/{id}/stream")),
            routes.end());
}

} // namespace
} // namespace switchboard::testing
