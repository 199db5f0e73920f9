// The OpenAPI document and the server agree: every operation the document describes is routed,
// and every route the server has is described.

#include "tests/support/test_data.h"
#include "tests/unit/api/api_harness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace switchboard::testing {
namespace {

using Operation = std::pair<std::string, std::string>; // method, path

std::set<Operation> documentedOperations(const Poco::JSON::Object::Ptr& document) {
  std::set<Operation> operations;
  auto paths = document->getObject("paths");
  for (const auto& path : paths->getNames()) {
    auto item = paths->getObject(path);
    for (const auto& method : item->getNames()) {
      if (method == "parameters") {
        continue;
      }
      // Endpoints of other parts (web hooks) are added by `switchboard serve`, not by HttpApi;
      // the real server's contract test covers them.
      if (item->getObject(method)->has("x-switchboard-part")) {
        continue;
      }
      std::string upper = method;
      for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      operations.emplace(upper, path);
    }
  }
  return operations;
}

class OpenApiContractTest : public ApiHarness {
 protected:
  Poco::JSON::Object::Ptr document() {
    Poco::JSON::Parser parser;
    return parser.parse(readFile(sourceDir() / "docs/openapi.json"))
        .extract<Poco::JSON::Object::Ptr>();
  }
};

TEST_F(OpenApiContractTest, TheServedDocumentIsTheOneInDocs) {
  auto reply = get("/v1/openapi.json");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, readFile(sourceDir() / "docs/openapi.json"));
}

TEST_F(OpenApiContractTest, EveryRouteIsDocumentedAndEveryDocumentedOperationIsRouted) {
  auto documented = documentedOperations(document());
  std::set<Operation> routed;
  for (const auto& route : api->routes()) {
    routed.insert(route);
  }
  for (const auto& operation : routed) {
    EXPECT_TRUE(documented.contains(operation))
        << operation.first << " " << operation.second << " is routed but not documented";
  }
  for (const auto& operation : documented) {
    EXPECT_TRUE(routed.contains(operation))
        << operation.first << " " << operation.second << " is documented but not routed";
  }
}

TEST_F(OpenApiContractTest, EveryDocumentedOperationAnswersOverHttp) {
  auto document = this->document();
  for (const auto& [method, path] : documentedOperations(document)) {
    Call c;
    c.method = method;
    c.path = path;
    for (std::string name : {"{id}"}) {
      for (auto at = c.path.find(name); at != std::string::npos; at = c.path.find(name)) {
        c.path.replace(at, name.size(), "alice");
      }
    }
    if (method == "POST" || method == "PUT") {
      bool xml = path == "/v1/messages";
      c.contentType = xml ? "application/xml" : "application/json";
      c.body = xml ? "<message/>" : "{}";
    }
    auto reply = call(c);
    EXPECT_NE(reply.status, 405) << method << " " << path;
    if (reply.contentType == "application/problem+json") {
      EXPECT_NE(reply.json()->getValue<std::string>("type"), "urn:switchboard:problem:no-route")
          << method << " " << path;
    }
    EXPECT_LT(reply.status, 500) << method << " " << path;
  }
}

TEST_F(OpenApiContractTest, EveryProtectedOperationDocumentsItsErrors) {
  auto document = this->document();
  auto paths = document->getObject("paths");
  for (const auto& [method, path] : documentedOperations(document)) {
    std::string lower = method;
    for (auto& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto operation = paths->getObject(path)->getObject(lower);
    auto responses = operation->getObject("responses");
    ASSERT_TRUE(responses) << method << " " << path;
    bool isPublic = operation->has("security") && operation->getArray("security")->size() == 0;
    if (!isPublic) {
      EXPECT_TRUE(responses->has("401")) << method << " " << path;
    }
    if (method == "POST" || method == "PUT") {
      EXPECT_TRUE(responses->has("400")) << method << " " << path;
      EXPECT_TRUE(responses->has("413")) << method << " " << path;
    }
  }
}

} // namespace
} // namespace switchboard::testing
