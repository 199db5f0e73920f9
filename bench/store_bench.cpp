// Durable work-item creation with group commit, beside the reference: a bare SQLite batched
// insert of the same rows (sqlite3 C API, 1,000 rows per transaction, WAL, synchronous=FULL) on
// the same disk in the same run, and beside one row per commit (what durability costs without
// grouping). Writers call Store::commitArrival with realistic 1.5 KB email items and each waits
// until its item is durable, as a driver does before it acknowledges.
// Prints items per second, the ratio to the reference, commits per second and the average batch.
// Target (issue 4): at least 20,000 durable items/s.

#include "switchboard/message_codec.h"
#include "switchboard/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using switchboard::NewWorkItem;

constexpr int kRepetitions = 3;
constexpr int kReferenceRows = 50'000;
constexpr int kReferenceBatch = 1'000;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/switchboard-store-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A customer's email as the Maildir driver hands it in.
NewWorkItem email(int number) {
  NewWorkItem arrival;
  arrival.source = "mail";
  arrival.receivedAt =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  switchboard::WorkItem& item = arrival.item;
  item.medium = "email";
  item.sourceKey = "<" + std::to_string(number) + ".4711@mail.example.com>";
  item.subject = "Re: Invoice 2026-4711 shows the wrong amount";
  switchboard::Customer customer;
  customer.ref = "C-100" + std::to_string(number % 997);
  customer.name = "Erika Mustermann";
  customer.language = "de";
  customer.addresses.push_back({"email", "erika.mustermann@example.com", "Erika Mustermann"});
  item.customer = customer;
  item.contactPoint = switchboard::Address{"email", "service@example.com", std::nullopt};
  std::string text;
  while (text.size() < 900) {
    text += "Dear team, the invoice I received this morning shows an amount that does not "
            "match my order. ";
  }
  item.body = switchboard::Body{"text/plain", text};
  item.attributes = {{"language", "de"}, {"topic", "billing"}, {"mailbox", "service"}};
  return arrival;
}

struct Result {
  double itemsPerSecond = 0;
  double commitsPerSecond = 0;
  double averageBatch = 0;
};

Result groupCommit(int threads, int perThread) {
  TempDir dir;
  switchboard::StoreOptions options;
  options.location = (dir.path() / "store.db").string();
  auto store = switchboard::openStore(options);
  std::vector<std::vector<NewWorkItem>> items(threads);
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < perThread; ++i) {
      items[t].push_back(email(t * perThread + i));
    }
  }
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      ++ready;
      while (!go) {
        std::this_thread::yield();
      }
      for (const NewWorkItem& item : items[t]) {
        store->commitArrival(item);
      }
    });
  }
  while (ready < threads) {
    std::this_thread::yield();
  }
  auto start = Clock::now();
  go = true;
  for (auto& writer : writers) {
    writer.join();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  switchboard::StoreStats stats = store->stats();
  return Result{threads * perThread / seconds, stats.transactions / seconds,
                static_cast<double>(stats.writes) / std::max<std::uint64_t>(stats.transactions, 1)};
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

// The same rows the store writes for an arrival, straight into one table.
Result bareSqlite(const std::string& record, int rows, int rowsPerCommit) {
  TempDir dir;
  std::string file = (dir.path() / "bare.db").string();
  sqlite3* db = nullptr;
  check(sqlite3_open(file.c_str(), &db), db, "open");
  check(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", nullptr, nullptr,
                     nullptr),
        db, "pragmas");
  check(sqlite3_exec(db,
                     "CREATE TABLE items (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, "
                     "source TEXT NOT NULL, source_key TEXT, medium TEXT NOT NULL, "
                     "state TEXT NOT NULL, priority INTEGER NOT NULL, customer_ref TEXT, "
                     "created_ms INTEGER NOT NULL, record TEXT NOT NULL)",
                     nullptr, nullptr, nullptr),
        db, "create");
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO items VALUES (?, ?, 'mail', ?, 'email', 'new', 50, "
                           "'C-1001', ?, ?)",
                           -1, &insert, nullptr),
        db, "prepare");
  auto start = Clock::now();
  int commits = 0;
  for (int row = 1; row <= rows;) {
    check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
    for (int i = 0; i < rowsPerCommit; ++i, ++row) {
      std::string id = "wi-" + std::to_string(row);
      std::string key = "<" + std::to_string(row) + ".4711@mail.example.com>";
      sqlite3_bind_int64(insert, 1, row);
      sqlite3_bind_text(insert, 2, id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 3, key.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(insert, 4, 1'772'442'000'000LL + row);
      sqlite3_bind_text(insert, 5, record.data(), static_cast<int>(record.size()), SQLITE_STATIC);
      check(sqlite3_step(insert), db, "insert");
      sqlite3_reset(insert);
    }
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    ++commits;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return Result{rows / seconds, commits / seconds, static_cast<double>(rowsPerCommit)};
}

Result median(std::vector<Result> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Result& a, const Result& b) { return a.itemsPerSecond < b.itemsPerSecond; });
  return runs[runs.size() / 2];
}

} // namespace

int main() {
  switchboard::MessageCodec codec;
  switchboard::Message message;
  message.workItems.push_back(email(1).item);
  std::string record = codec.encode(message);
  std::printf("stored record: %zu bytes; %d runs each, medians\n\n", record.size(), kRepetitions);

  std::vector<Result> reference;
  std::vector<Result> single;
  std::vector<Result> eight;
  std::vector<Result> many;
  for (int run = 0; run < kRepetitions; ++run) {
    reference.push_back(bareSqlite(record, kReferenceRows, kReferenceBatch));
    single.push_back(bareSqlite(record, 1'000, 1));
    eight.push_back(groupCommit(8, 2'500));
    many.push_back(groupCommit(64, 500));
  }
  Result bare = median(reference);
  Result bareSingle = median(single);
  Result with8 = median(eight);
  Result with64 = median(many);

  std::printf("%-52s %10.0f items/s  %8.0f commits/s  %6.1f items/commit\n",
              "reference: bare SQLite insert, 1,000 rows/commit", bare.itemsPerSecond,
              bare.commitsPerSecond, bare.averageBatch);
  std::printf("%-52s %10.0f items/s  %8.0f commits/s  %6.1f items/commit\n",
              "bare SQLite insert, 1 row/commit (no grouping)", bareSingle.itemsPerSecond,
              bareSingle.commitsPerSecond, bareSingle.averageBatch);
  std::printf("%-52s %10.0f items/s  %8.0f commits/s  %6.1f items/commit\n",
              "store: commitArrival, 8 writer threads", with8.itemsPerSecond,
              with8.commitsPerSecond, with8.averageBatch);
  std::printf("%-52s %10.0f items/s  %8.0f commits/s  %6.1f items/commit\n",
              "store: commitArrival, 64 writer threads", with64.itemsPerSecond,
              with64.commitsPerSecond, with64.averageBatch);
  std::printf("\nratio store/reference: %.2f (8 threads), %.2f (64 threads)\n",
              with8.itemsPerSecond / bare.itemsPerSecond,
              with64.itemsPerSecond / bare.itemsPerSecond);
  std::printf("group commit gain over one fsync per item: %.1fx (8 threads), %.1fx (64 threads)\n",
              with8.itemsPerSecond / bareSingle.itemsPerSecond,
              with64.itemsPerSecond / bareSingle.itemsPerSecond);
  std::printf("target >= 20,000 durable items/s: %s (8 threads), %s (64 threads)\n",
              with8.itemsPerSecond >= 20'000 ? "met" : "NOT met",
              with64.itemsPerSecond >= 20'000 ? "met" : "NOT met");
  return 0;
}
