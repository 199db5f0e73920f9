// The real `switchboard serve` with the ODBC connector on the sample CRM (SQLite3 ODBC driver),
// killed with SIGKILL while activities of ended items exist only in its memory: after the
// restart every activity reaches the CRM exactly once.

#include "tests/support/server_process.h"
#include "tests/unit/odbc/odbc_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace switchboard {
namespace {

using testing::eventually;
using testing::ServerProcess;
using testing::sql;

constexpr const char* kKey = "test-integrator-key-0123456789";

// The sample section, writing into a log table without a unique key: an activity written twice
// would show as two rows, where the sample's own table would hide it.
std::string configuration() {
  std::string section =
      testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/odbc-sqlite.xml");
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = section.find(from);
    if (at == std::string::npos) {
      throw std::runtime_error("the sample section has no " + from);
    }
    section.replace(at, from.size(), to);
  };
  replace("INSERT INTO activities", "INSERT INTO activity_log");
  replace("ON CONFLICT (work_item_id) DO NOTHING", "");
  replace("outbox=\"crm-outbox.db\"", "outbox=\"@DIR@/crm-outbox.db\"");
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-crash"><listener address="127.0.0.1" port="0" threads="2"/></server>
  <store><sqlite path="@DIR@/switchboard.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef" lifetime="1h"/>
  </security>
  <routing defaultQueue="general"/>
  <queues><queue id="general" ordering="longestIdle" offerTimeout="1h"/></queues>
  <connectors>
)" + section +
         R"(
  </connectors>
</switchboard>
)";
}

class OdbcCrashTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static testing::TempFolder drivers;
    testing::usePrivateOdbcDrivers(drivers.path()); // the server inherits ODBCSYSINI
  }

  // Creates an item, lets Ana accept it and completes it with `disposition`.
  std::string handle(const std::string& disposition) {
    auto created = server_.request("POST", "/v1/work-items", kKey,
                                   R"({"medium":"email","subject":"Crash test"})");
    EXPECT_EQ(created.status, 201) << created.body;
    const std::string id = created.json()->getValue<std::string>("id");
    EXPECT_TRUE(eventually([&] {
      return server_.request("GET", "/v1/work-items/" + id, kKey)
                 .json()
                 ->getValue<std::string>("state") == "offered";
    })) << server_.log();
    EXPECT_EQ(server_.request("POST", "/v1/work-items/" + id + "/accept", ana_).status, 200);
    EXPECT_EQ(server_
                  .request("POST", "/v1/work-items/" + id + "/complete", ana_,
                           R"({"disposition":")" + disposition + R"("})")
                  .status,
              200);
    return id;
  }

  void startAndMakeAnaReady() {
    server_.start();
    auto token = server_.request("POST", "/v1/agents/a-ana/tokens", kKey);
    ASSERT_TRUE(token.status == 200 || token.status == 201) << token.body;
    ana_ = token.json()->getValue<std::string>("token");
    ASSERT_EQ(
        server_.request("POST", "/v1/agents/a-ana/state", ana_, R"({"state":"ready"})").status,
        200);
  }

  // Work item id -> how many rows the CRM's log holds for it.
  std::map<std::string, int> logged() {
    std::map<std::string, int> rows;
    for (const std::string& id : sql(crm_, "SELECT work_item_id FROM activity_log")) {
      ++rows[id];
    }
    return rows;
  }

  ServerProcess server_{configuration()};
  std::filesystem::path crm_ = server_.dir() / "crm.db";
  std::string ana_;
};

TEST_F(OdbcCrashTest, ActivitiesOnlyInMemoryAtAKillAreWrittenOnceAfterTheRestart) {
  sql(crm_, testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/sqlite.sql") +
                "CREATE TABLE activity_log AS SELECT * FROM activities WHERE 0;");
  startAndMakeAnaReady();
  std::vector<std::string> ended;
  for (int i = 0; i < 3; ++i) {
    ended.push_back(handle("before-" + std::to_string(i)));
  }
  ASSERT_TRUE(eventually([&] { return logged().size() == 3; })) << server_.log();

  // Another process holds the outbox locked: items that end now stay in the connector's memory.
  const std::filesystem::path outbox = server_.dir() / "crm-outbox.db";
  sqlite3* blocker = nullptr;
  ASSERT_TRUE(eventually([&] {
    return sql(outbox, "SELECT count(*) FROM activities") == std::vector<std::string>{"0"};
  }));
  ASSERT_EQ(sqlite3_open(outbox.c_str(), &blocker), SQLITE_OK);
  sqlite3_busy_timeout(blocker, 30000); // the connector may be saving its position just now
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::vector<std::string> inMemory;
  for (int i = 0; i < 4; ++i) {
    inMemory.push_back(handle("killed-" + std::to_string(i)));
  }
  EXPECT_EQ(server_.kill(SIGKILL), 128 + SIGKILL);
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  // The kill took them: neither the outbox nor the CRM has any of them.
  EXPECT_EQ(sql(outbox, "SELECT count(*) FROM activities"), std::vector<std::string>{"0"});
  EXPECT_EQ(logged().size(), 3u);

  startAndMakeAnaReady();
  ended.insert(ended.end(), inMemory.begin(), inMemory.end());
  ended.push_back(handle("after"));
  ASSERT_TRUE(eventually([&] { return logged().size() == ended.size(); }, std::chrono::seconds(60)))
      << logged().size() << " of " << ended.size() << "\n"
      << server_.log();
  std::map<std::string, int> expected;
  for (const std::string& id : ended) {
    expected[id] = 1;
  }
  EXPECT_EQ(logged(), expected);
  // The activities rebuilt from the store carry the disposition the agent gave.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(sql(crm_, "SELECT disposition FROM activity_log WHERE work_item_id = '" +
                            inMemory[static_cast<std::size_t>(i)] + "'"),
              std::vector<std::string>{"killed-" + std::to_string(i)});
  }

  // One more kill and start: nothing is written twice.
  EXPECT_EQ(server_.kill(SIGKILL), 128 + SIGKILL);
  startAndMakeAnaReady();
  ended.push_back(handle("last"));
  expected[ended.back()] = 1;
  ASSERT_TRUE(eventually([&] { return logged().size() == ended.size(); }, std::chrono::seconds(60)))
      << server_.log();
  EXPECT_EQ(logged(), expected);
}

} // namespace
} // namespace switchboard
