// What an agent token may read of work items: those offered to its agent or held by it now, and
// nothing else. The agent page reads items with nothing but the agent's token.

#include "tests/unit/api/api_harness.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::testing {
namespace {

class AgentScopeTest : public ApiHarness {
 protected:
  void beforeStart() override {
    // wi-1 is offered to alice, wi-2 held by bob, wi-3 queued (fake_service.h). The store keeps
    // an item's last agent: an item alice declined or let expire is queued again under her
    // name, and so is one she completed or transferred.
    service.addItem("wi-4", WorkItemState::Accepted, "alice");
    service.addItem("wi-5", WorkItemState::Queued, "alice");
    service.addItem("wi-6", WorkItemState::Completed, "alice");
    service.addItem("wi-7", WorkItemState::Transferred, "alice");
    service.addItem("wi-8", WorkItemState::Declined, "alice");
    service.addItem("wi-9", WorkItemState::Offered, "bob");
  }

  std::string token(const std::string& agent) {
    auto reply = post("/v1/agents/" + agent + "/tokens", "");
    EXPECT_EQ(reply.status, 201) << reply.body;
    return "Bearer " + reply.json()->getValue<std::string>("token");
  }

  std::set<std::string> listed(const std::string& query, const std::string& authorization) {
    auto reply = get("/v1/work-items" + query, authorization);
    EXPECT_EQ(reply.status, 200) << reply.body;
    std::set<std::string> ids;
    auto items = reply.json()->getArray("items");
    for (std::size_t i = 0; i < items->size(); ++i) {
      ids.insert(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
    }
    return ids;
  }
};

TEST_F(AgentScopeTest, AnAgentReadsTheItemsOfferedToItAndThoseItHolds) {
  auto alice = token("alice");
  auto offered = get("/v1/work-items/wi-1", alice);
  ASSERT_EQ(offered.status, 200) << offered.body;
  EXPECT_EQ(offered.json()->getValue<std::string>("subject"), "Where is my order?");
  EXPECT_EQ(offered.json()->getObject("body")->getValue<std::string>("text"), "Hello");
  EXPECT_EQ(get("/v1/work-items/wi-4", alice).status, 200);
  EXPECT_EQ(listed("", alice), (std::set<std::string>{"wi-1", "wi-4"}));
  EXPECT_EQ(listed("?state=offered", alice), (std::set<std::string>{"wi-1"}));
  EXPECT_EQ(listed("?state=accepted", alice), (std::set<std::string>{"wi-4"}));
}

TEST_F(AgentScopeTest, NoItemOfAnotherAgentNorAQueuedOne) {
  auto alice = token("alice");
  for (std::string id : {"wi-2", "wi-9", "wi-3"}) {
    auto reply = get("/v1/work-items/" + id, alice);
    EXPECT_EQ(reply.status, 403) << id;
    EXPECT_THAT(reply.body, ::testing::Not(::testing::HasSubstr("Where is my order?"))) << id;
  }
  EXPECT_EQ(get("/v1/work-items?agent=bob", alice).status, 403);
  EXPECT_EQ(listed("?state=queued", alice), std::set<std::string>{});
}

TEST_F(AgentScopeTest, NoItemTheAgentNoLongerHoldsThoughItStillBearsItsName) {
  auto alice = token("alice");
  for (std::string id : {"wi-5", "wi-6", "wi-7", "wi-8"}) {
    EXPECT_EQ(get("/v1/work-items/" + id, alice).status, 403) << id;
  }
  EXPECT_EQ(listed("?state=completed", alice), std::set<std::string>{});
  EXPECT_EQ(listed("?state=declined", alice), std::set<std::string>{});
}

TEST_F(AgentScopeTest, AnIntegratorStillReadsEveryItem) {
  for (std::string id : {"wi-2", "wi-3", "wi-5", "wi-6"}) {
    EXPECT_EQ(get("/v1/work-items/" + id).status, 200) << id;
  }
  EXPECT_EQ(listed("", "Bearer " + std::string(kIntegratorKey)).size(), 9u);
}

} // namespace
} // namespace switchboard::testing
