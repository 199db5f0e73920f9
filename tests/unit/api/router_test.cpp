#include "router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::api {
namespace {

ApiResponse nothing(const ApiRequest&) {
  return {};
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.add("GET", "/v1/items", Access::Authenticated, BodyKind::None, nothing);
    router.add("POST", "/v1/items", Access::Integrator, BodyKind::Json, nothing);
    router.add("GET", "/v1/items/{id}", Access::Authenticated, BodyKind::None, nothing);
    router.add("POST", "/v1/items/{id}/accept", Access::Authenticated, BodyKind::Json, nothing);
  }
  Router router;
};

TEST_F(RouterTest, MatchesLiteralAndParameterSegments) {
  auto match = router.match("POST", "/v1/items/wi-7/accept");
  ASSERT_EQ(match.outcome, RouteMatch::Outcome::Found);
  EXPECT_EQ(match.route->pattern, "/v1/items/{id}/accept");
  ASSERT_EQ(match.params.size(), 1u);
  EXPECT_EQ(match.params[0], (std::pair<std::string, std::string>("id", "wi-7")));
}

TEST_F(RouterTest, DecodesParameters) {
  auto match = router.match("GET", "/v1/items/a%20b%2Fc");
  ASSERT_EQ(match.outcome, RouteMatch::Outcome::Found);
  EXPECT_EQ(match.params[0].second, "a b/c");
}

TEST_F(RouterTest, AParameterWithABrokenEscapeMatchesNoRoute) {
  for (const char* path :
       {"/v1/items/%zz", "/v1/items/a%2", "/v1/items/%", "/v1/items/%zz/accept"}) {
    EXPECT_EQ(router.match("GET", path).outcome, RouteMatch::Outcome::NoRoute) << path;
  }
  auto ok = router.match("GET", "/v1/items/a%2Fb");
  ASSERT_EQ(ok.outcome, RouteMatch::Outcome::Found);
  EXPECT_EQ(ok.params[0].second, "a/b");
}

TEST_F(RouterTest, TellsNoRouteFromWrongMethod) {
  EXPECT_EQ(router.match("GET", "/v1/other").outcome, RouteMatch::Outcome::NoRoute);
  EXPECT_EQ(router.match("GET", "/v1/items/").outcome, RouteMatch::Outcome::NoRoute);
  EXPECT_EQ(router.match("GET", "/v1/items/x/accept/more").outcome, RouteMatch::Outcome::NoRoute);
  auto wrong = router.match("DELETE", "/v1/items");
  EXPECT_EQ(wrong.outcome, RouteMatch::Outcome::WrongMethod);
  EXPECT_EQ(wrong.allowed, "GET, POST");
}

TEST_F(RouterTest, RefusesDuplicatesAndRelativePatterns) {
  EXPECT_THROW(router.add("GET", "/v1/items", Access::Public, BodyKind::None, nothing),
               std::invalid_argument);
  EXPECT_THROW(router.add("GET", "v1/x", Access::Public, BodyKind::None, nothing),
               std::invalid_argument);
}

} // namespace
} // namespace switchboard::api
