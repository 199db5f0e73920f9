// Nothing lost, nothing doubled: a mailbox of 2,000 mails in a real Dovecot, `switchboard serve`
// killed with SIGKILL at 20 or more random moments while it takes them, and restarted. At the
// end there is exactly one work item per mail, over IMAP and over POP3.

#include "tests/integration/email/email_test_support.h"

#include <gtest/gtest.h>

#include <iostream>
#include <random>

namespace switchboard {
namespace {

using testing::DovecotServer;
using testing::eventually;
using testing::ServerProcess;

constexpr int kMails = 2000;
constexpr int kKills = 20;

struct CrashRun {
  int kills = 0;
  std::vector<std::size_t> progress; ///< mails acknowledged in Dovecot at each kill
};

// Kills the server at random moments until it has been killed `kKills` times while mail was
// still waiting; `taken` says how many mails Dovecot holds as acknowledged. Each kill comes
// after a random time, or as soon as a random number of further mails was acknowledged,
// whichever is first: on a fast machine the kills still spread over the whole ingest instead of
// arriving after it.
template <class Taken>
CrashRun crashRepeatedly(ServerProcess& server, Taken taken) {
  std::mt19937 random(std::random_device{}());
  CrashRun run;
  while (run.kills < kKills) {
    std::size_t start = taken();
    server.start();
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(random));
    std::size_t step = std::uniform_int_distribution<std::size_t>(1, 80)(random);
    while (std::chrono::steady_clock::now() < deadline && taken() < start + step) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::size_t before = taken();
    EXPECT_EQ(server.kill(SIGKILL), 128 + SIGKILL);
    if (before >= static_cast<std::size_t>(kMails)) {
      break; // everything was taken before this kill: it did not fall during ingest
    }
    ++run.kills;
    run.progress.push_back(before);
  }
  return run;
}

std::string progressOf(const CrashRun& run) {
  std::string text;
  for (std::size_t done : run.progress) {
    text += std::to_string(done) + " ";
  }
  return text;
}

void deliverAll(DovecotServer& dovecot) {
  for (int n = 1; n <= kMails; ++n) {
    dovecot.deliver("support",
                    "17" + std::to_string(10000000 + n) + ".M" + std::to_string(n) + ".crash",
                    testing::customerMail(n));
  }
}

void expectOneItemPerMail(ServerProcess& server) {
  std::map<std::string, int> counts = testing::subjects(server);
  EXPECT_EQ(counts.size(), static_cast<std::size_t>(kMails));
  int doubled = 0;
  int missing = 0;
  for (int n = 1; n <= kMails; ++n) {
    int count = counts["Question " + std::to_string(n)];
    doubled += count > 1 ? 1 : 0;
    missing += count == 0 ? 1 : 0;
  }
  EXPECT_EQ(doubled, 0);
  EXPECT_EQ(missing, 0);
  for (const auto& letter : testing::deadLetters(server)) {
    ADD_FAILURE() << "dead letter: " << letter->getValue<std::string>("reason");
  }
}

TEST(MailboxCrash, ImapKilledTwentyTimesDuringIngestMakesOneWorkItemPerMail) {
  DovecotServer dovecot;
  deliverAll(dovecot);
  dovecot.start();
  ServerProcess server(testing::serverConfig(
      "<imap name=\"imap-1\" host=\"127.0.0.1\" port=\"" + std::to_string(dovecot.imapPort()) +
      "\" tls=\"none\" pollInterval=\"50ms\" fetchBatch=\"20\" submitThreads=\"4\"><mailbox "
      "user=\"support\" "
      "password=\"support-secret\"/></imap>"));
  CrashRun run = crashRepeatedly(server, [&] { return testing::seenCount(dovecot, "support"); });
  EXPECT_GE(run.kills, kKills) << progressOf(run);
  server.start();
  ASSERT_TRUE(eventually(
      [&] { return testing::seenCount(dovecot, "support") == static_cast<std::size_t>(kMails); },
      std::chrono::minutes(3)))
      << server.log();
  expectOneItemPerMail(server);
  std::cout << "mails acknowledged at each kill: " << progressOf(run) << "\n";
}

TEST(MailboxCrash, Pop3KilledTwentyTimesDuringIngestMakesOneWorkItemPerMail) {
  DovecotServer dovecot;
  deliverAll(dovecot);
  dovecot.start();
  ServerProcess server(testing::serverConfig(
      "<pop3 name=\"pop3-1\" host=\"127.0.0.1\" port=\"" + std::to_string(dovecot.pop3Port()) +
      "\" tls=\"none\" pollInterval=\"50ms\" fetchBatch=\"20\" submitThreads=\"4\" "
      "stateFile=\"@DIR@/pop3.db\">"
      "<mailbox user=\"support\" password=\"support-secret\"/></pop3>"));
  // Dovecot moves mails from new/ to cur/ while they are counted, so one may count twice.
  auto taken = [&] {
    std::size_t left = dovecot.mailCount("support");
    return left >= static_cast<std::size_t>(kMails) ? 0 : static_cast<std::size_t>(kMails) - left;
  };
  CrashRun run = crashRepeatedly(server, taken);
  EXPECT_GE(run.kills, kKills) << progressOf(run);
  server.start();
  ASSERT_TRUE(
      eventually([&] { return dovecot.mailCount("support") == 0; }, std::chrono::minutes(3)))
      << server.log();
  expectOneItemPerMail(server);
  std::cout << "mails acknowledged at each kill: " << progressOf(run) << "\n";
}

} // namespace
} // namespace switchboard
