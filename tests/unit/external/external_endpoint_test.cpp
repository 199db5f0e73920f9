// The external driver endpoint over real sockets: the real HttpApi on port 0 (with the endpoint's
// own routes) in front of a FakeService, an ExternalDriver behind it, Poco HTTP and WebSocket
// clients playing the driver's process.

#include "adapters/external/external_endpoint.h"

#include "tests/unit/api/fake_service.h"

#include <Poco/Buffer.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/StreamCopier.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <sstream>

namespace switchboard::external {
namespace {

using Poco::Net::WebSocket;
using ::testing::HasSubstr;

constexpr const char* kKey = "sms-gw-key-0123456789abcdef";

class AnsweringSink final : public MessageSink {
 public:
  std::string submit(std::string_view document) override {
    auto decoded = codec.decode(document);
    if (!decoded.ok()) {
      throw InvalidDocument(decoded.error().toString());
    }
    ++submitted;
    Message response;
    response.id = "sb-1.r" + std::to_string(submitted.load());
    response.sender = {PartyType::Server, "sb-1"};
    response.addressee = decoded->sender;
    response.correlationId = decoded->id;
    response.payload = Response{std::string(kindOf(*decoded)), ResponseStatus::Ok, std::nullopt};
    return codec.encode(response);
  }
  MessageCodec codec;
  std::atomic<int> submitted{0};
};

struct Reply {
  int status = 0;
  std::string contentType;
  std::string body;
  std::string authenticate;
};

std::string document(const std::string& id, const std::string& body,
                     const std::string& correlation = "") {
  return "<?xml version=\"1.0\"?>\n<message xmlns=\"urn:switchboard:message:v1\" version=\"1.0\" "
         "id=\"" +
         id + "\" time=\"2026-11-21T09:00:00Z\"" +
         (correlation.empty() ? "" : " correlationId=\"" + correlation + "\"") +
         "><sender type=\"driver\" id=\"sms-gw\"/><addressee type=\"server\" id=\"sb-1\"/>" + body +
         "</message>";
}

const std::string kRegister =
    document("sms-gw.1", "<request><registerDriver driver=\"sms-gw\" media=\"sms\"/></request>");
const std::string kArrival =
    document("sms-gw.2", "<workItem medium=\"sms\" sourceKey=\"SM1\"><body>Ola</body></workItem>"
                         "<notification><workItemArrived/></notification>");

std::string sendReply(const std::string& id) {
  return "<?xml version=\"1.0\"?>\n<message xmlns=\"urn:switchboard:message:v1\" version=\"1.0\" "
         "id=\"" +
         id +
         "\" time=\"2026-11-21T09:00:00Z\"><sender type=\"server\" id=\"sb-1\"/><addressee "
         "type=\"driver\" id=\"sms-gw\"/><command><sendReply workItem=\"wi-000001\" "
         "replyId=\"r-1\"><body>Obrigado</body></sendReply></command></message>";
}

class ExternalEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ExternalOptions options;
    options.name = "sms-gw";
    options.serverId = "sb-1";
    options.key = kKey;
    options.media = {"sms"};
    driver = std::make_unique<ExternalDriver>(options, sink, logger);
    endpoint = std::make_unique<ExternalEndpoint>(logger, &metrics);
    ApiOptions api;
    api.address = "127.0.0.1";
    api.port = 0;
    api.threads = 8;
    api.keys = {{"crm", "crm-key-0123456789abcdef"}};
    api.drainTimeout = std::chrono::milliseconds(200);
    http = std::make_unique<HttpApi>(service, metrics, logger, api);
    endpoint->install(*http);
    http->start();
    driver->start();
    endpoint->attach(*driver);
  }

  void TearDown() override {
    endpoint->detach("sms-gw");
    driver->stop();
    endpoint->shutdown();
    http->stop();
  }

  Reply call(const std::string& method, const std::string& path, const std::string& key,
             const std::string& body = "", const std::string& type = "application/xml",
             std::int64_t declaredLength = -1) {
    Poco::Net::HTTPClientSession session("127.0.0.1", http->port());
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!key.empty()) {
      request.set("Authorization", "Bearer " + key);
    }
    if (!body.empty() || method == "POST") {
      request.setContentType(type);
      request.setContentLength64(declaredLength >= 0 ? declaredLength
                                                     : static_cast<Poco::Int64>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Reply reply;
    reply.status = response.getStatus();
    reply.contentType = response.getContentType();
    reply.authenticate = response.get("WWW-Authenticate", "");
    Poco::StreamCopier::copyToString(in, reply.body);
    return reply;
  }

  std::unique_ptr<WebSocket> connect(const std::string& key) {
    Poco::Net::HTTPClientSession session("127.0.0.1", http->port());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/v1/drivers/sms-gw/connect",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + key);
    Poco::Net::HTTPResponse response;
    auto socket = std::make_unique<WebSocket>(session, request, response);
    socket->setReceiveTimeout(Poco::Timespan(20, 0));
    return socket;
  }

  static std::pair<int, std::string> receive(WebSocket& socket) {
    Poco::Buffer<char> buffer(0);
    int flags = 0;
    socket.receiveFrame(buffer, flags);
    return {flags & WebSocket::FRAME_OP_BITMASK, std::string(buffer.begin(), buffer.end())};
  }

  static void send(WebSocket& socket, const std::string& text) {
    socket.sendFrame(text.data(), static_cast<int>(text.size()), WebSocket::FRAME_TEXT);
  }

  testing::FakeService service;
  AnsweringSink sink;
  MetricsRegistry metrics;
  std::ostringstream logs;
  Logger logger{LogLevel::Info, LogFormat::Text, logs};
  std::unique_ptr<ExternalDriver> driver;
  std::unique_ptr<ExternalEndpoint> endpoint;
  std::unique_ptr<HttpApi> http;
};

TEST_F(ExternalEndpointTest, RefusesUnknownNamesAndWrongOrMissingKeysWithoutLeakingTheKey) {
  Reply unknown = call("POST", "/v1/drivers/fax-9/messages", kKey, kRegister);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("fax-9"));

  EXPECT_EQ(call("POST", "/v1/drivers/sms-gw/nothing", kKey, kRegister).status, 404);
  // The name is percent-decoded: this is sms-gw, with a wrong key.
  EXPECT_EQ(call("POST", "/v1/drivers/sms%2Dgw/messages", "not-the-key", kRegister).status, 401);

  Reply missing = call("POST", "/v1/drivers/sms-gw/messages", "", kRegister);
  EXPECT_EQ(missing.status, 401);
  EXPECT_THAT(missing.authenticate, HasSubstr("Bearer"));

  Reply wrong = call("POST", "/v1/drivers/sms-gw/messages", "crm-key-0123456789abcdef", kRegister);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.contentType, "application/problem+json");

  // An integrator key does not open a driver's endpoint, and a driver key not the REST API.
  EXPECT_EQ(call("GET", "/v1/agents", kKey).status, 401);

  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("switchboard_external_auth_failures_total{reason=\"wrongKey\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("switchboard_external_auth_failures_total{reason=\"unknownDriver\"} 1"));
  EXPECT_THAT(logs.str(), ::testing::Not(HasSubstr(kKey)));
  EXPECT_FALSE(driver->registered());
}

TEST_F(ExternalEndpointTest, OverHttpADriverRegistersPostsMessagesAndPollsForCommands) {
  Reply notYet = call("GET", "/v1/drivers/sms-gw/commands?wait=0", kKey);
  EXPECT_EQ(notYet.status, 409);
  EXPECT_THAT(notYet.body, HasSubstr("notRegistered"));

  Reply registered = call("POST", "/v1/drivers/sms-gw/messages", kKey, kRegister);
  EXPECT_EQ(registered.status, 200);
  EXPECT_THAT(registered.contentType, HasSubstr("application/xml"));
  EXPECT_THAT(registered.body, HasSubstr("correlationId=\"sms-gw.1\""));
  EXPECT_THAT(registered.body, HasSubstr("status=\"ok\""));

  Reply arrived = call("POST", "/v1/drivers/sms-gw/messages", kKey, kArrival);
  EXPECT_EQ(arrived.status, 200);
  EXPECT_THAT(arrived.body, HasSubstr("kind=\"workItemArrived\""));
  EXPECT_EQ(sink.submitted, 1);

  EXPECT_EQ(call("GET", "/v1/drivers/sms-gw/commands?wait=0", kKey).status, 204);

  auto delivered =
      std::async(std::launch::async, [&] { return driver->deliver(sendReply("sb-1.5")); });
  Reply command = call("GET", "/v1/drivers/sms-gw/commands?wait=20", kKey);
  ASSERT_EQ(command.status, 200);
  EXPECT_THAT(command.body, HasSubstr("<sendReply"));
  Reply answered =
      call("POST", "/v1/drivers/sms-gw/messages", kKey,
           document("sms-gw.3", "<response kind=\"sendReply\" status=\"ok\"/>", "sb-1.5"));
  EXPECT_EQ(answered.status, 204);
  EXPECT_THAT(delivered.get(), HasSubstr("correlationId=\"sb-1.5\""));
  // Counted like every route of the API, by pattern.
  EXPECT_THAT(metrics.render(), HasSubstr("switchboard_http_requests_total{route=\"/v1/drivers/"
                                          "{name}/messages\",method=\"POST\",status=\"200\"} 2"));
}

TEST_F(ExternalEndpointTest, ABadDocumentOverHttpIsAProblemWithTheReasonAndIsCounted) {
  call("POST", "/v1/drivers/sms-gw/messages", kKey, kRegister);
  Reply bad = call("POST", "/v1/drivers/sms-gw/messages", kKey, "<message><oops></message>");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.contentType, "application/problem+json");
  EXPECT_THAT(bad.body, HasSubstr("not a valid message"));
  EXPECT_THAT(metrics.render(),
              HasSubstr("switchboard_external_bad_documents_total{driver=\"sms-gw\"} 1"));

  EXPECT_EQ(call("POST", "/v1/drivers/sms-gw/messages", kKey, kRegister, "application/json").status,
            415);
  // Refused on its declared length, before a byte of it is read.
  EXPECT_EQ(
      call("POST", "/v1/drivers/sms-gw/messages", kKey, "", "application/xml", 2 << 20).status,
      413);
  EXPECT_EQ(call("POST", "/v1/drivers/sms-gw/errors", kKey, "line 1: not well-formed", "text/plain")
                .status,
            204);
  EXPECT_EQ(driver->counters().reportedErrors, 1u);
  // Still serving.
  EXPECT_EQ(call("POST", "/v1/drivers/sms-gw/messages", kKey, kRegister).status, 200);
}

TEST_F(ExternalEndpointTest, OverAWebSocketMessagesAndCommandsShareOneConnection) {
  auto socket = connect(kKey);
  send(*socket, kRegister);
  auto [opcode, registered] = receive(*socket);
  EXPECT_EQ(opcode, WebSocket::FRAME_OP_TEXT);
  EXPECT_THAT(registered, HasSubstr("status=\"ok\""));
  EXPECT_TRUE(driver->registered());

  // The HTTP side cannot take the name while the socket holds it.
  EXPECT_THAT(call("POST", "/v1/drivers/sms-gw/messages", kKey, kRegister).body,
              HasSubstr("driverNameInUse"));

  auto delivered =
      std::async(std::launch::async, [&] { return driver->deliver(sendReply("sb-1.6")); });
  auto [commandOpcode, command] = receive(*socket);
  EXPECT_EQ(commandOpcode, WebSocket::FRAME_OP_TEXT);
  EXPECT_THAT(command, HasSubstr("<sendReply"));
  send(*socket,
       document("sms-gw.4", "<response kind=\"sendReply\" status=\"duplicate\"/>", "sb-1.6"));
  EXPECT_THAT(delivered.get(), HasSubstr("status=\"duplicate\""));

  send(*socket, kArrival);
  EXPECT_THAT(receive(*socket).second, HasSubstr("kind=\"workItemArrived\""));

  send(*socket, "<message>not closed");
  auto [closeOpcode, reason] = receive(*socket);
  EXPECT_EQ(closeOpcode, WebSocket::FRAME_OP_CLOSE);
  EXPECT_THAT(reason, HasSubstr("not a valid message"));
  for (int i = 0; i < 2000 && driver->registered(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(driver->registered());
}

TEST_F(ExternalEndpointTest, AMessageInFragmentsIsReadAsOneAndABinaryFrameClosesTheSocket) {
  auto socket = connect(kKey);
  std::size_t half = kRegister.size() / 2;
  socket->sendFrame(kRegister.data(), static_cast<int>(half), WebSocket::FRAME_OP_TEXT);
  socket->sendFrame(kRegister.data() + half, static_cast<int>(kRegister.size() - half),
                    WebSocket::FRAME_FLAG_FIN);
  EXPECT_THAT(receive(*socket).second, HasSubstr("status=\"ok\""));
  socket->sendFrame("\x01\x02", 2, WebSocket::FRAME_BINARY);
  auto [opcode, reason] = receive(*socket);
  EXPECT_EQ(opcode, WebSocket::FRAME_OP_CLOSE);
  EXPECT_THAT(reason, HasSubstr("text frames"));
}

TEST_F(ExternalEndpointTest, OpenWebSocketsDoNotHoldTheHttpServersThreads) {
  std::vector<std::unique_ptr<WebSocket>> sockets;
  for (int i = 0; i < 12; ++i) { // more than the server's 8 threads
    sockets.push_back(connect(kKey));
  }
  Reply registered = call("POST", "/v1/drivers/sms-gw/messages", kKey, kRegister);
  EXPECT_EQ(registered.status, 200);
  EXPECT_EQ(call("GET", "/healthz", "").status, 200);
}

TEST_F(ExternalEndpointTest, AWebSocketWithAWrongKeyIsRefusedBeforeTheUpgrade) {
  EXPECT_THROW(connect("not-the-key-0123456789"), Poco::Net::WebSocketException);
  EXPECT_FALSE(driver->registered());
}

} // namespace
} // namespace switchboard::external
