// The real `switchboard serve` and a real SMTP server (aiosmtpd), both started by the test on
// loopback: a mail arrives in the Maildir, is acknowledged, the agent replies over REST, and the
// customer's mail server receives exactly one reply with the right headers and thread. Then the
// relay is down and comes back; then the server is killed with SIGKILL while it sends.

#include "adapters/email/outbox_store.h"
#include "adapters/email/smtp_message.h"
#include "tests/support/server_process.h"
#include "tests/support/smtp_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <random>

namespace switchboard {
namespace {

using testing::eventually;
using ::testing::HasSubstr;
using testing::headerOf;
using testing::HttpReply;
using testing::ServerProcess;
using testing::SmtpSink;
using testing::SmtpSinkOptions;

constexpr const char* kKey = "test-integrator-key-0123456789";

std::string config(std::uint16_t smtpPort, const std::string& extra = "") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-e2e"><listener address="127.0.0.1" port="0" threads="4"/></server>
  <store><sqlite path="@DIR@/switchboard.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef" lifetime="1h"/>
  </security>
  <logging level="info" format="json"/>
  <drivers>
    <maildir name="email-1" path="@DIR@/maildir" pollInterval="50ms">
      <smtp host="127.0.0.1" port=")" +
         std::to_string(smtpPort) + R"(" tls="none" helo="switchboard.test"
            from="apoio@mares-telecom.example" fromName="Apoio Marés Telecom"
            outbox="@DIR@/outbox.db" retryDelay="100ms" maxRetryDelay="500ms" )" +
         extra + R"(>
        <autoAcknowledge subject="We have your message">Dear {name}, your reference is {id}.</autoAcknowledge>
      </smtp>
    </maildir>
  </drivers>
  <routing defaultQueue="general"/>
  <agents>
    <agent id="a-ana" name="Ana Sousa" site="lisbon">
      <mix><limit medium="email" max="5"/></mix>
    </agent>
  </agents>
  <queues>
    <queue id="general" ordering="longestIdle" offerTimeout="1h"/>
  </queues>
</switchboard>
)";
}

std::string customerMail(int n, const std::string& extraHeaders = "") {
  return "From: Joana Ferreira <joana" + std::to_string(n) +
         "@example.com>\r\nTo: apoio@mares-telecom.example\r\nSubject: Fatura " +
         std::to_string(n) + "\r\nMessage-ID: <q" + std::to_string(n) +
         "@example.com>\r\nReferences: <root" + std::to_string(n) + "@example.com>\r\n" +
         extraHeaders + "\r\nOla, a fatura " + std::to_string(n) + " veio duas vezes.\r\n";
}

// The ids of the work items, once there are `count`.
std::vector<std::string> waitForItems(const ServerProcess& server, std::size_t count) {
  std::vector<std::string> ids;
  eventually(
      [&] {
        ids.clear();
        HttpReply reply = server.request("GET", "/v1/work-items?limit=500", kKey);
        if (reply.status != 200) {
          return false;
        }
        auto items = reply.json()->getArray("items");
        for (std::size_t i = 0; i < items->size(); ++i) {
          ids.push_back(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("id"));
        }
        return ids.size() >= count;
      },
      std::chrono::seconds(60));
  std::sort(ids.begin(), ids.end());
  return ids;
}

HttpReply reply(const ServerProcess& server, const std::string& item, const std::string& replyId,
                const std::string& token = kKey) {
  return server.request(
      "POST", "/v1/work-items/" + item + "/reply", token,
      R"({"replyId":")" + replyId +
          R"(","body":{"type":"text/plain","text":"Cara Joana,\nO valor será devolvido.\nAna"}})");
}

// Mails in the sink by their Message-ID, counting repeats.
std::map<std::string, int> byMessageId(const std::vector<std::string>& mails) {
  std::map<std::string, int> seen;
  for (const std::string& mail : mails) {
    ++seen[headerOf(mail, "Message-ID")];
  }
  return seen;
}

TEST(SmtpEndToEnd, AMailIsAcknowledgedAndTheAgentsReplyArrivesOnceInItsThread) {
  std::uint16_t port = testing::freePort();
  ServerProcess server(config(port));
  SmtpSink sink(server.dir() / "sink", port);
  sink.start();
  server.start();
  std::string ana = server.request("POST", "/v1/agents/a-ana/tokens", kKey)
                        .json()
                        ->getValue<std::string>("token");
  ASSERT_EQ(server.request("POST", "/v1/agents/a-ana/state", ana, R"({"state":"ready"})").status,
            200);
  server.deliverMail("1700000001.M1P1.test", customerMail(1));
  // An out-of-office answer is a work item too (kept), but never acknowledged: no mail loop.
  server.deliverMail("1700000002.M1P1.test", customerMail(2, "Auto-Submitted: auto-replied\r\n"));
  std::vector<std::string> items = waitForItems(server, 2);
  ASSERT_EQ(items.size(), 2u) << server.log();
  const std::string item = items.front();

  std::vector<std::string> mails = sink.waitFor(1);
  ASSERT_EQ(mails.size(), 1u) << server.log();
  EXPECT_EQ(headerOf(mails[0], "X-Sink-Rcpt-To"), "joana1@example.com");
  EXPECT_EQ(headerOf(mails[0], "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(headerOf(mails[0], "Subject"), "We have your message [#" + item + "]");
  EXPECT_EQ(headerOf(mails[0], "In-Reply-To"), "<q1@example.com>");

  ASSERT_TRUE(eventually([&] {
    return server.request("GET", "/v1/work-items/" + item, kKey)
               .json()
               ->getValue<std::string>("state") == "offered";
  }));
  ASSERT_EQ(server.request("POST", "/v1/work-items/" + item + "/accept", ana).status, 200);
  HttpReply answered = reply(server, item, "r-1", ana);
  ASSERT_EQ(answered.status, 202) << answered.body << server.log();

  mails = sink.waitFor(2);
  ASSERT_EQ(mails.size(), 2u) << server.log();
  const std::string& mail = mails[1];
  EXPECT_EQ(headerOf(mail, "X-Sink-Mail-From"), "apoio@mares-telecom.example");
  EXPECT_EQ(headerOf(mail, "X-Sink-Rcpt-To"), "joana1@example.com");
  EXPECT_EQ(headerOf(mail, "From"),
            "=?UTF-8?B?QXBvaW8gTWFyw6lzIFRlbGVjb20=?= <apoio@mares-telecom.example>");
  EXPECT_EQ(headerOf(mail, "To"), "\"Joana Ferreira\" <joana1@example.com>");
  EXPECT_EQ(headerOf(mail, "Subject"), "Re: Fatura 1 [#" + item + "]");
  EXPECT_EQ(headerOf(mail, "In-Reply-To"), "<q1@example.com>");
  EXPECT_EQ(headerOf(mail, "References"), "<root1@example.com> <q1@example.com>");
  std::string messageId = headerOf(mail, "Message-ID");
  EXPECT_EQ(email::workItemOfMessageId(messageId), item);
  EXPECT_THAT(mail, HasSubstr("O valor ser=C3=A1 devolvido."));

  // The item's history says where the reply went.
  ASSERT_TRUE(eventually([&] {
    return server.request("GET", "/v1/work-items/" + item, kKey)
               .body.find("deliveryReport r-1 sent " + messageId.substr(1, messageId.size() - 2)) !=
           std::string::npos;
  })) << server.request("GET", "/v1/work-items/" + item, kKey).body;

  // The same reply again is not sent again.
  EXPECT_EQ(reply(server, item, "r-1", ana).status, 202);
  HttpReply metrics = server.request("GET", "/metrics");
  EXPECT_THAT(metrics.body,
              HasSubstr("switchboard_email_outbox_mails{driver=\"email-1\",state=\"sent\"} 2"));
  EXPECT_EQ(server.kill(SIGTERM), 0) << server.log();
  EXPECT_EQ(sink.mails().size(), 2u);
}

TEST(SmtpEndToEnd, RepliesWaitForARelayThatIsDownAndAreDeliveredWhenItReturns) {
  std::uint16_t port = testing::freePort();
  ServerProcess server(config(port));
  server.start();
  server.deliverMail("1700000001.M1P1.test", customerMail(1));
  std::vector<std::string> items = waitForItems(server, 1);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(reply(server, items[0], "r-1").status, 202) << server.log();
  // Several attempts fail (the acknowledgement's and the reply's) ...
  ASSERT_TRUE(eventually([&] {
    return server.request("GET", "/metrics")
                   .body.find("switchboard_email_outbox_attempts_total{driver=\"email-1\",result="
                              "\"retry\"} 4") != std::string::npos ||
           server.log().find("attempt 3)") != std::string::npos;
  })) << server.log();
  // ... and the relay comes back.
  SmtpSink sink(server.dir() / "sink", port);
  sink.start();
  std::vector<std::string> mails = sink.waitFor(2);
  ASSERT_EQ(mails.size(), 2u) << server.log();
  EXPECT_EQ(byMessageId(mails).size(), 2u);
  EXPECT_EQ(server.kill(SIGTERM), 0);
  EXPECT_EQ(sink.mails().size(), 2u);
}

// Whether the outbox has nothing left to send (every mail sent, or given up).
bool nothingQueued(const ServerProcess& server) {
  return server.request("GET", "/metrics")
             .body.find("switchboard_email_outbox_mails{driver=\"email-1\",state=\"queued\"} 0") !=
         std::string::npos;
}

// Whether `count` mails of the outbox are sent or given up. (The gauges are refreshed after
// each pass of the sender, so they may lag, never lead.)
bool allSettled(const ServerProcess& server, std::size_t count) {
  std::string metrics = server.request("GET", "/metrics").body;
  double settled = 0;
  for (const char* state : {"sent", "failed"}) {
    std::string name =
        "switchboard_email_outbox_mails{driver=\"email-1\",state=\"" + std::string(state) + "\"} ";
    std::size_t at = metrics.find(name);
    if (at != std::string::npos) {
      settled += std::stod(metrics.substr(at + name.size()));
    }
  }
  return settled >= static_cast<double>(count);
}

// Sends 12 replies (and 12 acknowledgements) while killing the server with SIGKILL at random
// moments of its SMTP transactions, restarting it each time, until every mail is accounted for.
// Returns the mails the sink received; `server` is left stopped, its outbox on disk.
struct CrashRun {
  std::vector<std::string> mails;
  int kills = 0;
};

CrashRun sendWhileKilling(ServerProcess& server, std::uint16_t port) {
  constexpr int kReplies = 12;
  CrashRun run;
  // The relay answers each RCPT slowly, so that most kills fall inside an SMTP transaction.
  SmtpSinkOptions slow;
  slow.delayRcpt = 0.15;
  SmtpSink sink(server.dir() / "sink", port, slow);
  sink.start();
  server.start();
  for (int n = 1; n <= kReplies; ++n) {
    server.deliverMail("17000000" + std::to_string(10 + n) + ".M1P1.test", customerMail(n));
  }
  std::vector<std::string> items = waitForItems(server, kReplies);
  EXPECT_EQ(items.size(), static_cast<std::size_t>(kReplies)) << server.log();
  for (const std::string& item : items) {
    // Each answer 202 means the reply is committed to the outbox.
    EXPECT_EQ(reply(server, item, "r-" + item).status, 202) << server.log();
  }
  const std::size_t expected = 2 * kReplies; // an acknowledgement and a reply per mail
  std::mt19937 random(20261121);
  int& kills = run.kills;
  while (sink.mails().size() < expected && kills < 40) {
    std::size_t before = sink.mails().size();
    // Wait for a mail to arrive (the server is surely sending), then kill it a moment later.
    // Holding the uncertain, the last mails may never arrive: given up, nothing is left to send.
    eventually([&] { return sink.mails().size() > before || allSettled(server, expected); },
               std::chrono::seconds(30));
    if (sink.mails().size() == before) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
    EXPECT_EQ(server.kill(SIGKILL), 128 + SIGKILL);
    ++kills;
    server.start();
  }
  // Every mail ends sent (or, holding the uncertain, sent or failed): nothing left queued.
  EXPECT_TRUE(eventually([&] { return nothingQueued(server); }, std::chrono::seconds(120)))
      << server.log();
  EXPECT_EQ(server.kill(SIGTERM), 0);
  run.mails = sink.mails();
  return run;
}

TEST(SmtpEndToEnd, KilledWhileSendingEachReplyIsDeliveredAndOnlyTheUncertainTwice) {
  std::uint16_t port = testing::freePort();
  ServerProcess server(config(port, R"(uncertain="resend")"));
  CrashRun run = sendWhileKilling(server, port);
  const std::size_t expected = 24;
  const std::vector<std::string>& mails = run.mails;
  const int kills = run.kills;

  std::map<std::string, int> seen = byMessageId(mails);
  email::OutboxStore outbox(server.dir() / "outbox.db");
  std::uint32_t uncertain = 0;
  for (const auto& [messageId, count] : seen) {
    auto entry = outbox.findByMessageId(messageId.substr(1, messageId.size() - 2));
    ASSERT_TRUE(entry) << messageId;
    EXPECT_EQ(entry->state, email::OutboxState::Sent);
    // A mail reaches the customer twice only when a kill fell between the final "." and the
    // record of the relay's answer, and the outbox says so.
    EXPECT_LE(count, 1 + static_cast<int>(entry->uncertainResends)) << messageId;
    uncertain += entry->uncertainResends;
  }
  EXPECT_EQ(seen.size(), expected);
  std::cout << "[ figures  ] " << kills << " kills while sending; " << mails.size()
            << " mails received for " << expected << " queued; " << uncertain
            << " resent after an unknown outcome\n";
  EXPECT_GE(kills, 5);
}

TEST(SmtpEndToEnd, KilledWhileSendingHoldingTheUncertainNothingIsSentTwice) {
  std::uint16_t port = testing::freePort();
  ServerProcess server(config(port, R"(uncertain="hold")"));
  CrashRun run = sendWhileKilling(server, port);
  std::map<std::string, int> seen = byMessageId(run.mails);
  email::OutboxStore outbox(server.dir() / "outbox.db");
  for (const auto& [messageId, count] : seen) {
    EXPECT_EQ(count, 1) << messageId;
  }
  email::OutboxCounts counts = outbox.counts();
  const int held = static_cast<int>(counts.failed);
  EXPECT_EQ(counts.sent + counts.failed, 24u);
  EXPECT_EQ(counts.queued, 0u);
  // Each held mail is a dead letter an operator can see (the relay may or may not have it).
  server.start();
  HttpReply letters = server.request("GET", "/v1/dead-letters?limit=100", kKey);
  std::size_t found = 0;
  for (std::size_t at = 0; (at = letters.body.find("outcome unknown", at)) != std::string::npos;
       ++at) {
    ++found;
  }
  EXPECT_GE(found, static_cast<std::size_t>(held));
  std::cout << "[ figures  ] " << run.kills << " kills while sending; " << run.mails.size()
            << " mails received, none twice; " << held << " held as uncertain\n";
}

} // namespace
} // namespace switchboard
