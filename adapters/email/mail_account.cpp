#include "mail_account.h"

#include <set>

namespace switchboard::email {

MailServer mailServerOf(const ConfigElement& element, std::uint16_t defaultPort,
                        std::uint16_t implicitPort) {
  MailServer server;
  server.host = element.string("host");
  std::string tls = element.optionalString("tls").value_or("implicit");
  if (tls == "none") {
    server.tls = TlsMode::None;
  } else if (tls == "starttls") {
    server.tls = TlsMode::StartTls;
  } else if (tls == "implicit") {
    server.tls = TlsMode::Implicit;
  } else {
    element.fail("tls", "'" + tls + "' is not one of implicit, starttls, none");
  }
  server.port = element.find("port") != nullptr
                    ? static_cast<std::uint16_t>(element.integer("port", 1, 65535))
                    : (server.tls == TlsMode::Implicit ? implicitPort : defaultPort);
  if (element.find("caFile") != nullptr) {
    server.caFile = element.path("caFile");
  }
  if (element.find("verifyPeer") != nullptr) {
    server.verifyPeer = element.boolean("verifyPeer");
  }
  if (element.find("timeout") != nullptr) {
    server.timeout = element.duration("timeout");
    if (server.timeout.count() <= 0) {
      element.fail("timeout", "must be more than 0");
    }
  }
  return server;
}

std::vector<MailboxAccount> mailboxesOf(const ConfigElement& element, bool withFolder) {
  std::vector<MailboxAccount> accounts;
  std::set<std::pair<std::string, std::string>> seen;
  for (const ConfigElement* mailbox : element.childrenNamed("mailbox")) {
    MailboxAccount account;
    account.user = mailbox->string("user");
    account.password = mailbox->secret("password");
    if (withFolder && mailbox->find("folder") != nullptr) {
      account.folder = mailbox->string("folder");
      if (account.folder.empty() || account.folder.find_first_of("\r\n\"\\") != std::string::npos) {
        mailbox->fail("folder", "must not be empty or hold quotes, backslashes or line breaks");
      }
    }
    account.contactPoint = mailbox->optionalString("contactPoint");
    if (!seen.emplace(account.user, withFolder ? account.folder : "").second) {
      mailbox->fail("user", "this mailbox is read by this driver already");
    }
    accounts.push_back(std::move(account));
  }
  if (accounts.empty()) {
    element.fail("", "needs at least one <mailbox>");
  }
  return accounts;
}

const ConfigElement& elementOf(const DriverContext& context) {
  if (context.element == nullptr) {
    context.section.fail("mailbox", "the driver's configuration element is not available");
  }
  return *context.element;
}

} // namespace switchboard::email
