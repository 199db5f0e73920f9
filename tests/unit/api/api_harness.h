#pragma once

// Runs the real HttpApi on 127.0.0.1, port 0, over a FakeService, and talks to it over HTTP.

#include "tests/unit/api/fake_service.h"

#include "switchboard/http_api.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <sstream>

namespace switchboard::testing {

inline constexpr const char* kIntegratorKey = "integrator-secret-0123456789";
inline constexpr const char* kTokenSecret = "token-secret-0123456789abcdefghijklmnop";

struct Reply {
  int status = 0;
  std::string contentType;
  std::string body;
  std::map<std::string, std::string> headers;

  Poco::JSON::Object::Ptr json() const {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  }
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
};

struct Call {
  std::string method = "GET";
  std::string path;
  std::string body;
  std::string contentType = "application/json";
  /// "Authorization" value; empty sends none.
  std::string authorization = std::string("Bearer ") + kIntegratorKey;
  std::map<std::string, std::string> headers;
  bool chunked = false;
};

class ApiHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 4;
    options.keys = {{"crm", kIntegratorKey}};
    options.tokenSecret = kTokenSecret;
    options.tokenLifetime = std::chrono::hours(1);
    options.maxBodyBytes = 4096;
    options.drainTimeout = std::chrono::milliseconds(500);
    customize(options);
    api = std::make_unique<HttpApi>(service, metrics, logger, options);
    beforeStart();
    api->start();
    ASSERT_NE(api->port(), 0);
  }

  void TearDown() override { api->stop(); }

  virtual void customize(ApiOptions&) {}
  virtual void beforeStart() {}

  Reply call(const Call& c) {
    Poco::Net::HTTPClientSession session("127.0.0.1", api->port());
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(c.method, c.path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!c.authorization.empty()) {
      request.set("Authorization", c.authorization);
    }
    for (const auto& [name, value] : c.headers) {
      request.set(name, value);
    }
    if (!c.body.empty()) {
      request.setContentType(c.contentType);
      if (c.chunked) {
        request.setChunkedTransferEncoding(true);
      } else {
        request.setContentLength64(static_cast<Poco::Int64>(c.body.size()));
      }
    }
    std::ostream& out = session.sendRequest(request);
    out << c.body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Reply reply;
    reply.status = static_cast<int>(response.getStatus());
    reply.contentType = response.getContentType();
    for (const auto& [name, value] : response) {
      reply.headers[name] = value;
    }
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    reply.body = body.str();
    return reply;
  }

  Reply get(const std::string& path,
            const std::string& authorization = std::string("Bearer ") + kIntegratorKey) {
    Call c;
    c.path = path;
    c.authorization = authorization;
    return call(c);
  }

  Reply post(const std::string& path, const std::string& body,
             const std::string& authorization = std::string("Bearer ") + kIntegratorKey) {
    Call c;
    c.method = "POST";
    c.path = path;
    c.body = body;
    c.authorization = authorization;
    return call(c);
  }

  FakeService service;
  MetricsRegistry metrics;
  std::ostringstream logText;
  Logger logger{LogLevel::Info, logText};
  std::unique_ptr<HttpApi> api;
};

} // namespace switchboard::testing
