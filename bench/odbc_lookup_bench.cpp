// Customer lookups per second through the ODBC connector (Poco::Data::ODBC, psqlODBC) against
// PostgreSQL, and, in the same run, the same query through libpq directly as the reference; prints
// both and the ratio (target >= 0.7). Starts its own PostgreSQL on loopback with the sample CRM
// (samples/crm/) and 10,000 more contacts. Runs without arguments in well under a minute.
//
//   bench_odbc_lookup [SECONDS_PER_SIDE]     (default 5)

#include "connectors/odbc/odbc_connector.h"

#include "switchboard/config.h"
#include "tests/support/postgres_server.h"
#include "tests/unit/odbc/odbc_test_support.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <iostream>

using namespace switchboard;
using namespace std::chrono;

namespace {

void exec(PGconn* db, const std::string& text) {
  PGresult* result = PQexec(db, text.c_str());
  auto status = PQresultStatus(result);
  PQclear(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    throw std::runtime_error(std::string("libpq: ") + PQerrorMessage(db));
  }
}

std::string address(std::size_t i) {
  return "bench.customer" + std::to_string(i % 10000) + "@example.net";
}

// The connector's statement with libpq's parameter markers ($1, $2 ...) for its '?'.
std::string libpqText(const odbc::SqlTemplate& sql) {
  std::string out;
  int n = 0;
  for (char c : sql.positional()) {
    if (c == '?') {
      out += "$" + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  try {
    testing::TempFolder folder;
    testing::usePrivateOdbcDrivers(folder.path() / "odbc");
    testing::PostgresServer pg;
    pg.createDatabase("crm");
    PGconn* db = PQconnectdb(pg.connectionString("crm").c_str());
    if (PQstatus(db) != CONNECTION_OK) {
      throw std::runtime_error(std::string("libpq: ") + PQerrorMessage(db));
    }
    exec(db,
         testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/postgresql.sql"));
    exec(db, "INSERT INTO contacts (id, account_id, name, email, language)"
             " SELECT 'bench-' || i, 'acc-1002', 'Customer ' || i,"
             " 'bench.customer' || i || '@example.net', 'en' FROM generate_series(0, 9999) i;"
             "CREATE INDEX contacts_email_lower ON contacts (lower(email)); ANALYZE;");

    ::setenv("SB_CRM_ODBC",
             ("Driver=PostgreSQL Unicode;Server=127.0.0.1;Port=" + std::to_string(pg.port()) +
              ";Database=crm;Uid=postgres")
                 .c_str(),
             1);
    std::string section =
        testing::readFile(std::string(SWITCHBOARD_SOURCE_DIR) + "/samples/crm/odbc-postgresql.xml");
    // The lookup alone on both sides: no history statement, no roster.
    section.erase(section.find("<history>"),
                  section.find("</skills>") + 9 - section.find("<history>"));
    std::string document = R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb"><listener port="0"/></server>
  <store><sqlite path="unused.db"/></store>
  <security>
    <apiKey name="crm" secret="bench-secret-0123456789"/>
    <agentTokens secret="bench-token-secret-0123456789abcdef0123"/>
  </security>
  <queues><queue id="general"/></queues>
  <connectors>)" + section +
                           R"(</connectors>
</switchboard>
)";
    Config config = loadConfigFromString(document, folder.path() / "switchboard.xml");
    odbc::OdbcOptions options = odbc::readOdbcOptions(config.connectors.at(0));
    options.lookupTimeout = milliseconds(10000);
    const odbc::SqlTemplate lookupSql = options.lookups.front().sql;

    // The reference: libpq, one connection, the statement prepared once (as the connector does).
    PGresult* prepared = PQprepare(db, "lookup", libpqText(lookupSql).c_str(), 0, nullptr);
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      throw std::runtime_error(std::string("libpq prepare: ") + PQerrorMessage(db));
    }
    PQclear(prepared);
    std::size_t libpqCount = 0;
    std::size_t libpqFound = 0;
    auto start = steady_clock::now();
    const auto budget = duration<double>(seconds);
    while (steady_clock::now() - start < budget) {
      std::string value = address(libpqCount);
      const char* parameters[] = {value.c_str()};
      PGresult* result = PQexecPrepared(db, "lookup", 1, parameters, nullptr, nullptr, 0);
      if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        throw std::runtime_error(std::string("libpq: ") + PQerrorMessage(db));
      }
      libpqFound += PQntuples(result) > 0 ? 1 : 0;
      PQclear(result);
      ++libpqCount;
    }
    double libpqRate = libpqCount / duration<double>(steady_clock::now() - start).count();
    PQfinish(db);

    // The connector: enrich() as the server calls it for each arrival (worker hand-off, pooled
    // connection, prepared statement, result into the work item).
    odbc::OdbcConnector connector(std::move(options));
    std::size_t odbcCount = 0;
    std::size_t odbcFound = 0;
    {
      // enrich() needs a started connector; the Service is only used for roster and activities,
      // which this configuration has not got.
      class Idle final : public Service {
       public:
        std::vector<Agent> agents() override { return {}; }
        ServiceResult<Agent> agent(const std::string&) override { return unsupported<Agent>(); }
        ServiceResult<Agent> upsertAgent(const Agent&) override { return unsupported<Agent>(); }
        ServiceResult<Agent> setAgentState(const std::string&, AgentState,
                                           const std::optional<std::string>&) override {
          return unsupported<Agent>();
        }
        ServiceResult<std::vector<StoredWorkItem>> workItems(const WorkItemFilter&) override {
          return unsupported<std::vector<StoredWorkItem>>();
        }
        ServiceResult<WorkItemDetails> workItem(const std::string&) override {
          return unsupported<WorkItemDetails>();
        }
        ServiceResult<ArrivalOutcome> createWorkItem(const WorkItem&, const std::string&) override {
          return unsupported<ArrivalOutcome>();
        }
        ServiceResult<StoredWorkItem> accept(const std::string&, const std::string&) override {
          return unsupported<StoredWorkItem>();
        }
        ServiceResult<StoredWorkItem> decline(const std::string&, const std::string&,
                                              const std::optional<std::string>&) override {
          return unsupported<StoredWorkItem>();
        }
        ServiceResult<StoredWorkItem> transfer(const TransferRequest&) override {
          return unsupported<StoredWorkItem>();
        }
        ServiceResult<StoredWorkItem> complete(const CompleteRequest&) override {
          return unsupported<StoredWorkItem>();
        }
        ServiceResult<StoredWorkItem> reply(const SendReply&) override {
          return unsupported<StoredWorkItem>();
        }
        std::vector<QueueStatus> queues() override { return {}; }
        ServiceResult<std::string> exchange(std::string_view, const Party&) override {
          return unsupported<std::string>();
        }
        std::vector<DeadLetter> deadLetters(std::size_t) override { return {}; }
        std::optional<StoredResponse> storedResponse(const std::string&) override { return {}; }
        void storeResponse(const StoredResponse&) override {}
        bool ready() override { return true; }

       private:
        template <class T>
        static ServiceResult<T> unsupported() {
          return ServiceError{ServiceErrorCode::Internal, "not in the benchmark", ""};
        }
      } idle;
      connector.start(idle);
      WorkItem warm;
      warm.id = "wi-warm";
      warm.medium = "email";
      warm.customer = Customer{};
      warm.customer->addresses.push_back({"email", address(0), std::nullopt});
      connector.enrich(warm);
      start = steady_clock::now();
      while (steady_clock::now() - start < budget) {
        WorkItem item;
        item.id = "wi-bench";
        item.medium = "email";
        item.customer = Customer{};
        item.customer->addresses.push_back({"email", address(odbcCount), std::nullopt});
        connector.enrich(item);
        odbcFound += item.customer->ref ? 1 : 0;
        ++odbcCount;
      }
      double odbcRate = odbcCount / duration<double>(steady_clock::now() - start).count();
      connector.stop();
      std::printf("customer lookups, one caller, PostgreSQL on loopback, 10,005 contacts\n");
      std::printf("  libpq (reference)        %10.0f lookups/s  (%zu found of %zu)\n", libpqRate,
                  libpqFound, libpqCount);
      std::printf("  ODBC connector enrich()  %10.0f lookups/s  (%zu found of %zu)\n", odbcRate,
                  odbcFound, odbcCount);
      std::printf("  ratio connector/libpq    %10.2f  (target >= 0.70)\n", odbcRate / libpqRate);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_odbc_lookup: " << e.what() << '\n';
    return 1;
  }
}
