#include "switchboard/message_codec.h"
#include "switchboard/timestamp.h"

#include "tests/support/test_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace switchboard {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

Timestamp at(std::string_view text) {
  return parseTimestamp(text).value();
}

// A message that uses every kind of field the layouts know: attributes of each scalar type,
// optional and required children, lists, own text content, and text with characters that need
// escaping or that XML cannot carry.
Message richMessage() {
  Message message;
  message.id = "m-0001";
  message.time = at("2026-11-21T13:45:00.250Z");
  message.correlationId = "m-0000";
  message.sender = {PartyType::Server, "switchboard"};
  message.addressee = {PartyType::Agent, "a-ana"};

  Agent agent;
  agent.id = "a-ana";
  agent.name = "Ana Sousa";
  agent.site = "lisbon";
  agent.state = AgentState::Reserved;
  agent.stateSince = at("2026-11-21T13:44:59Z");
  agent.seniority = 7;
  agent.contactsToday = 12;
  agent.skills = {{"billing", 7}, {"portuguese", 10}};
  agent.capacity = {{"email", 5, 2}, {"voice", 1, std::nullopt}};
  agent.attributes = {{"languages", "pt en"}};
  message.agents.push_back(agent);

  WorkItem item;
  item.id = "wi-000123";
  item.medium = "email";
  item.state = WorkItemState::Offered;
  item.priority = 70;
  item.queueId = "billing";
  item.created = at("2026-11-21T13:40:00Z");
  item.sourceKey = "<CAF=1234@mail.example.com>";
  Customer customer;
  customer.ref = "c-77";
  customer.name = "João Pereira & Filhos <Lda>";
  customer.language = "pt";
  customer.addresses = {{"email", "joao@example.pt", "João Pereira"}};
  item.customer = customer;
  item.contactPoint = Address{"email", "support@telco.example", std::nullopt};
  item.subject = "Fatura de \"outubro\" — cobrança duplicada?";
  item.body = Body{"text/plain", "Bom dia,\r\n\tfui cobrado 2× <sic> & não percebo.\n\nJoão"};
  item.attachments = {{"fatura.pdf", "application/pdf", 48213, "sha256:" + std::string(64, 'a'),
                       "att:sha256:" + std::string(64, 'a')}};
  item.attributes = {{"email.messageId", "<CAF=1234@mail.example.com>"}, {"topic", "billing"}};
  item.history = {{at("2026-11-21T13:40:00Z"), WorkItemState::Queued, "classified", "router"},
                  {at("2026-11-21T13:45:00.250Z"), WorkItemState::Offered, "offered", "a-ana"}};
  message.workItems.push_back(item);

  message.payload = Command{Offer{"wi-000123", "a-ana", "billing", at("2026-11-21T13:45:30.250Z"),
                                  "highest billing skill (7)"}};
  return message;
}

class MessageCodecTest : public ::testing::Test {
 protected:
  MessageCodec codec_;
};

TEST_F(MessageCodecTest, EncodedMessageDecodesToTheSameValues) {
  Message original = richMessage();
  std::string document = codec_.encode(original);
  auto decoded = codec_.decode(document);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString() << "\n" << document;
  EXPECT_EQ(*decoded, original);
}

TEST_F(MessageCodecTest, EveryPayloadKindRoundTrips) {
  std::vector<Payload> payloads = {
      Command{WithdrawOffer{"wi-1", "a-1", "customer hung up"}},
      Command{Accept{"wi-1", "a-1"}},
      Command{Decline{"wi-1", "a-1", "busy with a call"}},
      Command{Transfer{"wi-1", "a-1", TransferTarget::Agent, "a-2", std::nullopt}},
      Command{Complete{"wi-1", "a-1", "resolved", "Line one\nLine two"}},
      Command{SendReply{"wi-1",
                        "r-1",
                        "a-1",
                        {{"email", "x@example.com", "X"}},
                        {},
                        "Re: hello",
                        {std::nullopt, "Dear X,\n\nDone."},
                        {}}},
      Command{RedirectCall{"wi-2", "sip:2001@pbx.example", std::nullopt}},
      Command{DeliverChatLine{"wi-3", "l-9", "a-1", "Ana", "Olá! Em que posso ajudar?"}},
      Command{Disconnect{"wi-3", "agent closed the chat"}},
      Command{SetAgentState{"a-1", AgentState::NotReady, "lunch"}},
      Request{RegisterDriver{"sms-gateway", {"sms", "chat"}, "acme-sms 2.1"}},
      Request{Ping{}},
      Request{LookupContact{"phone", "+351210000000", std::string("voice")}},
      Request{GetAgentState{"a-1"}},
      Request{GetWorkItem{"wi-1"}},
      Response{"getWorkItem", ResponseStatus::Error, ResponseError{"notFound", "no item wi-9"}},
      Response{"workItemArrived", ResponseStatus::Duplicate, std::nullopt},
      Notification{WorkItemArrived{}},
      Notification{WorkItemRouted{"wi-1", "a-1", "billing", "longest idle"}},
      Notification{WorkItemAccepted{"wi-1", "a-1"}},
      Notification{WorkItemUpdated{"wi-1", "message", std::nullopt}},
      Notification{WorkItemEnded{"wi-1", "a-1", "resolved"}},
      Notification{WorkItemAbandoned{"wi-1", "customerHungUp", "after 40 s"}},
      Notification{AgentStateChanged{"a-1", AgentState::Ready, AgentState::WrapUp, std::nullopt}},
      Notification{CallEvent{"wi-2", "c1@pbx", CallEventKind::Answered, "+351", "2001", {}}},
      Notification{ChatEvent{"wi-3", "s-1", ChatEventKind::Line, "l-1", LineAuthor::Customer,
                             "Maria", "a\tb"}},
      Notification{DeliveryReport{"wi-1", "r-1", DeliveryOutcome::Failed, std::nullopt,
                                  "550 mailbox unavailable"}},
      Notification{ContactRejected{"message of 31457280 bytes is over the limit",
                                   "<big@mail.example.com>", "maildir:rejected/1763.M1P2.host",
                                   31457280}},
  };
  for (const Payload& payload : payloads) {
    Message message;
    message.id = "m-1";
    message.time = at("2026-01-01T00:00:00Z");
    message.sender = {PartyType::Driver, "d"};
    message.addressee = {PartyType::Server, "s"};
    message.payload = payload;
    std::string document = codec_.encode(message);
    auto decoded = codec_.decode(document);
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString() << "\n" << document;
    EXPECT_EQ(*decoded, message) << document;
  }
}

TEST_F(MessageCodecTest, NamesTheCategoryAndKindOfAMessage) {
  Message message = richMessage();
  EXPECT_EQ(categoryOf(message), "command");
  EXPECT_EQ(kindOf(message), "offer");
  message.payload = Response{"lookupContact", ResponseStatus::Ok, std::nullopt};
  EXPECT_EQ(categoryOf(message), "response");
  EXPECT_EQ(kindOf(message), "lookupContact");
  message.payload = Notification{ChatEvent{}};
  EXPECT_EQ(categoryOf(message), "notification");
  EXPECT_EQ(kindOf(message), "chatEvent");
}

TEST_F(MessageCodecTest, CharactersXmlCannotCarryAreReplacedNotWrittenRaw) {
  Message message = richMessage();
  message.workItems[0].subject = std::string("bell\x07 and broken \xC3 utf-8");
  std::string document = codec_.encode(message);
  auto decoded = codec_.decode(document);
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  EXPECT_EQ(decoded->workItems[0].subject, "bell\xEF\xBF\xBD and broken \xEF\xBF\xBD utf-8");
}

TEST_F(MessageCodecTest, AnInvalidDocumentNamesLineColumnAndReason) {
  std::string document = R"(<?xml version="1.0"?>
<message xmlns="urn:switchboard:message:v1" version="1.0" id="m-1" time="2026-11-21T13:45:00Z">
  <sender type="driver" id="email"/>
  <addressee type="server" id="switchboard"/>
  <command><setAgentState agent="a-1" state="sleeping"/></command>
</message>)";
  auto decoded = codec_.decode(document);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::Invalid);
  EXPECT_EQ(decoded.error().line, 5u);
  EXPECT_GT(decoded.error().column, 0u);
  EXPECT_THAT(decoded.error().reason, HasSubstr("sleeping"));
  EXPECT_THAT(decoded.error().toString(), ::testing::StartsWith("5:"));
}

TEST_F(MessageCodecTest, AResponseCarriesAnErrorExactlyWhenItsStatusIsError) {
  auto response = [](std::string_view body) {
    return std::string(R"(<message xmlns="urn:switchboard:message:v1" version="1.0" id="m-2" )"
                       R"(time="2026-11-21T13:45:00Z" correlationId="m-1">)"
                       R"(<sender type="server" id="s"/><addressee type="driver" id="d"/>)") +
           std::string(body) + "\n</message>";
  };
  auto missing = codec_.decode(response("<response kind=\"ping\" status=\"error\"/>"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, DecodeError::Kind::Invalid);
  EXPECT_EQ(missing.error().line, 1u);
  EXPECT_THAT(missing.error().reason, HasSubstr("exactly when its status is 'error'"));
  auto extra = codec_.decode(
      response("<response kind=\"ping\" status=\"ok\"><error code=\"x\">why</error></response>"));
  ASSERT_FALSE(extra.ok());
  EXPECT_THAT(extra.error().reason, HasSubstr("exactly when its status is 'error'"));
  EXPECT_TRUE(codec_
                  .decode(response("<response kind=\"ping\" status=\"error\">"
                                   "<error code=\"unavailable\">later</error></response>"))
                  .ok());
}

TEST_F(MessageCodecTest, NotWellFormedXmlIsMalformed) {
  auto decoded = codec_.decode("<message xmlns='urn:switchboard:message:v1' version='1.0' "
                               "id='m' time='2026-11-21T13:45:00Z'><sender type='driver' "
                               "id='d'></addressee>");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::Malformed);
  EXPECT_EQ(decoded.error().line, 1u);
}

TEST_F(MessageCodecTest, AnEmptyDocumentIsRefused) {
  auto decoded = codec_.decode("");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::Malformed);
}

TEST_F(MessageCodecTest, AValidDocumentDecodesAfterARefusedOne) {
  std::string good = codec_.encode(richMessage());
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(codec_.decode("<nope/>").ok());
    EXPECT_FALSE(codec_.decode("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>").ok());
    auto decoded = codec_.decode(good);
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    EXPECT_EQ(*decoded, richMessage());
  }
}

TEST(MessageCodecLimits, DocumentsOverTheSizeLimitAreRefusedBeforeParsing) {
  MessageCodec codec(CodecLimits{.maxBytes = 100, .maxDepth = 32});
  auto decoded = codec.decode(std::string(101, ' '));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::TooLarge);
  EXPECT_EQ(decoded.error().line, 0u);
  EXPECT_THAT(decoded.error().reason, HasSubstr("101 bytes"));
}

TEST(MessageCodecLimits, NestingOverTheDepthLimitIsRefused) {
  MessageCodec strict(CodecLimits{.maxBytes = 1 << 20, .maxDepth = 3});
  MessageCodec normal;
  std::string document = normal.encode(richMessage()); // message/workItem/customer/address
  auto decoded = strict.decode(document);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, DecodeError::Kind::TooDeep);
  EXPECT_THAT(decoded.error().reason, HasSubstr("limit of 3"));
  EXPECT_TRUE(normal.decode(document).ok());
}

TEST(MessageCodecConcurrency, ManyThreadsDecodeAndEncodeAtOnce) {
  MessageCodec codec;
  std::vector<std::string> documents;
  std::vector<Message> expected;
  for (const auto& path : testing::filesIn("samples/messages", ".xml")) {
    documents.push_back(testing::readFile(path));
    auto decoded = codec.decode(documents.back());
    ASSERT_TRUE(decoded.ok()) << path << ": " << decoded.error().toString();
    expected.push_back(std::move(decoded).value());
  }
  const std::string invalid = "<message xmlns='urn:switchboard:message:v1'/>";
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::atomic<int> mismatches{0};
  std::atomic<int> decodes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        std::size_t i = static_cast<std::size_t>(t + round) % documents.size();
        auto decoded = codec.decode(documents[i]);
        if (!decoded.ok() || *decoded != expected[i]) {
          ++mismatches;
          continue;
        }
        auto again = codec.decode(codec.encode(*decoded));
        if (!again.ok() || *again != expected[i] || codec.decode(invalid).ok()) {
          ++mismatches;
        }
        decodes += 3;
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(decodes.load(), kThreads * kRounds * 3);
}

} // namespace
} // namespace switchboard
