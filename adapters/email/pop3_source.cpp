#include "pop3_source.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DialogSocket.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/POP3ClientSession.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <iostream>
#include <map>
#include <mutex>
#include <sstream>

namespace switchboard::email {
namespace {

using Poco::Net::Context;

class Pop3Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Context::Ptr tlsContext(const MailServer& server) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
  return new Context(Context::TLS_CLIENT_USE, server.caFile.string(),
                     server.verifyPeer ? Context::VERIFY_RELAXED : Context::VERIFY_NONE, 9,
                     server.caFile.empty());
}

bool positive(const std::string& response) {
  return response.starts_with("+OK");
}

// A logged-in POP3 session. Poco's POP3ClientSession retrieves (with dot-unstuffing), deletes
// and quits; the greeting, STLS, login and the multi-line UIDL listing, which it does not offer,
// go through a DialogSocket on the same connection (POP3 answers one command at a time, so the
// two never read each other's bytes).
class Pop3Session {
 public:
  Pop3Session(const MailServer& server, const MailboxAccount& account) {
    Poco::Timespan timeout(
        std::chrono::duration_cast<std::chrono::microseconds>(server.timeout).count());
    Poco::Net::SocketAddress address(server.host, server.port);
    Poco::Net::StreamSocket socket;
    if (server.tls == TlsMode::Implicit) {
      Poco::Net::SecureStreamSocket secure(tlsContext(server));
      secure.setPeerHostName(server.host);
      secure.connect(address, timeout);
      socket = secure;
    } else {
      socket.connect(address, timeout);
    }
    socket.setReceiveTimeout(timeout);
    socket.setSendTimeout(timeout);
    Poco::Net::DialogSocket dialog(socket);
    std::string line;
    dialog.receiveMessage(line);
    if (!positive(line)) {
      throw Pop3Error("the POP3 service is unavailable: " + line);
    }
    if (server.tls == TlsMode::StartTls) {
      dialog.sendMessage("STLS");
      dialog.receiveMessage(line);
      if (!positive(line)) {
        throw Pop3Error("the server refuses STLS: " + line);
      }
      Poco::Net::SecureStreamSocket secure =
          Poco::Net::SecureStreamSocket::attach(socket, server.host, tlsContext(server));
      secure.setReceiveTimeout(timeout);
      secure.setSendTimeout(timeout);
      socket = secure;
    }
    socket_ = socket;
    session_ = std::make_unique<Poco::Net::POP3ClientSession>(socket_);
    session_->setTimeout(timeout);
    if (!session_->sendCommand("USER", account.user, line) ||
        !session_->sendCommand("PASS", account.password.reveal(), line)) {
      // The server's words, not the password's.
      throw Pop3Error("login refused for " + account.user + ": " + line);
    }
  }

  ~Pop3Session() {
    if (!quit_) {
      // No QUIT: the server discards this session's deletions, which is what a failure needs.
      try {
        socket_.close();
      } catch (const std::exception&) {
      }
    }
  }

  /// Message number to UIDL.
  std::map<int, std::string> uidls() {
    Poco::Net::DialogSocket dialog(socket_);
    dialog.sendMessage("UIDL");
    std::string line;
    dialog.receiveMessage(line);
    if (!positive(line)) {
      throw Pop3Error("the server refuses UIDL: " + line);
    }
    std::map<int, std::string> result;
    for (;;) {
      dialog.receiveMessage(line);
      if (line == ".") {
        return result;
      }
      std::istringstream fields(line);
      int number = 0;
      std::string uidl;
      if (fields >> number >> uidl) {
        result[number] = uidl;
      }
    }
  }

  Poco::Net::POP3ClientSession& pop3() { return *session_; }

  /// Ends the session: the server now carries out the deletions.
  void quit() {
    std::string line;
    session_->sendCommand("QUIT", line);
    quit_ = true;
    if (!positive(line)) {
      throw Pop3Error("QUIT refused, deletions not made: " + line);
    }
    socket_.close();
  }

 private:
  Poco::Net::StreamSocket socket_;
  std::unique_ptr<Poco::Net::POP3ClientSession> session_;
  bool quit_ = false;
};

} // namespace

Pop3Source::Pop3Source(Pop3Options options, MessageSink& sink, AttachmentStore& attachments,
                       MetricsRegistry* metrics)
    : options_(std::move(options)), intake_(options_.intake, sink, attachments, metrics),
      poller_(options_.pollInterval, [this] { pollOnce(); }) {
  memory_ = std::make_unique<Pop3UidlMemory>(options_.stateFile);
}

Pop3Source::~Pop3Source() {
  stop();
}

void Pop3Source::start() {
  intake_.start();
  poller_.start();
}

void Pop3Source::stop() {
  poller_.stop();
  intake_.stop();
}

std::size_t Pop3Source::pollOnce() {
  std::size_t taken = 0;
  for (const MailboxAccount& account : options_.mailboxes) {
    try {
      for (bool more = true; more && !stopping();) {
        auto [count, rest] = session(account);
        taken += count;
        more = rest;
      }
    } catch (const Poco::Exception& e) {
      // Poco's what() is only the class name; displayText() carries the reason.
      std::cerr << "pop3 " << options_.intake.driverName << ": " << account.user << ": "
                << e.displayText() << '\n';
    } catch (const std::exception& e) {
      std::cerr << "pop3 " << options_.intake.driverName << ": " << account.user << ": " << e.what()
                << '\n';
    }
  }
  return taken;
}

std::pair<std::size_t, bool> Pop3Source::session(const MailboxAccount& account) {
  Pop3Session pop3(options_.server, account);
  std::map<int, std::string> uidls = pop3.uidls();
  const std::string mailbox =
      account.user + "@" + options_.server.host + ":" + std::to_string(options_.server.port);
  std::set<std::string> present;
  for (const auto& [number, uidl] : uidls) {
    present.insert(uidl);
  }
  memory_->keepOnly(mailbox, present);
  std::set<std::string> known = memory_->known(mailbox);
  Poco::Net::POP3ClientSession::MessageInfoVec listing;
  pop3.pop3().listMessages(listing);
  std::map<int, std::uint64_t> sizes;
  for (const auto& info : listing) {
    sizes[info.id] = static_cast<std::uint64_t>(info.size);
  }

  std::vector<FetchedMail> batch;
  std::vector<int> numbers;
  std::uint64_t bytes = 0;
  bool more = false;
  for (const auto& [number, uidl] : uidls) {
    if (known.contains(uidl)) {
      continue;
    }
    if (batch.size() >= options_.fetchBatch || bytes >= options_.fetchBatchBytes) {
      more = true;
      break;
    }
    FetchedMail mail;
    mail.sourceKey = "pop3:" + account.user + "@" + options_.server.host + "/" + uidl;
    mail.reference = "pop3://" + account.user + "@" + options_.server.host + "/;UIDL=" + uidl;
    mail.mailbox = mail.reference;
    mail.size = sizes.contains(number) ? sizes[number] : 0;
    mail.contactPoint = account.contactPoint;
    if (mail.size <= options_.intake.maxMessageBytes) {
      std::ostringstream content;
      pop3.pop3().retrieveMessage(number, content);
      mail.bytes = std::move(content).str();
      bytes += mail.bytes.size();
    }
    batch.push_back(std::move(mail));
    numbers.push_back(number);
  }
  if (batch.empty()) {
    pop3.quit();
    return {0, false};
  }

  std::vector<IntakeOutcome> outcomes = intake_.take(batch);
  std::vector<std::string> remembered;
  std::size_t acknowledged = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i] == IntakeOutcome::Retry) {
      // The server cannot take mail now: the rest waits on the mail server for the next poll.
      more = false;
      continue;
    }
    // A dead letter's mail stays on the server for an operator to look at, remembered so that it
    // is not fetched again.
    if (options_.leaveOnServer || outcomes[i] == IntakeOutcome::Rejected) {
      remembered.push_back(uidls[numbers[i]]);
    } else {
      pop3.pop3().deleteMessage(numbers[i]);
    }
    ++acknowledged;
  }
  memory_->remember(mailbox, remembered);
  pop3.quit();
  return {acknowledged, more};
}

std::string Pop3Source::deliver(std::string_view document) {
  return intake_.deliver(document);
}

void registerPop3Driver(DriverRegistry& registry) {
  registry.add("pop3", [](const DriverContext& context) {
    const ConfigElement& element = elementOf(context);
    Pop3Options options;
    readMailboxSource(context, options, "pop3", 110, 995, false);
    if (element.find("leaveOnServer") != nullptr) {
      options.leaveOnServer = element.boolean("leaveOnServer");
    }
    options.stateFile = element.find("stateFile") != nullptr
                            ? element.path("stateFile")
                            : element.file.parent_path() / (context.section.name + ".uidl.db");
    return std::make_unique<Pop3Source>(std::move(options), context.sink, context.attachments,
                                        context.metrics);
  });
}

} // namespace switchboard::email
