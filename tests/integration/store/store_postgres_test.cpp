// The store on a real PostgreSQL, started by the test on loopback: the shared behaviour suite, and
// what only a server can do to a client (go away, and come back).

#include "tests/unit/store/store_fixture.h"

#include <gmock/gmock.h>

#include <mutex>
#include <set>
#include <thread>

namespace switchboard::testing {
namespace {

using ::testing::HasSubstr;

INSTANTIATE_TEST_SUITE_P(Postgresql, StoreTest, ::testing::Values(Backend::Postgresql),
                         backendName);

TEST(PostgresqlStore, WritesFailWhileTheServerIsDownAndResumeWhenItIsBack) {
  TempDir dir;
  StoreOptions options = freshStoreOptions(Backend::Postgresql, dir);
  auto store = openStore(options);
  std::string first = store->commitArrival(email("<before>")).workItemId;

  postgres().stop();
  bool restarted = false;
  try {
    EXPECT_THROW(store->commitArrival(email("<while-down>")), StoreError);
    StoredAgent anna;
    anna.agent.id = "anna";
    EXPECT_THROW(store->saveAgent(anna).get(), StoreError);
    postgres().start();
    restarted = true;
  } catch (...) {
    if (!restarted) {
      postgres().start();
    }
    throw;
  }

  // The first write after the restart may meet the dead connection; the store reconnects.
  std::string after;
  for (int attempt = 0; attempt < 3 && after.empty(); ++attempt) {
    try {
      after = store->commitArrival(email("<after>")).workItemId;
    } catch (const StoreError&) {
    }
  }
  ASSERT_FALSE(after.empty()) << "the store did not reconnect";
  EXPECT_NE(after, first);
  EXPECT_TRUE(store->workItem(first, false).has_value());
  EXPECT_FALSE(store->commitArrival(email("<after-2>")).duplicate);
  WorkItemFilter all;
  auto items = store->workItems(all);
  EXPECT_EQ(items.size(), 3u) << "nothing of the failed writes was stored";
}

TEST(PostgresqlStore, TwoStoresOnOneDatabaseNeverHandOutTheSameId) {
  TempDir dir;
  StoreOptions options = freshStoreOptions(Backend::Postgresql, dir);
  auto nodeA = openStore(options);
  auto nodeB = openStore(options);
  std::vector<std::string> ids;
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Store& node = t % 2 ? *nodeA : *nodeB;
      for (int i = 0; i < 25; ++i) {
        int key = t < 2 ? i : 1000 + t * 100 + i; // nodes A and B share threads 0 and 1's keys
        auto outcome = node.commitArrival(email("<" + std::to_string(key) + ">"));
        std::lock_guard lock(mutex);
        ids.push_back(outcome.workItemId);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::set<std::string> distinct(ids.begin(), ids.end());
  WorkItemFilter all;
  all.limit = 1000;
  EXPECT_EQ(nodeA->workItems(all).size(), distinct.size());
  EXPECT_EQ(distinct.size(), 75u) << "threads 0 and 1 share keys: 25 + 25 + 25 items";
}

} // namespace
} // namespace switchboard::testing
