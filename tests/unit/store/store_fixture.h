#pragma once

// What the store tests share: a fresh database per test (a SQLite file in a temporary folder, or
// a new database on the process's private PostgreSQL server) and short ways to build items.

#include "switchboard/store.h"
#include "tests/support/postgres_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

namespace switchboard::testing {

enum class Backend { Sqlite, Postgresql };

inline std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::Sqlite ? "Sqlite" : "Postgresql";
}

/// A folder removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/switchboard-store-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The PostgreSQL server of this test process, started on first use and stopped at exit.
inline PostgresServer& postgres() {
  static PostgresServer server;
  return server;
}

/// Options for a store no other test uses.
inline StoreOptions freshStoreOptions(Backend backend, const TempDir& dir) {
  StoreOptions options;
  if (backend == Backend::Sqlite) {
    options.kind = StoreOptions::Kind::Sqlite;
    options.location = (dir.path() / "data" / "store.db").string();
  } else {
    static std::atomic<int> counter{0};
    std::string name = "store_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    postgres().createDatabase(name);
    options.kind = StoreOptions::Kind::Postgresql;
    options.location = postgres().connectionString(name);
  }
  return options;
}

/// 2026-03-02T09:00:00Z plus `seconds`.
inline Timestamp at(int seconds) {
  return Timestamp(std::chrono::milliseconds(1'772'442'000'000LL + seconds * 1000LL));
}

/// An email as a driver hands it in: about 1.5 KB once stored.
inline NewWorkItem email(const std::string& key, Timestamp received = at(0)) {
  NewWorkItem arrival;
  arrival.source = "mail";
  arrival.receivedAt = received;
  WorkItem& item = arrival.item;
  item.medium = "email";
  item.sourceKey = key;
  item.subject = "Invoice 4711: wrong amount";
  Customer customer;
  customer.ref = "C-1001";
  customer.name = "Erika Mustermann";
  customer.language = "de";
  customer.addresses.push_back(Address{"email", "erika@example.com", "Erika Mustermann"});
  item.customer = customer;
  item.contactPoint = Address{"email", "service@example.com", std::nullopt};
  item.body = Body{"text/plain", std::string(1000, 'x')};
  item.attributes.push_back(Attribute{"language", "de"});
  item.attributes.push_back(Attribute{"topic", "billing"});
  return arrival;
}

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { options_ = freshStoreOptions(GetParam(), dir_); }

  std::unique_ptr<Store> open() { return openStore(options_); }

  TempDir dir_;
  StoreOptions options_;
};

} // namespace switchboard::testing
