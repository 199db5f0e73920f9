// Listeners: HTTPS (with a certificate made by openssl for the test) beside plain HTTP, both
// serving the same endpoints; a certificate that does not load stops the start.

#include "tests/unit/api/api_harness.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLException.h>

#include <gmock/gmock.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace switchboard::testing {
namespace {

// A folder with a self-signed certificate for 127.0.0.1 and its key, made by the openssl tool.
class Certificate {
 public:
  Certificate() {
    char pattern[] = "/tmp/switchboard-tls-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
                          " -addext subjectAltName=IP:127.0.0.1 -keyout " +
                          key().string() + " -out " + certificate().string() + " 2>/dev/null";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("openssl could not make a test certificate");
    }
  }
  ~Certificate() { std::filesystem::remove_all(dir_); }
  std::filesystem::path certificate() const { return dir_ / "cert.pem"; }
  std::filesystem::path key() const { return dir_ / "key.pem"; }

 private:
  std::filesystem::path dir_;
};

const Certificate& certificate() {
  static Certificate made;
  return made;
}

class TlsListenerTest : public ApiHarness {
 protected:
  void customize(ApiOptions& options) override {
    options.tls = ApiTls{certificate().certificate().string(), certificate().key().string()};
    options.moreListeners.push_back({"127.0.0.1", 0, std::nullopt});
  }

  std::uint16_t portOf(const std::string& url) {
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  }

  // GET path over HTTPS, trusting only the test's certificate.
  int httpsGet(std::uint16_t port, const std::string& path, std::string* body = nullptr) {
    Poco::Net::Context::Ptr context = new Poco::Net::Context(
        Poco::Net::Context::TLS_CLIENT_USE, "", "", certificate().certificate().string(),
        Poco::Net::Context::VERIFY_STRICT, 9, false);
    Poco::Net::HTTPSClientSession session("127.0.0.1", port, context);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.set("Authorization", std::string("Bearer ") + kIntegratorKey);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    if (body != nullptr) {
      *body = text;
    }
    return response.getStatus();
  }
};

TEST_F(TlsListenerTest, HttpsAndPlainListenersServeTheSameEndpoints) {
  auto urls = api->urls();
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_THAT(urls[0], ::testing::StartsWith("https://127.0.0.1:"));
  EXPECT_THAT(urls[1], ::testing::StartsWith("http://127.0.0.1:"));
  EXPECT_EQ(portOf(urls[0]), api->port());

  std::string body;
  EXPECT_EQ(httpsGet(api->port(), "/v1/queues", &body), 200);
  EXPECT_THAT(body, ::testing::HasSubstr("queues"));
  EXPECT_EQ(httpsGet(api->port(), "/healthz"), 200);

  Poco::Net::HTTPClientSession plain("127.0.0.1", portOf(urls[1]));
  plain.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/healthz",
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  plain.sendRequest(request);
  Poco::Net::HTTPResponse response;
  plain.receiveResponse(response);
  EXPECT_EQ(response.getStatus(), 200);
}

TEST_F(TlsListenerTest, PlainHttpToTheTlsListenerGetsNoAnswer) {
  Poco::Net::HTTPClientSession plain("127.0.0.1", api->port());
  plain.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/healthz",
                                 Poco::Net::HTTPMessage::HTTP_1_1);
  Poco::Net::HTTPResponse response;
  EXPECT_ANY_THROW({
    plain.sendRequest(request);
    plain.receiveResponse(response);
  }) << "a plain request on the TLS port got status "
     << response.getStatus();
}

TEST(TlsListenerStart, ACertificateThatDoesNotLoadStopsTheStartNamingTheListener) {
  FakeService service;
  MetricsRegistry metrics;
  std::ostringstream log;
  Logger logger(LogLevel::Error, log);
  ApiOptions options;
  options.port = 0;
  options.keys = {{"crm", kIntegratorKey}};
  options.moreListeners.push_back(
      {"127.0.0.1", 0, ApiTls{"/nonexistent/cert.pem", certificate().key().string()}});
  HttpApi api(service, metrics, logger, options);
  try {
    api.start();
    FAIL() << "the start went on without its certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("https://127.0.0.1:0"));
  }
  EXPECT_EQ(api.port(), 0) << "nothing is left running";
  EXPECT_TRUE(api.urls().empty());
}

} // namespace
} // namespace switchboard::testing
