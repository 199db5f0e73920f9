// The ODBC connector against a real PostgreSQL through psqlODBC, with the sample CRM
// (samples/crm/postgresql.sql, samples/crm/odbc-postgresql.xml): enrichment, and an outage of the
// CRM database in the middle of a run.

#include "connectors/odbc/odbc_connector.h"

#include "switchboard/communication_server.h"
#include "switchboard/config.h"
#include "tests/support/memory_store.h"
#include "tests/support/postgres_server.h"
#include "tests/unit/odbc/odbc_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <thread>

namespace switchboard::odbc {
namespace {

using namespace std::chrono_literals;

// Runs SQL through libpq (not through the connector); returns the first column of every row.
std::vector<std::string> sql(const std::string& connection, const std::string& text) {
  PGconn* db = PQconnectdb(connection.c_str());
  if (PQstatus(db) != CONNECTION_OK) {
    std::string error = PQerrorMessage(db);
    PQfinish(db);
    throw std::runtime_error("libpq: " + error);
  }
  PGresult* result = PQexec(db, text.c_str());
  std::vector<std::string> out;
  auto status = PQresultStatus(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string error = PQerrorMessage(db);
    PQclear(result);
    PQfinish(db);
    throw std::runtime_error("libpq: " + error);
  }
  for (int row = 0; row < PQntuples(result); ++row) {
    out.emplace_back(PQgetvalue(result, row, 0));
  }
  PQclear(result);
  PQfinish(db);
  return out;
}

template <class Condition>
bool eventually(Condition condition, std::chrono::seconds limit = 60s) {
  for (auto deadline = std::chrono::steady_clock::now() + limit;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    if (condition()) {
      return true;
    }
  }
  return condition();
}

std::string attribute(const WorkItem& item, const std::string& name) {
  for (const Attribute& attribute : item.attributes) {
    if (attribute.name == name) {
      return attribute.value;
    }
  }
  return "(none)";
}

class OdbcPostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static testing::TempFolder drivers;
    testing::usePrivateOdbcDrivers(drivers.path());
  }

  OdbcPostgresTest() {
    pg_.createDatabase("crm");
    sql(pg_.connectionString("crm"),
        testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/postgresql.sql"));
    ::setenv("SB_CRM_ODBC",
             ("Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=" + std::to_string(pg_.port()) +
              ";Database=crm;Uid=postgres")
                 .c_str(),
             1);
    std::string document = testing::configWithConnector(testing::readFile(
        std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/odbc-postgresql.xml"));
    Config config = loadConfigFromString(document, folder_.path() / "switchboard.xml");
    CoreOptions core;
    core.serverId = "sb-test";
    core.engine = config.engine;
    core.queues = config.queues;
    core.rules = config.rules;
    server_ = std::make_unique<CommunicationServer>(core, store_);
    connector_ = std::make_unique<OdbcConnector>(readOdbcOptions(config.connectors.at(0)));
    server_->setEnricher(connector_.get());
    server_->addEndObserver(*connector_);
    server_->start();
    connector_->start(*server_, store_);
  }

  ~OdbcPostgresTest() override {
    connector_->stop();
    server_->stop();
  }

  // One contact handled start to end: arrives, is offered, accepted and completed. Returns the
  // stored item as it arrived (with what the CRM added).
  StoredWorkItem handle(const std::string& address) {
    WorkItem item;
    item.medium = "email";
    item.subject = "Question";
    Customer customer;
    customer.addresses.push_back({"email", address, std::nullopt});
    item.customer = customer;
    auto created = server_->createWorkItem(item, "api");
    EXPECT_TRUE(created.ok());
    StoredWorkItem stored = server_->workItem(created->workItemId)->stored;
    EXPECT_EQ(stored.item.state, WorkItemState::Offered) << stored.item.id.value_or("?");
    if (stored.item.agentId) {
      EXPECT_TRUE(server_->accept(*stored.item.id, *stored.item.agentId).ok());
      CompleteRequest complete;
      complete.workItemId = *stored.item.id;
      complete.agentId = stored.item.agentId;
      complete.disposition = "answered";
      EXPECT_TRUE(server_->complete(complete).ok());
    }
    return stored;
  }

  testing::PostgresServer pg_;
  testing::TempFolder folder_;
  testing::MemoryStore store_;
  std::unique_ptr<CommunicationServer> server_;
  std::unique_ptr<OdbcConnector> connector_;
};

TEST_F(OdbcPostgresTest, ACustomerIsLookedUpThroughPsqlOdbc) {
  ASSERT_TRUE(server_->setAgentState("a-bruno", AgentState::Ready, std::nullopt).ok());
  ASSERT_TRUE(server_->setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());
  StoredWorkItem item = handle("joana.ferreira@example.com");
  ASSERT_TRUE(item.item.customer.has_value());
  EXPECT_EQ(item.item.customer->ref, "c-1001");
  EXPECT_EQ(item.item.customer->tier, "gold");
  EXPECT_EQ(attribute(item.item, "crmEnriched"), "true");
  EXPECT_EQ(attribute(item.item, "openCases"), "1");
  EXPECT_EQ(item.item.queueId, "vip");
  EXPECT_EQ(item.item.agentId, "a-ana"); // her previous agent, though Bruno waited longer
  // Text beyond ASCII comes back as the database holds it (UTF-8).
  StoredWorkItem joao = handle("joao.pereira@example.pt");
  ASSERT_TRUE(joao.item.customer.has_value());
  EXPECT_EQ(joao.item.customer->name, "Jo\xc3\xa3o Pereira");
  ASSERT_TRUE(eventually([&] { return connector_->stats().outboxDepth == 0; }));
  EXPECT_EQ(
      sql(pg_.connectionString("crm"),
          "SELECT contact_id || '|' || agent_id || '|' || disposition FROM activities ORDER BY id"),
      (std::vector<std::string>{"c-1001|a-ana|answered", "c-1003|a-bruno|answered"}));
}

TEST_F(OdbcPostgresTest, ALookupStuckOnALockIsCancelledAtLookupTimeout) {
  ASSERT_TRUE(server_->setAgentState("a-bruno", AgentState::Ready, std::nullopt).ok());
  auto arrive = [&](const std::string& address) {
    WorkItem item;
    item.medium = "email";
    Customer customer;
    customer.addresses.push_back({"email", address, std::nullopt});
    item.customer = customer;
    auto created = server_->createWorkItem(item, "api");
    EXPECT_TRUE(created.ok());
    return server_->workItem(created->workItemId)->stored;
  };
  // The first lookup leaves a connection open and idle: the next runs on the arriving thread.
  ASSERT_EQ(attribute(arrive("joana.ferreira@example.com").item, "crmEnriched"), "true");
  PGconn* locker = PQconnectdb(pg_.connectionString("crm").c_str());
  ASSERT_EQ(PQstatus(locker), CONNECTION_OK);
  PQclear(PQexec(locker, "BEGIN; LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE"));
  StoredWorkItem slow = arrive("mark.davies@example.co.uk");
  PQclear(PQexec(locker, "ROLLBACK"));
  PQfinish(locker);
  EXPECT_EQ(attribute(slow.item, "crmEnriched"), "false");
  EXPECT_NE(slow.item.state, WorkItemState::New);
  bool explained = false;
  for (const HistoryEntry& step : slow.item.history) {
    explained = explained || step.cause.find("no answer within") != std::string::npos;
  }
  EXPECT_TRUE(explained);
  // psqlODBC stopped the statement (PostgreSQL's cancel request): lookups stay on the thread.
  EXPECT_TRUE(connector_->stats().lookupsOnArrivingThread);
  EXPECT_TRUE(eventually([&] {
    return attribute(arrive("joana.ferreira@example.com").item, "crmEnriched") == "true";
  }));
}

TEST_F(OdbcPostgresTest, ActivitiesOutliveATenSecondOutageInOrderAndRoutingNeverStops) {
  for (const char* agent : {"a-ana", "a-bruno", "a-carla", "a-duarte", "a-elena", "a-filipe"}) {
    ASSERT_TRUE(server_->setAgentState(agent, AgentState::Ready, std::nullopt).ok());
  }
  const std::vector<std::string> addresses{"joana.ferreira@example.com",
                                           "mark.davies@example.co.uk", "joao.pereira@example.pt",
                                           "lucia.martin@example.es", "someone.new@example.org"};
  std::vector<std::string> ended;
  std::size_t next = 0;
  auto one = [&] {
    StoredWorkItem item = handle(addresses[next++ % addresses.size()]);
    ended.push_back(*item.item.id);
    return item;
  };

  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(attribute(one().item, "crmEnriched"), "true");
  }
  pg_.stop();
  std::size_t duringOutage = 0;
  std::size_t unenriched = 0;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms)) {
    StoredWorkItem item = one(); // routed, offered, accepted and completed with the CRM away
    ++duringOutage;
    if (attribute(item.item, "crmEnriched") == "false") {
      ++unenriched;
    }
  }
  EXPECT_GT(duringOutage, 0u);
  EXPECT_EQ(unenriched, duringOutage);
  EXPECT_GT(connector_->stats().outboxDepth, 0u);
  pg_.start();
  for (int i = 0; i < 20; ++i) {
    one();
  }
  ASSERT_TRUE(eventually([&] { return connector_->stats().outboxDepth == 0; }, 120s))
      << connector_->stats().outboxDepth << " activities still queued";
  EXPECT_EQ(sql(pg_.connectionString("crm"), "SELECT work_item_id FROM activities ORDER BY id"),
            ended);
  // Once the database is back, lookups answer again.
  EXPECT_TRUE(eventually([&] {
    WorkItem probe = {};
    probe.medium = "email";
    probe.customer = Customer{};
    probe.customer->addresses.push_back({"email", "joana.ferreira@example.com", std::nullopt});
    probe.id = "wi-probe";
    connector_->enrich(probe);
    return attribute(probe, "crmEnriched") == "true";
  }));
}

} // namespace
} // namespace switchboard::odbc
