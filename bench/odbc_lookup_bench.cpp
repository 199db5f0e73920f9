// Customer lookups per second through the ODBC connector (unixODBC, psqlODBC) against PostgreSQL,
// and, in the same run, the same query through libpq directly as the reference; prints both and
// the ratio (target >= 0.7). Like with like: one calling thread on each side, the same statement
// prepared once, the same parameter, and on both sides the answer is read as text into a new work
// item's customer and attributes (the connector's enrich() does that; the reference does it with
// the same column rules here). Starts its own PostgreSQL on loopback with the sample CRM
// (samples/crm/) and 10,000 more contacts. Runs without arguments in well under a minute.
//
//   bench_odbc_lookup [SECONDS_PER_SIDE]     (default 5; the run takes three times that)

#include "connectors/odbc/column_names.h"
#include "connectors/odbc/odbc_connector.h"

#include "switchboard/communication_server.h"
#include "switchboard/config.h"
#include "tests/support/memory_store.h"
#include "tests/support/postgres_server.h"
#include "tests/unit/odbc/odbc_test_support.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <ctime>
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

WorkItem arrival(std::size_t i) {
  WorkItem item;
  item.id = "wi-bench";
  item.medium = "email";
  item.customer = Customer{};
  item.customer->addresses.push_back({"email", address(i), std::nullopt});
  return item;
}

// The first row of a libpq result into the item, by the connector's column rules (README: Result
// columns), each value copied out as text as the connector's ODBC path does.
void applyRow(PGresult* result, WorkItem& item) {
  if (PQntuples(result) == 0) {
    return;
  }
  Customer& customer = *item.customer;
  for (int c = 0; c < PQnfields(result); ++c) {
    if (PQgetisnull(result, 0, c)) {
      continue;
    }
    const std::string column = PQfname(result, c);
    std::string value(PQgetvalue(result, 0, c),
                      static_cast<std::size_t>(PQgetlength(result, 0, c)));
    const std::string key = odbc::canonical(column);
    if (key == "customerref") {
      customer.ref = std::move(value);
    } else if (key == "customername") {
      customer.name = std::move(value);
    } else if (key == "language") {
      customer.language = std::move(value);
    } else if (key == "tier") {
      customer.tier = std::move(value);
    } else if (key == "previousagent") {
      customer.lastAgentId = std::move(value);
    } else {
      item.attributes.push_back({column, std::move(value)});
    }
  }
  item.attributes.push_back({"crmEnriched", "true"});
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

    // The connector's pool alone, on the calling thread: the ODBC path without the hand-off.
    odbc::OdbcPool pool(options.connection.reveal(), 1, options.connectTimeout,
                        options.queryTimeout);
    pool.run(lookupSql, {{"address", address(0)}});

    // The connector: enrich() as the server calls it for each arrival (on the calling thread with
    // an idle pooled connection and its prepared statement, a watchdog armed for lookupTimeout,
    // the result into the work item). It needs a started server behind it; roster and activities
    // are not configured here, so the server only stands by.
    testing::MemoryStore store;
    CoreOptions core;
    core.queues = config.queues;
    core.runTimers = false;
    CommunicationServer server(core, store);
    server.start();
    odbc::OdbcConnector connector(std::move(options));
    connector.start(server, store);

    // The three take turns in short rounds, so that a machine whose load changes during the run
    // slows each of them alike and the ratio holds.
    struct Side {
      std::size_t count = 0;
      std::size_t found = 0;
      duration<double> spent{0};
      double cpuSeconds = 0; ///< this process's CPU time (all threads) during the turns
    } libpq, viaPool, viaConnector;
    auto libpqLookup = [&](std::size_t i) {
      WorkItem item = arrival(i);
      const char* parameters[] = {item.customer->addresses.front().value.c_str()};
      PGresult* result = PQexecPrepared(db, "lookup", 1, parameters, nullptr, nullptr, 0);
      if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        throw std::runtime_error(std::string("libpq: ") + PQerrorMessage(db));
      }
      applyRow(result, item);
      PQclear(result);
      return item.customer->ref.has_value();
    };
    auto poolLookup = [&](std::size_t i) {
      return !pool.run(lookupSql, {{"address", address(i)}}).rows.empty();
    };
    auto connectorLookup = [&](std::size_t i) {
      WorkItem item = arrival(i);
      connector.enrich(item);
      return item.customer->ref.has_value();
    };
    auto processCpu = [] {
      timespec now{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
      return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
    };
    auto round = [&](Side& side, const auto& lookup) {
      double cpu = processCpu();
      auto begin = steady_clock::now();
      auto end = begin + milliseconds(100);
      while (steady_clock::now() < end) {
        side.found += lookup(side.count) ? 1 : 0;
        ++side.count;
      }
      side.spent += steady_clock::now() - begin;
      side.cpuSeconds += processCpu() - cpu;
    };
    const auto budget = duration<double>(seconds * 3);
    for (auto start = steady_clock::now(); steady_clock::now() - start < budget;) {
      round(libpq, libpqLookup);
      round(viaPool, poolLookup);
      round(viaConnector, connectorLookup);
    }
    connector.stop();
    server.stop();
    PQfinish(db);
    auto rate = [](const Side& side) { return side.count / side.spent.count(); };
    auto cpu = [](const Side& side) { return side.cpuSeconds / side.count * 1e6; };
    std::printf("customer lookups, one caller, PostgreSQL on loopback, 10,005 contacts, "
                "%.0f s each in 100 ms turns\n",
                seconds);
    std::printf("  %-24s %10s  %16s\n", "", "lookups/s", "client CPU/lookup");
    std::printf("  %-24s %10.0f  %14.1f us  (%zu found of %zu)\n", "libpq (reference)", rate(libpq),
                cpu(libpq), libpq.found, libpq.count);
    std::printf("  %-24s %10.0f  %14.1f us  (%zu found of %zu)\n", "ODBC connector enrich()",
                rate(viaConnector), cpu(viaConnector), viaConnector.found, viaConnector.count);
    std::printf("  %-24s %10.0f  %14.1f us  (%zu found of %zu)\n", "ODBC pool, same thread",
                rate(viaPool), cpu(viaPool), viaPool.found, viaPool.count);
    std::printf("  ratio connector/libpq    %10.2f  (target >= 0.70)\n",
                rate(viaConnector) / rate(libpq));
    std::printf("  ratio pool/libpq         %10.2f\n", rate(viaPool) / rate(libpq));
    std::printf(
        "  (one calling thread each; lookups/s wait on the server and the scheduler, so on\n"
        "   a loaded machine the client CPU per lookup is the steadier comparison)\n");
    const auto onThread = connector.stats();
    std::printf("  enrich() ran on the calling thread: %s; unenriched: %llu\n",
                onThread.lookupsOnArrivingThread ? "yes" : "no",
                static_cast<unsigned long long>(onThread.lookupFailures));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_odbc_lookup: " << e.what() << '\n';
    return 1;
  }
}
