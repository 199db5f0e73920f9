#pragma once

// What the email integration tests share: a configuration for `switchboard serve` with one
// mailbox driver, test mails, and reading the server's work items and dead letters over REST.

#include "tests/support/dovecot_server.h"
#include "tests/support/server_process.h"

#include <map>
#include <string>
#include <vector>

namespace switchboard::testing {

constexpr const char* kEmailTestKey = "test-integrator-key-0123456789";

/// A `switchboard serve` configuration whose only driver is `driver` (an <imap> or <pop3>
/// element), with the <agents> element `agents` if any. Without agents every item waits,
/// routed, in queue "general".
inline std::string serverConfig(const std::string& driver, const std::string& agents = "") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-mail"><listener address="127.0.0.1" port="0" threads="2"/></server>
  <store><sqlite path="@DIR@/switchboard.db"/></store>
  <security>
    <apiKey name="crm" secret="test-integrator-key-0123456789"/>
    <agentTokens secret="test-agent-token-secret-0123456789abcdef" lifetime="1h"/>
  </security>
  <logging level="warning" format="text"/>
  <drivers>
    )" + driver +
         R"(
  </drivers>
  <routing defaultQueue="general"/>
  )" + agents +
         R"(
  <queues>
    <queue id="general" ordering="longestIdle" offerTimeout="1h"/>
  </queues>
</switchboard>
)";
}

/// A small customer mail whose subject names it: "Question N".
inline std::string customerMail(int n, const std::string& to = "apoio@mares-telecom.example") {
  std::string number = std::to_string(n);
  return "From: Customer " + number + " <customer" + number + "@example.com>\r\nTo: " + to +
         "\r\nSubject: Question " + number + "\r\nMessage-ID: <q" + number +
         "@example.com>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; "
         "charset=utf-8\r\n\r\nHello, this is question number " +
         number + ".\r\nKind regards.\r\n";
}

/// Every work item the server holds, over all pages.
inline std::vector<Poco::JSON::Object::Ptr> allWorkItems(const ServerProcess& server) {
  std::vector<Poco::JSON::Object::Ptr> items;
  std::string after;
  for (;;) {
    HttpReply reply =
        server.request("GET", "/v1/work-items?limit=100" + (after.empty() ? "" : "&after=" + after),
                       kEmailTestKey);
    if (reply.status != 200) {
      throw std::runtime_error("list failed: " + reply.body);
    }
    auto page = reply.json();
    auto array = page->getArray("items");
    for (std::size_t i = 0; i < array->size(); ++i) {
      items.push_back(array->getObject(static_cast<unsigned>(i)));
    }
    if (!page->has("next")) {
      return items;
    }
    after = page->getValue<std::string>("next");
  }
}

/// How many work items carry each subject.
inline std::map<std::string, int> subjects(const ServerProcess& server) {
  std::map<std::string, int> counts;
  for (const auto& item : allWorkItems(server)) {
    ++counts[item->has("subject") ? item->getValue<std::string>("subject") : ""];
  }
  return counts;
}

inline std::vector<Poco::JSON::Object::Ptr> deadLetters(const ServerProcess& server) {
  HttpReply reply = server.request("GET", "/v1/dead-letters?limit=1000", kEmailTestKey);
  if (reply.status != 200) {
    throw std::runtime_error("dead letters failed: " + reply.body);
  }
  std::vector<Poco::JSON::Object::Ptr> letters;
  auto array = reply.json()->getArray("deadLetters");
  for (std::size_t i = 0; i < array->size(); ++i) {
    letters.push_back(array->getObject(static_cast<unsigned>(i)));
  }
  return letters;
}

/// `text` with every "@NAME@" of `values` replaced.
inline std::string fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    std::string marker = "@" + name + "@";
    for (std::size_t at; (at = text.find(marker)) != std::string::npos;) {
      text.replace(at, marker.size(), value);
    }
  }
  return text;
}

/// Mails of `user`'s INBOX that Dovecot holds as \Seen (flag S in the Maildir file name).
inline std::size_t seenCount(const DovecotServer& dovecot, const std::string& user,
                             const std::string& folder = "") {
  std::filesystem::path cur = dovecot.maildir(user) / folder / "cur";
  std::size_t count = 0;
  if (!std::filesystem::exists(cur)) {
    return 0;
  }
  for (const auto& entry : std::filesystem::directory_iterator(cur)) {
    std::string name = entry.path().filename().string();
    std::size_t flags = name.find(":2,");
    count += flags != std::string::npos && name.find('S', flags) != std::string::npos ? 1 : 0;
  }
  return count;
}

/// Mails in a Maildir folder of `user` ("" for INBOX, ".Processed" for a subfolder).
inline std::size_t folderCount(const DovecotServer& dovecot, const std::string& user,
                               const std::string& folder) {
  std::size_t count = 0;
  for (const char* part : {"new", "cur"}) {
    std::filesystem::path dir = dovecot.maildir(user) / folder / part;
    if (std::filesystem::exists(dir)) {
      for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        count += entry.is_regular_file() ? 1 : 0;
      }
    }
  }
  return count;
}

} // namespace switchboard::testing
