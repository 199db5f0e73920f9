// Email ingest over IMAP, end to end, beside the mail server's own fetch rate. A local Dovecot
// (started here on loopback) holds 10,000 mails of about 1.5 KB. Measured in the same run:
//   - Switchboard: the IMAP source takes the whole mailbox: batched UID FETCH, MIME read,
//     workItemArrived built, validated by the server, committed to an SQLite store (WAL,
//     synchronous=FULL, group commit), routed into a queue, and the mails marked \Seen.
//   - Reference: curl fetching the same mailbox, every mail, over one IMAP connection
//     (curl 'imap://HOST/INBOX;UID=[1-N]').
//   - For scale: the same batched UID FETCH with nothing done to the mails (transport alone).
// Prints mails per second and the ratio to the reference. Targets (issue 6): at least 0.8 x the
// reference and at least 1,000 mails/s.

#include "adapters/email/imap_source.h"
#include "switchboard/communication_server.h"
#include "switchboard/store.h"
#include "tests/support/dovecot_server.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using namespace switchboard;
using namespace switchboard::email;

constexpr int kMails = 10'000;

std::string mail(int n) {
  std::string number = std::to_string(n);
  std::string body;
  while (body.size() < 1000) {
    body += "Good morning, my invoice number " + number +
            " shows a charge I do not recognise. Could you please look into it?\r\n";
  }
  return "Return-Path: <customer" + number + "@example.com>\r\nFrom: Customer " + number +
         " <customer" + number +
         "@example.com>\r\nTo: Apoio <apoio@mares-telecom.example>\r\n"
         "Subject: Invoice question " +
         number +
         "\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
         "Message-ID: <bench-" +
         number +
         "@example.com>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
         body;
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time of this process (every thread), user and system.
double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto of = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return of(usage.ru_utime) + of(usage.ru_stime);
}

MailServer serverOf(const testing::DovecotServer& dovecot) {
  MailServer server;
  server.host = "127.0.0.1";
  server.port = static_cast<std::uint16_t>(dovecot.imapPort());
  server.tls = TlsMode::None;
  return server;
}

// The whole mailbox through the IMAP source into a real server core and store.
double switchboardIngest(const testing::DovecotServer& dovecot, const std::string& user,
                         std::uint64_t& committed, double& cpu) {
  std::filesystem::path dir = dovecot.dir() / "switchboard";
  StoreOptions storeOptions;
  storeOptions.location = (dir / "switchboard.db").string();
  std::unique_ptr<Store> store = openStore(storeOptions);
  CoreOptions core;
  core.serverId = "sb-bench";
  core.engine.defaultQueue = "general";
  routing::QueueSpec general;
  general.id = "general";
  core.queues = {general};
  CommunicationServer server(core, *store);
  server.start();
  AttachmentStore attachments(dir / "attachments");

  ImapOptions options;
  options.intake.driverName = "imap-bench";
  options.intake.serverId = core.serverId;
  options.server = serverOf(dovecot);
  MailboxAccount account;
  account.user = user;
  account.password = Secret(dovecot.password(user), "bench");
  options.mailboxes = {account};
  ImapSource source(options, server, attachments);

  double cpuBefore = cpuSeconds();
  Clock::time_point start = Clock::now();
  std::size_t taken = 0;
  for (int round = 0; round < 20 && taken < static_cast<std::size_t>(kMails); ++round) {
    taken += source.pollOnce();
  }
  double elapsed = seconds(Clock::now() - start);
  cpu = cpuSeconds() - cpuBefore;
  committed = source.counters().submitted;
  source.stop();
  server.stop();
  return elapsed;
}

// The same batched UID FETCH with nothing done to the mails.
double fetchOnly(const testing::DovecotServer& dovecot, const std::string& user,
                 std::size_t& bytes) {
  Clock::time_point start = Clock::now();
  ImapConnection imap(serverOf(dovecot), user, dovecot.password(user));
  imap.require("SELECT \"INBOX\"");
  bytes = 0;
  for (int first = 1; first <= kMails; first += 250) {
    std::string set = std::to_string(first) + ":" + std::to_string(first + 249);
    for (const ImapUntagged& line : imap.require("UID FETCH " + set + " (BODY.PEEK[])").untagged) {
      for (const std::string& literal : line.literals) {
        bytes += literal.size();
      }
    }
  }
  return seconds(Clock::now() - start);
}

// curl fetching every mail of the mailbox over one connection.
double curlFetch(const testing::DovecotServer& dovecot, const std::string& user,
                 std::size_t& bytes) {
  std::string command = "curl -s -u " + user + ":" + dovecot.password(user) +
                        " 'imap://127.0.0.1:" + std::to_string(dovecot.imapPort()) +
                        "/INBOX;UID=[1-" + std::to_string(kMails) + "]'";
  Clock::time_point start = Clock::now();
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("cannot run curl");
  }
  bytes = 0;
  char buffer[65536];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    bytes += got;
  }
  int status = ::pclose(pipe);
  double elapsed = seconds(Clock::now() - start);
  if (status != 0) {
    throw std::runtime_error("curl failed with status " + std::to_string(status));
  }
  return elapsed;
}

} // namespace

int main() {
  try {
    testing::DovecotServer dovecot({{{"support", "support-secret"}}, false});
    std::size_t mailBytes = 0;
    for (int n = 1; n <= kMails; ++n) {
      std::string text = mail(n);
      mailBytes += text.size();
      dovecot.deliver("support",
                      "17" + std::to_string(10000000 + n) + ".M" + std::to_string(n) + ".bench",
                      text);
    }
    dovecot.start();
    // Dovecot indexes new mail on first access and the files enter the page cache: do both
    // before anything is measured, so that every run below reads the same warm mailbox.
    std::size_t warmBytes = 0;
    fetchOnly(dovecot, "support", warmBytes);

    std::uint64_t committed = 0;
    double cpu = 0;
    double ours = switchboardIngest(dovecot, "support", committed, cpu);
    std::size_t fetchedBytes = 0;
    double transport = fetchOnly(dovecot, "support", fetchedBytes);
    std::size_t curlBytes = 0;
    double reference = curlFetch(dovecot, "support", curlBytes);

    double oursRate = kMails / ours;
    double referenceRate = kMails / reference;
    std::printf("email ingest over IMAP: %d mails, %.1f MB, local Dovecot\n", kMails,
                static_cast<double>(mailBytes) / 1e6);
    std::printf("  switchboard (fetch, MIME, message, validate, commit, route, \\Seen): "
                "%8.0f mails/s  (%.2f s, %llu work items committed)\n",
                oursRate, ours, static_cast<unsigned long long>(committed));
    std::printf("    CPU of the Switchboard process: %.0f us per mail (%.2f s)\n",
                cpu * 1e6 / kMails, cpu);
    std::printf("  reference: curl fetch of every mail, one connection:              "
                "%8.0f mails/s  (%.2f s, %.1f MB)\n",
                referenceRate, reference, static_cast<double>(curlBytes) / 1e6);
    std::printf("  for scale: batched UID FETCH alone, nothing done to the mails:   "
                "%8.0f mails/s  (%.2f s, %.1f MB)\n",
                kMails / transport, transport, static_cast<double>(fetchedBytes) / 1e6);
    std::printf("  ratio switchboard / curl reference: %.2f  (targets: >= 0.80 and >= 1,000 "
                "mails/s)\n",
                oursRate / referenceRate);
    if (committed != static_cast<std::uint64_t>(kMails)) {
      std::printf("  NOTE: %llu of %d mails became work items\n",
                  static_cast<unsigned long long>(committed), kMails);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "email ingest benchmark: %s\n", e.what());
    return 1;
  }
}
