// The store on SQLite: the shared behaviour suite, the connection's durability settings, and the
// crash test that proves "persist before acknowledge".

#include "tests/unit/store/store_fixture.h"

#include "sql_connection.h"
#include "switchboard/message_codec.h"

#include <gmock/gmock.h>

#include <Poco/Data/Session.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace switchboard::testing {
namespace {

using namespace Poco::Data::Keywords;
using ::testing::HasSubstr;
using ::testing::Not;

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreTest, ::testing::Values(Backend::Sqlite), backendName);

TEST(SqliteStore, WritesInWalModeAndSyncsEveryCommit) {
  TempDir dir;
  StoreOptions options = freshStoreOptions(Backend::Sqlite, dir);
  store::SqlConnection connection(options, store::SqlConnection::Role::Writer);
  std::string mode;
  int synchronous = 0;
  int timeout = 0;
  connection.session() << "PRAGMA journal_mode", into(mode), now;
  connection.session() << "PRAGMA synchronous", into(synchronous), now;
  connection.session() << "PRAGMA busy_timeout", into(timeout), now;
  EXPECT_EQ(mode, "wal");
  EXPECT_EQ(synchronous, 2) << "FULL";
  EXPECT_GT(timeout, 0);
}

// A work item's record column holds its workItem element without the message envelope; rows
// that earlier versions wrote as whole message documents still read.
TEST(SqliteStore, AWorkItemRecordIsItsElementAndWholeDocumentsStillRead) {
  TempDir dir;
  StoreOptions options = freshStoreOptions(Backend::Sqlite, dir);
  std::string id;
  {
    auto store = openStore(options);
    id = store->commitArrival(email("<a@x>")).workItemId;
  }
  store::SqlConnection connection(options, store::SqlConnection::Role::Writer);
  std::string record;
  connection.session() << "SELECT record FROM work_items WHERE id = ?", use(id), into(record), now;
  EXPECT_THAT(record, ::testing::StartsWith("<workItem"));
  EXPECT_THAT(record, ::testing::EndsWith("</workItem>"));
  EXPECT_THAT(record, Not(HasSubstr("<message")));
  EXPECT_THAT(record, HasSubstr("Invoice 4711: wrong amount"));

  // The same item as an earlier version stored it: the whole answer to getWorkItem.
  Message whole;
  whole.id = "record";
  whole.sender = Party{PartyType::Server, "store"};
  whole.addressee = Party{PartyType::Server, "store"};
  whole.payload = Response{std::string(GetWorkItem::kKind), ResponseStatus::Ok, std::nullopt};
  WorkItem old = email("<a@x>").item;
  old.sourceKey.reset();
  old.subject = "Stored whole";
  whole.workItems.push_back(old);
  std::string document = MessageCodec().encode(whole);
  ASSERT_THAT(document, ::testing::StartsWith("<?xml"));
  connection.session() << "UPDATE work_items SET record = ? WHERE id = ?", use(document), use(id),
      now;

  auto store = openStore(options);
  std::optional<StoredWorkItem> read = store->workItem(id, false);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->item.subject, std::optional<std::string>("Stored whole"));
  ASSERT_TRUE(read->item.customer.has_value());
  EXPECT_EQ(read->item.customer->name, std::optional<std::string>("Erika Mustermann"));
  EXPECT_EQ(read->item.body->text, std::string(1000, 'x'));
}

TEST(SqliteStore, AnUnopenableLocationIsAStoreErrorNamingIt) {
  StoreOptions options;
  options.location = "/proc/no-such-place/store.db";
  try {
    openStore(options);
    FAIL() << "opened";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/proc/no-such-place/store.db"));
  }
}

TEST(SqlConnection, PasswordsNeverReachMessages) {
  EXPECT_EQ(store::redactLocation("host=db port=5432 password=secret dbname=sb"),
            "host=db port=5432 password=*** dbname=sb");
  EXPECT_EQ(store::redactLocation("host=db password='se cret' user=x"),
            "host=db password=*** user=x");
  EXPECT_EQ(store::redactLocation("postgresql://sb:secret@db/sb"), "postgresql://sb:***@db/sb");
  StoreOptions options;
  options.kind = StoreOptions::Kind::Postgresql;
  options.location = "host=127.0.0.1 port=1 dbname=none user=sb password=hunter2 connect_timeout=2";
  try {
    openStore(options);
    FAIL() << "connected to port 1";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
    EXPECT_THAT(e.what(), HasSubstr("port=1"));
  }
}

TEST(SqlConnection, TextBecomesValidUtf8) {
  EXPECT_EQ(store::validUtf8("plain ASCII"), "plain ASCII");
  EXPECT_EQ(store::validUtf8("Gr\xC3\xBC\xC3\x9F"
                             "e \xF0\x9F\x93\xA7"),
            "Gr\xC3\xBC\xC3\x9F"
            "e \xF0\x9F\x93\xA7");
  EXPECT_EQ(store::validUtf8(std::string("a\0b", 3)), "a\xEF\xBF\xBD"
                                                      "b");
  EXPECT_EQ(store::validUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "overlong";
  EXPECT_EQ(store::validUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")
      << "surrogate";
  EXPECT_EQ(store::validUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD") << "cut short";
}

// ---------------------------------------------------------------------------------- crash test

// The child: commits arrivals from several threads for ever and reports each acknowledged one
// as "key id\n" on `fd`. Keys start below where the last round's started, so each round
// re-submits keys that may or may not have been committed before the last kill, the way a
// mailbox re-delivers mail that was never deleted.
[[noreturn]] void commitUntilKilled(const StoreOptions& options, int fd, int firstKey) {
  try {
    auto store = openStore(options);
    std::atomic<int> next{firstKey};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (;;) {
          std::string key = "<" + std::to_string(next++) + "@crash>";
          ArrivalOutcome outcome = store->commitArrival(email(key));
          std::string line = key + " " + outcome.workItemId + "\n";
          if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            ::_exit(3);
          }
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
  } catch (...) {
    ::_exit(2);
  }
  ::_exit(1);
}

TEST(SqliteStoreCrash, EveryAcknowledgedArrivalSurvivesKillDashNine) {
  TempDir dir;
  StoreOptions options = freshStoreOptions(Backend::Sqlite, dir);
  openStore(options); // create and migrate before the first child, so it starts committing at once
  std::mt19937 random(std::random_device{}());
  std::map<std::string, std::string> acknowledged; // key -> id
  int firstKey = 0;
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    int pipeFds[2];
    ASSERT_EQ(::pipe(pipeFds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipeFds[0]);
      commitUntilKilled(options, pipeFds[1], firstKey);
    }
    ::close(pipeFds[1]);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(80, 400)(random)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped on its own, status " << status;

    std::string reported;
    char buffer[65536];
    for (ssize_t n; (n = ::read(pipeFds[0], buffer, sizeof buffer)) > 0;) {
      reported.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipeFds[0]);
    int lines = 0;
    int highest = firstKey;
    for (std::size_t start = 0, end; (end = reported.find('\n', start)) != std::string::npos;
         start = end + 1) {
      std::string line = reported.substr(start, end - start);
      std::string key = line.substr(0, line.find(' '));
      std::string id = line.substr(line.find(' ') + 1);
      auto [it, inserted] = acknowledged.emplace(key, id);
      EXPECT_EQ(it->second, id) << "key " << key << " was acknowledged with two ids";
      highest = std::max(highest, std::stoi(key.substr(1)));
      ++lines;
    }
    ASSERT_GT(lines, 0) << "round " << round << ": the child acknowledged nothing";
    firstKey = std::max(0, highest - 50);

    auto store = openStore(options);
    WorkItemFilter all;
    all.limit = 1'000'000;
    std::map<std::string, std::string> stored; // key -> id
    for (const StoredWorkItem& item : store->workItems(all)) {
      auto [it, inserted] = stored.emplace(item.item.sourceKey.value_or(""), *item.item.id);
      EXPECT_TRUE(inserted) << "two items for key " << it->first;
    }
    for (const auto& [key, id] : acknowledged) {
      auto found = stored.find(key);
      ASSERT_NE(found, stored.end()) << "acknowledged " << key << " (" << id << ") was lost";
      EXPECT_EQ(found->second, id) << key;
    }
  }
}

} // namespace
} // namespace switchboard::testing
