#include "webhook_event.h"
#include "webhook_signature.h"

#include "switchboard/timestamp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <openssl/hmac.h>

namespace switchboard::webhooks {
namespace {

Timestamp at(int seconds) {
  return Timestamp(std::chrono::milliseconds(1'772'442'000'000LL + seconds * 1000LL));
}

StoreEvent itemEvent(const std::string& state, const std::string& cause,
                     std::optional<std::string> actor = std::nullopt) {
  StoreEvent event;
  event.id = 17;
  event.time = at(3);
  event.subjectId = "wi-000042";
  event.state = state;
  event.cause = cause;
  event.actorId = std::move(actor);
  return event;
}

StoredWorkItem storedEmail() {
  StoredWorkItem stored;
  stored.source = "email-1";
  WorkItem& item = stored.item;
  item.id = "wi-000042";
  item.medium = "email";
  item.state = WorkItemState::Accepted;
  item.queueId = "billing";
  item.subject = "Fatura em duplicado";
  Customer customer;
  customer.ref = "C-17";
  customer.name = "Rita Lopes";
  customer.addresses.push_back(Address{"email", "rita@example.com", std::nullopt});
  item.customer = customer;
  item.attributes.push_back(Attribute{"topic", "billing"});
  return stored;
}

TEST(WebhookEvent, NamesFollowTheStateEntered) {
  EXPECT_EQ(eventName(itemEvent("new", "arrived")), "workItem.arrived");
  EXPECT_EQ(eventName(itemEvent("new", "classified")), "workItem.updated");
  EXPECT_EQ(eventName(itemEvent("queued", "no agent")), "workItem.queued");
  EXPECT_EQ(eventName(itemEvent("offered", "routed")), "workItem.routed");
  EXPECT_EQ(eventName(itemEvent("accepted", "accepted")), "workItem.accepted");
  EXPECT_EQ(eventName(itemEvent("completed", "resolved")), "workItem.completed");
  EXPECT_EQ(eventName(itemEvent("abandoned", "maxWait")), "workItem.abandoned");
  EXPECT_EQ(eventName(itemEvent("transferred", "transfer")), "workItem.updated");
  StoreEvent agent;
  agent.subject = StoreEvent::Subject::Agent;
  agent.state = "ready";
  EXPECT_EQ(eventName(agent), "agent.stateChanged");
  EXPECT_EQ(eventId(itemEvent("new", "arrived"), "sb-1"), "sb-1.workItem.17");
  EXPECT_EQ(eventId(agent, "sb-1"), "sb-1.agent.0");
}

TEST(WebhookEvent, JsonCarriesTheItemAndTheStep) {
  MessageCodec codec;
  EventPayload payload = buildPayload(itemEvent("accepted", "accepted", "a-ana"), storedEmail(),
                                      PayloadFormat::Json, "sb-1", codec);
  EXPECT_EQ(payload.contentType, "application/json");
  auto root = Poco::JSON::Parser().parse(payload.body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(root->getValue<std::string>("event"), "workItem.accepted");
  EXPECT_EQ(root->getValue<std::string>("id"), "sb-1.workItem.17");
  EXPECT_EQ(root->getValue<std::string>("time"), formatTimestamp(at(3)));
  EXPECT_EQ(root->getValue<std::string>("actor"), "a-ana");
  auto item = root->getObject("workItem");
  EXPECT_EQ(item->getValue<std::string>("id"), "wi-000042");
  EXPECT_EQ(item->getValue<std::string>("state"), "accepted");
  EXPECT_EQ(item->getValue<std::string>("subject"), "Fatura em duplicado");
  EXPECT_EQ(item->getValue<std::string>("queue"), "billing");
  EXPECT_EQ(item->getObject("customer")->getValue<std::string>("ref"), "C-17");
  EXPECT_EQ(item->getObject("attributes")->getValue<std::string>("topic"), "billing");
}

TEST(WebhookEvent, XmlIsAValidMessageToTheCrm) {
  MessageCodec codec;
  EventPayload arrived = buildPayload(itemEvent("new", "arrived", "email-1"), storedEmail(),
                                      PayloadFormat::Xml, "sb-1", codec);
  EXPECT_EQ(arrived.contentType, "application/xml");
  auto decoded = codec.decode(arrived.body);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  EXPECT_EQ(kindOf(*decoded), "workItemArrived");
  EXPECT_EQ(decoded->addressee.type, PartyType::Crm);
  ASSERT_EQ(decoded->workItems.size(), 1u);
  EXPECT_EQ(decoded->workItems[0].subject, "Fatura em duplicado");

  EventPayload routed = buildPayload(itemEvent("offered", "routed", "a-ana"), storedEmail(),
                                     PayloadFormat::Xml, "sb-1", codec);
  decoded = codec.decode(routed.body);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  const auto& notification = std::get<Notification>(decoded->payload);
  const auto& event = std::get<WorkItemRouted>(notification);
  EXPECT_EQ(event.agentId, "a-ana");
  EXPECT_EQ(event.queueId, "billing");

  StoreEvent agent;
  agent.subject = StoreEvent::Subject::Agent;
  agent.id = 3;
  agent.time = at(9);
  agent.subjectId = "a-ana";
  agent.state = "notReady";
  agent.cause = "lunch";
  decoded = codec.decode(buildPayload(agent, std::nullopt, PayloadFormat::Xml, "sb-1", codec).body);
  ASSERT_TRUE(decoded) << decoded.error().toString();
  const auto& changed = std::get<AgentStateChanged>(std::get<Notification>(decoded->payload));
  EXPECT_EQ(changed.state, AgentState::NotReady);
  EXPECT_EQ(changed.reason, "lunch");
}

TEST(WebhookSignature, IsTheHmacOfTimestampDotBody) {
  std::string secret = "sample-webhook-secret-0123456789";
  std::string body = R"({"event":"workItem.arrived"})";
  std::string signed_ = "1763719200." + body;
  unsigned char digest[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_.data()), signed_.size(), digest, &length);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  EXPECT_EQ(signature(secret, "1763719200", body), "sha256=" + hex);
  EXPECT_NE(signature(secret, "1763719201", body), "sha256=" + hex);
}

} // namespace
} // namespace switchboard::webhooks
