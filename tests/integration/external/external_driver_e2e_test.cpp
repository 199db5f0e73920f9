// The sample Python driver (samples/external-driver/driver.py) against the real `switchboard
// serve`: a line in its inbox and an SMS posted to it become work items visible over REST, a
// reply made over REST reaches the driver, and nothing is lost or doubled when the server is
// killed with SIGKILL while the driver keeps sending.

#include "tests/support/server_process.h"

#include <Poco/Buffer.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <regex>

namespace switchboard {
namespace {

using testing::eventually;
using ::testing::HasSubstr;
using testing::HttpReply;
using testing::ServerProcess;

constexpr const char* kKey = "test-integrator-key-0123456789";
constexpr const char* kDriverKey = "sms-gw-test-key-0123456789abcdef";

std::string config(int port) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-e2e"><listener address="127.0.0.1" port=")" +
         std::to_string(port) + R"(" threads="6"/></server>
  <store><sqlite path="@DIR@/switchboard.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef" lifetime="1h"/>
  </security>
  <logging level="info" format="text"/>
  <drivers>
    <external name="sms-gw" media="sms" keyFile="@DIR@/sms-gw.key" commandTimeout="3s"
              heartbeatTimeout="30s"/>
  </drivers>
  <routing defaultQueue="general"/>
  <agents>
    <agent id="a-ana" name="Ana Sousa" site="lisbon">
      <mix><limit medium="sms" max="5"/></mix>
    </agent>
  </agents>
  <queues>
    <queue id="general" ordering="longestIdle" offerTimeout="1h"/>
  </queues>
</switchboard>
)";
}

int freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The sample driver as a child process, its output in a file; stopped on destruction.
class PythonDriver {
 public:
  PythonDriver(const std::filesystem::path& dir, int serverPort) : dir_(dir) {
    std::ofstream(dir_ / "inbox.txt", std::ios::app).flush();
    std::string url = "http://127.0.0.1:" + std::to_string(serverPort);
    std::string script = std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/external-driver/driver.py";
    std::string inbox = (dir_ / "inbox.txt").string();
    std::string state = (dir_ / "driver-state").string();
    std::string keyFile = (dir_ / "sms-gw.key").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      int log = ::open((dir_ / "driver.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      ::execl("/usr/bin/python3", "/usr/bin/python3", "-u", script.c_str(), "--url", url.c_str(),
              "--name", "sms-gw", "--key-file", keyFile.c_str(), "--server-id", "sb-e2e", "--inbox",
              inbox.c_str(), "--state", state.c_str(), "--listen", "127.0.0.1:0", "--retry", "0.2",
              "--poll", "5", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PythonDriver() { stop(SIGKILL); }

  void stop(int signal) {
    if (pid_ > 0) {
      ::kill(pid_, signal);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  std::string log() const { return readFile(dir_ / "driver.log"); }

  /// The port it takes SMS on, once it says so.
  int smsPort() const {
    std::smatch match;
    std::string text = log();
    if (std::regex_search(text, match, std::regex("taking SMS at http://127.0.0.1:([0-9]+)/sms"))) {
      return std::stoi(match[1]);
    }
    return 0;
  }

  void addLine(const std::string& line) const {
    std::ofstream(dir_ / "inbox.txt", std::ios::app) << line << '\n';
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

class ExternalDriverE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port = freePort();
    server = std::make_unique<ServerProcess>(config(port));
    std::ofstream(server->dir() / "sms-gw.key") << kDriverKey << '\n';
    server->start();
    driver = std::make_unique<PythonDriver>(server->dir(), port);
    ASSERT_TRUE(eventually([&] {
      return driver->log().find("registered as sms-gw") != std::string::npos;
    })) << driver->log()
        << server->log();
  }

  std::vector<Poco::JSON::Object::Ptr> smsItems() const {
    std::vector<Poco::JSON::Object::Ptr> items;
    HttpReply reply = server->request("GET", "/v1/work-items?medium=sms&limit=100", kKey);
    if (reply.status != 200) {
      return items;
    }
    auto array = reply.json()->getArray("items");
    for (std::size_t i = 0; i < array->size(); ++i) {
      items.push_back(array->getObject(static_cast<unsigned>(i)));
    }
    return items;
  }

  int port = 0;
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<PythonDriver> driver;
};

TEST_F(ExternalDriverE2eTest, ALineBecomesAWorkItemAndAReplyReachesTheDriver) {
  driver->addLine("+351912345678 Bom dia, o meu cartão SIM ainda não chegou.");
  std::vector<Poco::JSON::Object::Ptr> items;
  ASSERT_TRUE(eventually([&] {
    items = smsItems();
    return items.size() == 1;
  })) << driver->log()
      << server->log();
  std::string id = items.front()->getValue<std::string>("id");
  HttpReply detail = server->request("GET", "/v1/work-items/" + id, kKey);
  EXPECT_THAT(detail.body, HasSubstr("+351912345678"));
  EXPECT_THAT(detail.body, HasSubstr("SIM ainda"));

  HttpReply replied = server->request(
      "POST", "/v1/work-items/" + id + "/reply", kKey,
      R"({"replyId":"r-e2e-1","body":{"text":"Olá! O cartão segue hoje por correio."}})");
  EXPECT_EQ(replied.status, 202) << replied.body << server->log();
  EXPECT_TRUE(eventually([&] {
    return driver->log().find("SMS to +351912345678 (reply r-e2e-1, work item " + id +
                              "): Olá! O cartão segue hoje") != std::string::npos;
  })) << driver->log();
  EXPECT_THAT(readFile(server->dir() / "driver-state" / "outbox.txt"), HasSubstr("r-e2e-1"));

  // The same reply again is not sent twice: the driver answers duplicate.
  HttpReply again = server->request("POST", "/v1/work-items/" + id + "/reply", kKey,
                                    R"({"replyId":"r-e2e-1","body":{"text":"Olá!"}})");
  EXPECT_EQ(again.status, 202) << again.body;
  std::string log = driver->log();
  std::size_t first = log.find("SMS to +351912345678 (reply r-e2e-1");
  EXPECT_EQ(log.find("SMS to +351912345678 (reply r-e2e-1", first + 1), std::string::npos);
}

TEST_F(ExternalDriverE2eTest, AnSmsPostedToTheDriverIsCommittedBeforeItIsAccepted) {
  ASSERT_TRUE(eventually([&] { return driver->smsPort() != 0; })) << driver->log();
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(driver->smsPort()));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request("POST", "/sms", Poco::Net::HTTPMessage::HTTP_1_1);
  std::string body = R"({"from":"+351936112233","to":"4040","text":"Podem reenviar o código?",)"
                     R"("id":"SM7c9e04b1f2a84d6e9b3c"})";
  request.setContentType("application/json");
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::string answer;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
  EXPECT_EQ(response.getStatus(), 202) << answer;
  EXPECT_THAT(answer, HasSubstr("wi-"));
  // Accepted means committed: the item is there at once.
  auto items = smsItems();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_THAT(
      server->request("GET", "/v1/work-items/" + items.front()->getValue<std::string>("id"), kKey)
          .body,
      HasSubstr("SM7c9e04b1f2a84d6e9b3c"));
}

TEST_F(ExternalDriverE2eTest, NothingIsLostOrDoubledWhenTheServerIsKilledWhileTheDriverSends) {
  driver->addLine("+351911000001 first");
  ASSERT_TRUE(eventually([&] { return smsItems().size() == 1; })) << driver->log();
  server->kill(SIGKILL);
  driver->addLine("+351911000002 second, while the server is down");
  driver->addLine("+351911000003 third");
  EXPECT_TRUE(eventually([&] {
    return driver->log().find("will send again") != std::string::npos;
  })) << driver->log();
  server->start();
  EXPECT_TRUE(eventually([&] { return smsItems().size() == 3; })) << driver->log() << server->log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto items = smsItems();
  EXPECT_EQ(items.size(), 3u);
}

TEST_F(ExternalDriverE2eTest,
       ADriverKilledMidStreamSendsAgainWhatItHadNotRecordedAndNothingIsDoubled) {
  for (int i = 1; i <= 20; ++i) {
    driver->addLine("+3519110000" + std::to_string(10 + i) + " message " + std::to_string(i));
  }
  ASSERT_TRUE(eventually([&] { return !smsItems().empty(); })) << driver->log();
  driver->stop(SIGKILL); // somewhere between a commit and the inbox position it records after it
  driver = std::make_unique<PythonDriver>(server->dir(), port);
  EXPECT_TRUE(eventually([&] { return smsItems().size() == 20; })) << driver->log();
  EXPECT_TRUE(eventually([&] {
    return readFile(server->dir() / "driver-state" / "inbox.offset") ==
           std::to_string(std::filesystem::file_size(server->dir() / "inbox.txt"));
  }));
  EXPECT_EQ(smsItems().size(), 20u);
}

TEST_F(ExternalDriverE2eTest, AReplyForADriverThatIsGoneIsRefusedSoThatItCanBeSentAgain) {
  driver->addLine("+351912000000 hello");
  ASSERT_TRUE(eventually([&] { return smsItems().size() == 1; })) << driver->log();
  std::string id = smsItems().front()->getValue<std::string>("id");
  driver->stop(SIGKILL);
  HttpReply refused = server->request("POST", "/v1/work-items/" + id + "/reply", kKey,
                                      R"({"replyId":"r-gone-1","body":{"text":"Olá"}})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  // driverTimeout when a long poll of the dead driver took the command, driverUnavailable when
  // none did: either way the reply was not taken on and is refused.
  EXPECT_THAT(refused.body, ::testing::ContainsRegex("driverUnavailable|driverTimeout"));

  // Back again, the same reply goes through.
  driver = std::make_unique<PythonDriver>(server->dir(), port);
  ASSERT_TRUE(
      eventually([&] { return driver->log().find("registered as sms-gw") != std::string::npos; }));
  HttpReply sent = server->request("POST", "/v1/work-items/" + id + "/reply", kKey,
                                   R"({"replyId":"r-gone-1","body":{"text":"Olá"}})");
  EXPECT_EQ(sent.status, 202) << sent.body << server->log();
}

// A driver over a WebSocket, against the real server: the connection the sample driver does not
// use.
class ExternalWebSocketE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<ServerProcess>(config(freePort()));
    std::ofstream(server->dir() / "sms-gw.key") << kDriverKey << '\n';
    server->start();
  }

  std::unique_ptr<Poco::Net::WebSocket> connect(const std::string& key) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server->port()));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/v1/drivers/sms-gw/connect",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", "Bearer " + key);
    Poco::Net::HTTPResponse response;
    auto socket = std::make_unique<Poco::Net::WebSocket>(session, request, response);
    socket->setReceiveTimeout(Poco::Timespan(30, 0));
    return socket;
  }

  static std::string exchange(Poco::Net::WebSocket& socket, const std::string& text) {
    socket.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
    return receive(socket);
  }

  static std::string receive(Poco::Net::WebSocket& socket) {
    Poco::Buffer<char> buffer(0);
    int flags = 0;
    socket.receiveFrame(buffer, flags);
    return std::string(buffer.begin(), buffer.end());
  }

  static std::string message(const std::string& id, const std::string& body,
                             const std::string& correlation = "") {
    return "<message xmlns=\"urn:switchboard:message:v1\" version=\"1.0\" id=\"" + id +
           "\" time=\"2026-11-21T09:00:00Z\"" +
           (correlation.empty() ? "" : " correlationId=\"" + correlation + "\"") +
           "><sender type=\"driver\" id=\"sms-gw\"/><addressee type=\"server\" id=\"sb-e2e\"/>" +
           body + "</message>";
  }

  std::unique_ptr<ServerProcess> server;
};

TEST_F(ExternalWebSocketE2eTest, ArrivalsAndRepliesShareOneSocket) {
  EXPECT_THROW(connect("not-the-driver-key-0123456789"), Poco::Net::WebSocketException);
  auto socket = connect(kDriverKey);
  EXPECT_THAT(exchange(*socket, message("ws.1", "<request><ping/></request>")),
              HasSubstr("notRegistered"));
  EXPECT_THAT(exchange(*socket, message("ws.2", "<request><registerDriver driver=\"sms-gw\" "
                                                "media=\"sms\"/></request>")),
              HasSubstr("status=\"ok\""));
  std::string arrived =
      exchange(*socket, message("ws.3", "<workItem medium=\"sms\" sourceKey=\"SM-ws-1\"><customer>"
                                        "<address kind=\"phone\">+351910000000</address></customer>"
                                        "<body>Olá por WebSocket</body></workItem><notification>"
                                        "<workItemArrived/></notification>"));
  EXPECT_THAT(arrived, HasSubstr("status=\"ok\""));
  std::smatch match;
  ASSERT_TRUE(std::regex_search(arrived, match, std::regex("id=\"(wi-[0-9]+)\""))) << arrived;
  std::string id = match[1];

  // The reply is made over REST while the socket waits; the command arrives on the socket.
  std::thread crm([&] {
    HttpReply replied = server->request("POST", "/v1/work-items/" + id + "/reply", kKey,
                                        R"({"replyId":"r-ws-1","body":{"text":"Olá!"}})");
    EXPECT_EQ(replied.status, 202) << replied.body;
  });
  std::string command = receive(*socket);
  EXPECT_THAT(command, HasSubstr("<sendReply"));
  EXPECT_THAT(command, HasSubstr("replyId=\"r-ws-1\""));
  std::smatch commandId;
  ASSERT_TRUE(std::regex_search(command, commandId, std::regex(" id=\"([^\"]+)\"")));
  std::string answer =
      message("ws.4", "<response kind=\"sendReply\" status=\"ok\"/>", commandId[1]);
  socket->sendFrame(answer.data(), static_cast<int>(answer.size()),
                    Poco::Net::WebSocket::FRAME_TEXT);
  crm.join();
  EXPECT_THAT(server->request("GET", "/v1/work-items/" + id, kKey).body, HasSubstr("r-ws-1"));
}

} // namespace
} // namespace switchboard
