// The external driver's session rules without sockets: registration, refusals, forwarding of
// what the driver sends, and commands over the HTTP session and a WebSocket-like session.

#include "adapters/external/external_driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <sstream>
#include <thread>

namespace switchboard::external {
namespace {

using ::testing::HasSubstr;

constexpr const char* kKey = "sms-gw-key-0123456789abcdef";

/// Answers every document ok, as the server would, and keeps what it was given.
class RecordingSink final : public MessageSink {
 public:
  std::string submit(std::string_view document) override {
    auto decoded = codec.decode(document);
    documents.emplace_back(document);
    if (!decoded.ok()) {
      throw InvalidDocument(decoded.error().toString());
    }
    if (failWith) {
      throw std::runtime_error(*failWith);
    }
    Message response;
    response.id = "sb-1.r" + std::to_string(documents.size());
    response.time = Timestamp{};
    response.sender = {PartyType::Server, "sb-1"};
    response.addressee = decoded->sender;
    response.correlationId = decoded->id;
    response.payload = Response{std::string(kindOf(*decoded)), ResponseStatus::Ok, std::nullopt};
    return codec.encode(response);
  }

  MessageCodec codec;
  std::vector<std::string> documents;
  std::optional<std::string> failWith;
};

std::string document(const std::string& id, const std::string& sender, const std::string& body,
                     const std::string& correlation = "") {
  return "<?xml version=\"1.0\"?>\n<message xmlns=\"urn:switchboard:message:v1\" version=\"1.0\" "
         "id=\"" +
         id + "\" time=\"2026-11-21T09:00:00Z\"" +
         (correlation.empty() ? "" : " correlationId=\"" + correlation + "\"") +
         "><sender type=\"driver\" id=\"" + sender +
         "\"/><addressee type=\"server\" id=\"sb-1\"/>" + body + "</message>";
}

std::string registration(const std::string& id, const std::string& name = "sms-gw",
                         const std::string& media = "sms") {
  return document(id, name,
                  "<request><registerDriver driver=\"" + name + "\" media=\"" + media +
                      "\"/></request>");
}

std::string ping(const std::string& id, const std::string& sender = "sms-gw") {
  return document(id, sender, "<request><ping/></request>");
}

std::string arrival(const std::string& id, const std::string& medium = "sms") {
  return document(id, "sms-gw",
                  "<workItem medium=\"" + medium +
                      "\" sourceKey=\"SM1\"><customer><address kind=\"phone\">+351911111111"
                      "</address></customer><body>Ola</body></workItem><notification>"
                      "<workItemArrived/></notification>");
}

std::string answer(const std::string& id, const std::string& correlation,
                   const std::string& status = "ok") {
  return document(id, "sms-gw", "<response kind=\"sendReply\" status=\"" + status + "\"/>",
                  correlation);
}

std::string sendReply(const std::string& id) {
  return "<?xml version=\"1.0\"?>\n<message xmlns=\"urn:switchboard:message:v1\" version=\"1.0\" "
         "id=\"" +
         id +
         "\" time=\"2026-11-21T09:00:00Z\"><sender type=\"server\" id=\"sb-1\"/><addressee "
         "type=\"driver\" id=\"sms-gw\"/><command><sendReply workItem=\"wi-000001\" "
         "replyId=\"r-1\"><body>Obrigado</body></sendReply></command></message>";
}

class ExternalDriverTest : public ::testing::Test {
 protected:
  ExternalDriverTest() {
    options.name = "sms-gw";
    options.serverId = "sb-1";
    options.key = kKey;
    options.media = {"sms"};
    options.commandTimeout = std::chrono::seconds(20);
  }

  ExternalDriver& make() {
    driver = std::make_unique<ExternalDriver>(options, sink, logger);
    driver->start();
    return *driver;
  }

  Message decode(const std::string& text) {
    auto decoded = codec.decode(text);
    EXPECT_TRUE(decoded.ok()) << text;
    return decoded.ok() ? *decoded : Message{};
  }

  Response response(const std::string& text) {
    Message message = decode(text);
    const auto* found = std::get_if<Response>(&message.payload);
    EXPECT_NE(found, nullptr) << text;
    return found != nullptr ? *found : Response{};
  }

  std::string errorCode(const std::string& text) {
    Response found = response(text);
    return found.error ? found.error->code : "(none: " + std::string(toString(found.status)) + ")";
  }

  ExternalOptions options;
  RecordingSink sink;
  std::ostringstream logs;
  Logger logger{LogLevel::Info, LogFormat::Text, logs};
  MessageCodec codec;
  std::unique_ptr<ExternalDriver> driver;
};

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("secret-key", "secret-key"));
  EXPECT_FALSE(constantTimeEquals("secret-key", "secret-kez"));
  EXPECT_FALSE(constantTimeEquals("secret-key", "secret-key-longer"));
  EXPECT_FALSE(constantTimeEquals("secret-key", "secret"));
  EXPECT_FALSE(constantTimeEquals("", ""));
}

TEST_F(ExternalDriverTest, ChecksItsKey) {
  auto& d = make();
  EXPECT_TRUE(d.checkKey(kKey));
  EXPECT_FALSE(d.checkKey("sms-gw-key-0123456789abcdeX"));
  EXPECT_FALSE(d.checkKey(""));
}

TEST_F(ExternalDriverTest, AnswersEverythingButRegistrationNotRegisteredUntilItRegisters) {
  auto& d = make();
  EXPECT_EQ(errorCode(d.receive(ping("p1"), d.httpSession())), "notRegistered");
  EXPECT_EQ(errorCode(d.receive(arrival("a1"), d.httpSession())), "notRegistered");
  EXPECT_TRUE(sink.documents.empty());
  EXPECT_FALSE(d.registered());

  Message registered = decode(d.receive(registration("r1"), d.httpSession()));
  EXPECT_EQ(registered.correlationId, "r1");
  EXPECT_EQ(std::get<Response>(registered.payload).status, ResponseStatus::Ok);
  EXPECT_EQ(registered.addressee, (Party{PartyType::Driver, "sms-gw"}));
  EXPECT_TRUE(d.registered());
  EXPECT_EQ(d.registeredMedia(), std::vector<std::string>{"sms"});

  Response pong = response(d.receive(ping("p2"), d.httpSession()));
  EXPECT_EQ(pong.kind, "ping");
  EXPECT_EQ(pong.status, ResponseStatus::Ok);
  EXPECT_EQ(d.counters().refused, 2u);
}

TEST_F(ExternalDriverTest, HandsArrivalsToTheServerAndReturnsItsAnswer) {
  auto& d = make();
  d.receive(registration("r1"), d.httpSession());
  Message answered = decode(d.receive(arrival("a1"), d.httpSession()));
  EXPECT_EQ(answered.correlationId, "a1");
  ASSERT_EQ(sink.documents.size(), 1u);
  EXPECT_THAT(sink.documents.front(), HasSubstr("sourceKey=\"SM1\""));

  sink.failWith = "the store is down";
  EXPECT_EQ(errorCode(d.receive(arrival("a2"), d.httpSession())), "storeUnavailable");
}

TEST_F(ExternalDriverTest, RefusesAnotherSenderAnotherNameAndMediaItIsNotConfiguredFor) {
  auto& d = make();
  EXPECT_EQ(errorCode(d.receive(registration("r1", "email-1", "email"), d.httpSession())),
            "forbidden");
  EXPECT_EQ(errorCode(d.receive(registration("r2", "sms-gw", "sms voice"), d.httpSession())),
            "unsupportedMedium");
  d.receive(registration("r3"), d.httpSession());
  EXPECT_EQ(errorCode(d.receive(ping("p1", "email-1"), d.httpSession())), "forbidden");
  EXPECT_EQ(errorCode(d.receive(arrival("a1", "chat"), d.httpSession())), "unsupportedMedium");
  EXPECT_TRUE(sink.documents.empty());
}

TEST_F(ExternalDriverTest, ABadDocumentIsCountedKeptAsADeadLetterAndThrown) {
  auto& d = make();
  d.receive(registration("r1"), d.httpSession());
  EXPECT_THROW(d.receive("<message><unclosed>", d.httpSession()), InvalidDocument);
  EXPECT_THROW(d.receive("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
                         d.httpSession()),
               InvalidDocument);
  EXPECT_EQ(d.counters().badDocuments, 2u);
  EXPECT_EQ(sink.documents.size(), 2u); // the server keeps each as a dead letter
  EXPECT_THAT(logs.str(), HasSubstr("external.bad_document"));
  // The session goes on.
  EXPECT_EQ(response(d.receive(ping("p1"), d.httpSession())).status, ResponseStatus::Ok);
}

TEST_F(ExternalDriverTest, ACommandForADriverThatIsNotConnectedIsAnsweredDriverUnavailable) {
  auto& d = make();
  Message failed = decode(d.deliver(sendReply("sb-1.1")));
  EXPECT_EQ(failed.correlationId, "sb-1.1");
  EXPECT_EQ(failed.sender, (Party{PartyType::Driver, "sms-gw"}));
  ASSERT_TRUE(std::get<Response>(failed.payload).error);
  EXPECT_EQ(std::get<Response>(failed.payload).error->code, "driverUnavailable");
  EXPECT_EQ(std::get<Response>(failed.payload).kind, "sendReply");
  EXPECT_EQ(d.counters().commandsFailed, 1u);
}

TEST_F(ExternalDriverTest, ACommandGoesToTheLongPollAndTheDriversResponseComesBack) {
  auto& d = make();
  d.receive(registration("r1"), d.httpSession());
  auto delivered = std::async(std::launch::async, [&] { return d.deliver(sendReply("sb-1.7")); });
  std::optional<std::string> command;
  for (int i = 0; i < 100 && !command; ++i) {
    command = d.nextCommand(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(command);
  EXPECT_THAT(*command, HasSubstr("replyId=\"r-1\""));
  EXPECT_EQ(d.receive(answer("sms-gw.9", "sb-1.7", "duplicate"), d.httpSession()), "");
  Response result = response(delivered.get());
  EXPECT_EQ(result.status, ResponseStatus::Duplicate);
  EXPECT_EQ(d.counters().commandsSent, 1u);
}

TEST_F(ExternalDriverTest, ACommandTakenButNotAnsweredInTimeIsAnsweredDriverTimeout) {
  options.commandTimeout = std::chrono::milliseconds(300);
  auto& d = make();
  d.receive(registration("r1"), d.httpSession());
  auto delivered = std::async(std::launch::async, [&] { return d.deliver(sendReply("sb-1.8")); });
  std::optional<std::string> command;
  for (int i = 0; i < 100 && !command; ++i) {
    command = d.nextCommand(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(command);
  EXPECT_EQ(errorCode(delivered.get()), "driverTimeout");
  // A late answer is dropped, not mistaken for another command's.
  EXPECT_EQ(d.receive(answer("sms-gw.10", "sb-1.8"), d.httpSession()), "");
}

TEST_F(ExternalDriverTest, ACommandNobodyFetchedIsWithdrawnFromThePoll) {
  options.commandTimeout = std::chrono::milliseconds(200);
  auto& d = make();
  d.receive(registration("r1"), d.httpSession());
  EXPECT_EQ(errorCode(d.deliver(sendReply("sb-1.9"))), "driverUnavailable");
  EXPECT_FALSE(d.nextCommand(std::chrono::milliseconds(0)));
}

TEST_F(ExternalDriverTest, OneSessionHoldsTheNameUntilItCloses) {
  auto& d = make();
  std::atomic<int> sentToFirst{0};
  auto first = d.openSession([&](const std::string&) { ++sentToFirst; });
  auto second = d.openSession([](const std::string&) {});
  EXPECT_EQ(response(d.receive(registration("r1"), first)).status, ResponseStatus::Ok);
  EXPECT_EQ(errorCode(d.receive(registration("r2"), second)), "driverNameInUse");
  EXPECT_EQ(errorCode(d.receive(registration("r3"), d.httpSession())), "driverNameInUse");
  EXPECT_EQ(errorCode(d.receive(ping("p1"), second)), "notRegistered");

  auto delivered = std::async(std::launch::async, [&] { return d.deliver(sendReply("sb-1.3")); });
  for (int i = 0; i < 2000 && sentToFirst == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(sentToFirst, 1);
  d.closeSession(first); // the socket dropped before the driver answered
  EXPECT_EQ(errorCode(delivered.get()), "driverUnavailable");
  EXPECT_FALSE(d.registered());
  EXPECT_EQ(response(d.receive(registration("r4"), second)).status, ResponseStatus::Ok);
}

TEST_F(ExternalDriverTest, AStoppedDriverTakesNoCommands) {
  auto& d = make();
  d.receive(registration("r1"), d.httpSession());
  d.stop();
  EXPECT_EQ(errorCode(d.deliver(sendReply("sb-1.4"))), "driverUnavailable");
  EXPECT_THROW(d.nextCommand(std::chrono::milliseconds(0)), std::logic_error);
  EXPECT_EQ(errorCode(d.receive(registration("r2"), d.httpSession())), "driverUnavailable");
}

} // namespace
} // namespace switchboard::external
