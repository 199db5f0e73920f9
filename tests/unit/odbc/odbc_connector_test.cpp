// The ODBC connector against the real SQLite3 ODBC driver and the sample CRM (samples/crm/), in
// front of a real communication server (with an in-memory store).

#include "connectors/odbc/odbc_connector.h"

#include "switchboard/communication_server.h"
#include "switchboard/config.h"
#include "tests/support/memory_store.h"
#include "tests/unit/odbc/odbc_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace switchboard::odbc {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::sql;

template <class Condition>
bool eventually(Condition condition) {
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    if (condition()) {
      return true;
    }
  }
  return condition();
}

class OdbcConnectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static testing::TempFolder drivers;
    testing::usePrivateOdbcDrivers(drivers.path());
  }

  OdbcConnectorTest() {
    crm_ = folder_.path() / "crm.db";
    sql(crm_, testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/sqlite.sql"));
  }

  ~OdbcConnectorTest() override {
    if (connector_) {
      connector_->stop();
    }
    if (server_) {
      server_->stop();
    }
  }

  // The sample section, with `replace` applied to its text, in a configuration of our own.
  Config config(const std::string& from = "", const std::string& to = "") {
    std::string section =
        testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/odbc-sqlite.xml");
    if (!from.empty()) {
      section.replace(section.find(from), from.size(), to);
    }
    std::string document = testing::configWithConnector(section);
    return loadConfigFromString(document, folder_.path() / "switchboard.xml");
  }

  CommunicationServer& start(const Config& loaded) {
    CoreOptions core;
    core.serverId = "sb-test";
    core.engine = loaded.engine;
    core.queues = loaded.queues;
    core.rules = loaded.rules;
    core.runTimers = false;
    server_ = std::make_unique<CommunicationServer>(core, store_);
    connector_ = std::make_unique<OdbcConnector>(readOdbcOptions(loaded.connectors.at(0)));
    server_->setEnricher(connector_.get());
    server_->addEndObserver(*connector_);
    server_->start();
    connector_->start(*server_, store_);
    return *server_;
  }

  std::string arrive(const std::string& address, const std::string& topic = "") {
    WorkItem item;
    item.medium = "email";
    item.subject = "Hello";
    Customer customer;
    customer.addresses.push_back({"email", address, std::nullopt});
    item.customer = customer;
    if (!topic.empty()) {
      item.attributes.push_back({"topic", topic});
    }
    auto outcome = server_->createWorkItem(item, "api");
    EXPECT_TRUE(outcome.ok());
    return outcome.ok() ? outcome->workItemId : "";
  }

  StoredWorkItem stored(const std::string& id) { return server_->workItem(id)->stored; }

  static Agent zoe() {
    Agent agent;
    agent.id = "a-zoe";
    agent.capacity = {{"email", 5, std::nullopt}};
    return agent;
  }

  static std::string attribute(const WorkItem& item, const std::string& name) {
    for (const Attribute& attribute : item.attributes) {
      if (attribute.name == name) {
        return attribute.value;
      }
    }
    return "(none)";
  }

  testing::TempFolder folder_;
  std::filesystem::path crm_;
  testing::MemoryStore store_;
  std::unique_ptr<CommunicationServer> server_;
  std::unique_ptr<OdbcConnector> connector_;
};

TEST_F(OdbcConnectorTest, TheRosterComesFromTheCrmAtStart) {
  CommunicationServer& server = start(config());
  auto ana = server.agent("a-ana");
  ASSERT_TRUE(ana.ok());
  EXPECT_EQ(ana->name, "Ana Sousa");
  EXPECT_EQ(ana->site, "lisbon");
  EXPECT_THAT(ana->skills, Contains(Skill{"billing", 8}));
  EXPECT_THAT(ana->attributes, Contains(Attribute{"team", "billing-lisbon"}));
  EXPECT_EQ(server.agents().size(), 6u);
}

TEST_F(OdbcConnectorTest, AKnownCustomerIsEnrichedAndOfferedToTheirPreviousAgent) {
  CommunicationServer& server = start(config());
  // Bruno has waited longest; without the CRM's previous agent he would get the item.
  ASSERT_TRUE(server.setAgentState("a-bruno", AgentState::Ready, std::nullopt).ok());
  ASSERT_TRUE(server.setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());

  std::string id = arrive("Joana.Ferreira@example.com");
  StoredWorkItem item = stored(id);
  ASSERT_TRUE(item.item.customer.has_value());
  EXPECT_EQ(item.item.customer->ref, "c-1001");
  EXPECT_EQ(item.item.customer->name, "Joana Ferreira");
  EXPECT_EQ(item.item.customer->tier, "gold");
  EXPECT_EQ(item.item.customer->lastAgentId, "a-ana");
  EXPECT_EQ(attribute(item.item, "crmEnriched"), "true");
  EXPECT_EQ(attribute(item.item, "openCases"), "1");
  EXPECT_EQ(attribute(item.item, "account"), "acc-1001");
  EXPECT_EQ(item.item.queueId, "vip"); // the rule on item.tier, which only the CRM knows
  EXPECT_EQ(item.item.state, WorkItemState::Offered);
  EXPECT_EQ(item.item.agentId, "a-ana");
}

TEST_F(OdbcConnectorTest, LongValuesComeBackWhole) {
  // 800 characters: longer than the cells the connector binds result columns to.
  start(config("a.id AS account",
               "a.id AS account, replace(hex(zeroblob(400)), '00', 'ab') AS note"));
  for (const char* address : {"joana.ferreira@example.com", "mark.davies@example.co.uk"}) {
    StoredWorkItem item = stored(arrive(address));
    EXPECT_EQ(attribute(item.item, "crmEnriched"), "true");
    EXPECT_EQ(attribute(item.item, "note").size(), 800u);
    EXPECT_EQ(attribute(item.item, "note").substr(0, 4), "abab");
    EXPECT_TRUE(item.item.customer->ref.has_value());
  }
}

TEST_F(OdbcConnectorTest, ManyArrivalsAtOnceAreEachEnrichedWithTheirOwnCustomer) {
  // Eight arriving threads, two lookup connections: some lookups run on the arriving thread,
  // the others wait for a worker. The timeout is out of the way: this is about correctness.
  start(config("lookupTimeout=\"1s\"", "lookupTimeout=\"60s\""));
  const std::vector<std::pair<std::string, std::string>> customers{
      {"joana.ferreira@example.com", "c-1001"},
      {"mark.davies@example.co.uk", "c-1002"},
      {"joao.pereira@example.pt", "c-1003"}};
  std::vector<std::thread> arrivals;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    arrivals.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const auto& [address, ref] = customers[static_cast<std::size_t>(t + i) % customers.size()];
        StoredWorkItem item = stored(arrive(address));
        if (attribute(item.item, "crmEnriched") != "true" || !item.item.customer ||
            item.item.customer->ref != ref) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& arrival : arrivals) {
    arrival.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(connector_->stats().lookups, 200u);
  EXPECT_EQ(connector_->stats().lookupFailures, 0u);
}

TEST_F(OdbcConnectorTest, AnUnknownAddressIsAnsweredAndRoutedAsItIs) {
  start(config());
  std::string id = arrive("nobody@example.org");
  StoredWorkItem item = stored(id);
  EXPECT_EQ(attribute(item.item, "crmEnriched"), "true");
  EXPECT_FALSE(item.item.customer->ref.has_value());
  EXPECT_EQ(item.item.queueId, "general");
}

TEST_F(OdbcConnectorTest, WithTheDatabaseAwayItemsAreRoutedUnenrichedAndMarkedSo) {
  CommunicationServer& server =
      start(config("Database=${configDir}/crm.db", "Database=${configDir}/missing/crm.db"));
  ASSERT_TRUE(server.upsertAgent(zoe()).ok());
  ASSERT_TRUE(server.setAgentState("a-zoe", AgentState::Ready, std::nullopt).ok());
  for (int i = 0; i < 3; ++i) {
    std::string id = arrive("joana.ferreira@example.com");
    StoredWorkItem item = stored(id);
    EXPECT_EQ(attribute(item.item, "crmEnriched"), "false");
    EXPECT_EQ(item.item.queueId, "general");
    EXPECT_NE(item.item.state, WorkItemState::New); // routed, not held back
  }
  EXPECT_EQ(connector_->stats().lookupFailures, 3u);
}

TEST_F(OdbcConnectorTest, ASlowDatabaseDoesNotHoldItemsBack) {
  CommunicationServer& server = start(config());
  ASSERT_TRUE(server.setAgentState("a-bruno", AgentState::Ready, std::nullopt).ok());
  // Another client holds the CRM file locked: the lookup waits on it longer than lookupTimeout.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(crm_.c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::string id = arrive("joana.ferreira@example.com");
  StoredWorkItem slow = stored(id);
  EXPECT_EQ(attribute(slow.item, "crmEnriched"), "false");
  EXPECT_NE(slow.item.state, WorkItemState::New);
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  // Once the database answers again, so do lookups (after the connector's backoff).
  EXPECT_TRUE(eventually([&] {
    return attribute(stored(arrive("joana.ferreira@example.com")).item, "crmEnriched") == "true";
  }));
}

TEST_F(OdbcConnectorTest, WhenTheDriverIgnoresCancelLookupsMoveToWorkers) {
  // The SQLite3 ODBC driver does not stop a statement waiting for a lock when it is cancelled;
  // it gives up after its own Timeout (5 s here, lookupTimeout is 1 s).
  CommunicationServer& server = start(config("Timeout=2000", "Timeout=5000"));
  ASSERT_TRUE(server.setAgentState("a-bruno", AgentState::Ready, std::nullopt).ok());
  // A first lookup leaves an open connection idle: the next one runs on the arriving thread.
  ASSERT_EQ(attribute(stored(arrive("joana.ferreira@example.com")).item, "crmEnriched"), "true");
  EXPECT_TRUE(connector_->stats().lookupsOnArrivingThread);
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(crm_.c_str(), &blocker), SQLITE_OK);
  sqlite3_busy_timeout(blocker, 30000);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  StoredWorkItem first = stored(arrive("mark.davies@example.co.uk"));
  EXPECT_EQ(attribute(first.item, "crmEnriched"), "false");
  EXPECT_FALSE(connector_->stats().lookupsOnArrivingThread);
  // The database is still locked: the next arrival waits for a worker at most lookupTimeout.
  auto second =
      std::async(std::launch::async, [&] { return arrive("joana.ferreira@example.com"); });
  const bool answered =
      eventually([&] { return second.wait_for(0s) == std::future_status::ready; });
  const std::string secondId = answered ? second.get() : "";
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  ASSERT_TRUE(answered);
  EXPECT_EQ(attribute(stored(secondId).item, "crmEnriched"), "false");
  EXPECT_NE(stored(secondId).item.state, WorkItemState::New);
  EXPECT_TRUE(eventually([&] {
    return attribute(stored(arrive("joana.ferreira@example.com")).item, "crmEnriched") == "true";
  }));
}

TEST_F(OdbcConnectorTest, AnEndedItemBecomesAnActivityInTheCrm) {
  CommunicationServer& server = start(config());
  ASSERT_TRUE(server.setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());
  std::string id = arrive("joana.ferreira@example.com");
  ASSERT_TRUE(server.accept(id, "a-ana").ok());
  CompleteRequest complete;
  complete.workItemId = id;
  complete.agentId = "a-ana";
  complete.disposition = "resolved";
  complete.notes = "refund issued";
  ASSERT_TRUE(server.complete(complete).ok());
  ASSERT_TRUE(eventually([&] {
    return !sql(crm_, "SELECT work_item_id FROM activities WHERE work_item_id = '" + id + "'")
                .empty();
  }));
  auto row = sql(crm_, "SELECT contact_id || '|' || medium || '|' || state || '|' || agent_id || "
                       "'|' || disposition || '|' || notes || '|' || reference || '|' || "
                       "(accepted_at IS NOT NULL) FROM activities");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0],
            "c-1001|email|completed|a-ana|resolved|refund issued|/v1/work-items/" + id + "|1");
}

TEST_F(OdbcConnectorTest, ActivitiesWaitInTheOutboxUntilTheDatabaseIsBack) {
  // First run: the CRM cannot be reached, so the activity stays queued in the outbox file.
  CommunicationServer& server =
      start(config("Database=${configDir}/crm.db", "Database=${configDir}/missing/crm.db"));
  ASSERT_TRUE(server.upsertAgent(zoe()).ok());
  ASSERT_TRUE(server.setAgentState("a-zoe", AgentState::Ready, std::nullopt).ok());
  std::string id = arrive("joana.ferreira@example.com");
  ASSERT_TRUE(server.accept(id, "a-zoe").ok());
  CompleteRequest complete;
  complete.workItemId = id;
  complete.agentId = "a-zoe";
  complete.disposition = "resolved";
  ASSERT_TRUE(server.complete(complete).ok());
  ASSERT_TRUE(eventually([&] { return connector_->stats().activityFailures > 0; }));
  EXPECT_EQ(connector_->stats().outboxDepth, 1u);
  connector_->stop();
  connector_.reset();

  // Second run, same outbox, the CRM reachable: the queued activity is written.
  connector_ = std::make_unique<OdbcConnector>(readOdbcOptions(config().connectors.at(0)));
  connector_->start(server, store_);
  ASSERT_TRUE(eventually([&] { return connector_->stats().outboxDepth == 0; }));
  EXPECT_EQ(sql(crm_, "SELECT work_item_id FROM activities"), std::vector<std::string>{id});
}

TEST_F(OdbcConnectorTest, AnItemThatEndsWhileTheConnectorIsStoppedIsWrittenOnceWhenItStarts) {
  CommunicationServer& server = start(config());
  ASSERT_TRUE(server.setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());
  auto finish = [&](const std::string& address, const std::string& disposition) {
    std::string id = arrive(address);
    EXPECT_TRUE(server.accept(id, "a-ana").ok());
    CompleteRequest complete;
    complete.workItemId = id;
    complete.agentId = "a-ana";
    complete.disposition = disposition;
    complete.notes = "said: thanks";
    EXPECT_TRUE(server.complete(complete).ok());
    return id;
  };
  auto written = [&] { return sql(crm_, "SELECT work_item_id FROM activities ORDER BY id"); };
  std::string before = finish("joana.ferreira@example.com", "resolved");
  ASSERT_TRUE(eventually([&] { return written().size() == 1; }));

  // The observer is told while the connector is stopped: that copy is gone. The store's log
  // still shows the end, and the connector reads it when it starts again.
  connector_->stop();
  std::string missed = finish("mark.davies@example.co.uk", "callback");
  connector_->start(server, store_);
  ASSERT_TRUE(eventually([&] { return written().size() == 2; })) << written().size();
  EXPECT_EQ(written(), (std::vector<std::string>{before, missed}));
  EXPECT_EQ(sql(crm_, "SELECT disposition || '|' || notes || '|' || agent_id FROM activities "
                      "WHERE work_item_id = '" +
                          missed + "'"),
            std::vector<std::string>{"callback|said: thanks|a-ana"});

  // Another restart and another item: nothing is queued twice.
  connector_->stop();
  connector_->start(server, store_);
  std::string after = finish("joao.pereira@example.pt", "resolved");
  ASSERT_TRUE(eventually([&] { return written().size() >= 3; }));
  EXPECT_EQ(written(), (std::vector<std::string>{before, missed, after}));
  EXPECT_EQ(connector_->stats().outboxDepth, 0u);
}

TEST_F(OdbcConnectorTest, ARosterChangeInTheCrmReachesItemsStillWaiting) {
  CommunicationServer& server = start(config());
  ASSERT_TRUE(server.setAgentState("a-bruno", AgentState::Ready, std::nullopt).ok());
  std::string id = arrive("mark.davies@example.co.uk", "french");
  EXPECT_EQ(stored(id).item.state, WorkItemState::Queued); // nobody speaks French yet

  sql(crm_, "INSERT INTO agent_skills VALUES ('a-bruno', 'french', 6);"
            "INSERT INTO agents VALUES ('a-gil', 'Gil Matos', 'porto', 1, 'email:5', 'new');");
  EXPECT_EQ(connector_->syncRoster(), 2u); // Bruno changed, Gil is new; the rest are as they were
  EXPECT_EQ(stored(id).item.state, WorkItemState::Offered);
  EXPECT_EQ(stored(id).item.agentId, "a-bruno");
  EXPECT_TRUE(server.agent("a-gil").ok());
}

TEST_F(OdbcConnectorTest, AnUnknownPlaceholderStopsTheLoadWithItsPlace) {
  try {
    readOdbcOptions(config("lower(:address)", "lower(:adress)").connectors.at(0));
    FAIL() << "accepted :adress";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("switchboard.xml:"));
    EXPECT_THAT(e.what(), HasSubstr("lookup: unknown placeholder ':adress'"));
  }
}

} // namespace
} // namespace switchboard::odbc
