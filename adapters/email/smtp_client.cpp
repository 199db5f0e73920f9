#include "smtp_client.h"

#include <Poco/Net/AcceptCertificateHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureSMTPClientSession.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <Poco/Base64Encoder.h>

#include <mutex>
#include <sstream>

namespace switchboard::email {
namespace {

using Poco::Net::SMTPClientSession;

// Poco keeps the session's socket to itself; the DATA phase written here needs it.
class Session final : public Poco::Net::SecureSMTPClientSession {
 public:
  using Poco::Net::SecureSMTPClientSession::SecureSMTPClientSession;
  using Poco::Net::SMTPClientSession::socket;
};

bool positive(int status) {
  return status / 100 == 2;
}
bool intermediate(int status) {
  return status / 100 == 3;
}
bool permanent(int status) {
  return status / 100 == 5;
}

// Thrown inside send() for an answer that ends the session; carries how it ends.
struct Refused {
  SmtpResult::Kind kind;
  std::string reply;
};

void initialiseTls() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    // Without a handler of its own, Poco asks the application's configuration what to do with a
    // certificate that fails verification; the answer here is always: refuse it.
    Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject =
        new Poco::Net::RejectCertificateHandler(false);
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                               Poco::Net::Context::VERIFY_RELAXED, 9, true);
    Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
  });
}

Poco::Net::Context::Ptr tlsContext(const SmtpServer& server) {
  initialiseTls();
  auto mode =
      server.verifyPeer ? Poco::Net::Context::VERIFY_RELAXED : Poco::Net::Context::VERIFY_NONE;
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", server.caFile.string(),
                                mode, 9, server.caFile.empty());
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) {
    text.pop_back();
  }
  return text;
}

void expect(Session& session, const std::string& command, std::string_view what) {
  std::string response;
  int status = session.sendCommand(command, response);
  if (positive(status) || (command == "DATA" && intermediate(status))) {
    return;
  }
  throw Refused{permanent(status) ? SmtpResult::Kind::Permanent : SmtpResult::Kind::Transient,
                std::string(what) + ": " + trimmed(response)};
}

std::string base64(std::string_view text) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(text.data(), static_cast<std::streamsize>(text.size()));
  encoder.close();
  return out.str();
}

// AUTH LOGIN and PLAIN are written here: Poco's LOGIN looks for the words "Username:" and
// "Password:" in the relay's challenges and, when a relay words them otherwise, returns without
// having logged in at all. The challenges' words carry no meaning (RFC 4616, and LOGIN's
// de facto rules): the user name answers the first, the password the second.
void authenticate(Session& session, const SmtpServer& server) {
  std::string response;
  int status = 0;
  if (server.auth == SmtpAuth::Plain) {
    std::string credentials = std::string(1, '\0') + server.user + '\0' + server.password.reveal();
    status = session.sendCommand("AUTH PLAIN " + base64(credentials), response);
  } else {
    status = session.sendCommand("AUTH LOGIN", response);
    if (intermediate(status)) {
      status = session.sendCommand(base64(server.user), response);
    }
    if (intermediate(status)) {
      status = session.sendCommand(base64(server.password.reveal()), response);
    }
  }
  if (!positive(status)) {
    // Refused credentials may be corrected while the mail waits: worth another attempt.
    throw Refused{SmtpResult::Kind::Transient, "login refused: " + trimmed(response)};
  }
}

void sendAll(Poco::Net::StreamSocket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    int sent = socket.sendBytes(bytes.data(),
                                static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 16)));
    if (sent <= 0) {
      throw Poco::Net::NetException("the relay closed the connection during DATA");
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

} // namespace

std::string dotStuff(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 64);
  bool lineStart = true;
  for (char c : bytes) {
    if (lineStart && c == '.') {
      out += '.';
    }
    out += c;
    lineStart = c == '\n';
  }
  return out;
}

SmtpClient::SmtpClient(SmtpServer server) : server_(std::move(server)) {}

SmtpResult SmtpClient::send(const std::string& envelopeFrom,
                            const std::vector<std::string>& recipients, std::string_view bytes,
                            const std::function<void()>& beforeCommit,
                            const std::function<void(const SmtpResult&)>& onAnswer) {
  SmtpResult result;
  try {
    Poco::Timespan timeout(
        std::chrono::duration_cast<std::chrono::microseconds>(server_.timeout).count());
    Poco::Net::SocketAddress address(server_.host, server_.port);
    std::unique_ptr<Session> session;
    if (server_.tls == SmtpTls::Implicit) {
      Poco::Net::SecureStreamSocket socket(tlsContext(server_));
      socket.setPeerHostName(server_.host);
      socket.connect(address, timeout);
      session = std::make_unique<Session>(socket);
    } else {
      Poco::Net::StreamSocket socket;
      socket.connect(address, timeout);
      session = std::make_unique<Session>(socket);
    }
    session->setTimeout(timeout);
    std::string helo = server_.helo.empty() ? Poco::Net::DNS::hostName() : server_.helo;
    session->login(helo);
    if (server_.tls == SmtpTls::StartTls) {
      if (!session->startTLS(tlsContext(server_))) {
        throw Refused{SmtpResult::Kind::Transient, "the relay does not offer STARTTLS"};
      }
    }
    if (server_.tls == SmtpTls::StartTls) {
      session->login(helo); // EHLO again: the session starts afresh after STARTTLS
    }
    if (server_.auth != SmtpAuth::None) {
      authenticate(*session, server_);
    }
    expect(*session, "MAIL FROM:<" + envelopeFrom + ">", "sender refused");
    for (const std::string& recipient : recipients) {
      expect(*session, "RCPT TO:<" + recipient + ">", "recipient " + recipient + " refused");
    }
    expect(*session, "DATA", "DATA refused");
    std::string content = dotStuff(bytes);
    if (!content.ends_with("\r\n")) {
      content += "\r\n";
    }
    sendAll(session->socket(), content);
    if (beforeCommit) {
      beforeCommit();
    }
    result.committed = true;
    std::string response;
    int status = session->sendCommand(".", response);
    result.answered = true;
    result.reply = trimmed(response);
    if (positive(status)) {
      result.kind = SmtpResult::Kind::Sent;
    } else {
      result.kind = permanent(status) ? SmtpResult::Kind::Permanent : SmtpResult::Kind::Transient;
      result.reply = "message refused: " + result.reply;
    }
    if (onAnswer) {
      onAnswer(result);
    }
    try {
      // The mail's fate is decided; a relay slow to answer QUIT (or to close TLS) need not hold
      // the sender for a whole timeout.
      session->setTimeout(Poco::Timespan(2, 0));
      session->close();
    } catch (const Poco::Exception&) {
      // The mail's fate was decided by the answer to "."; a failed QUIT changes nothing.
    }
  } catch (const Refused& refused) {
    result.kind = refused.kind;
    result.reply = refused.reply;
  } catch (const Poco::Net::SMTPException& e) {
    // Poco throws this for a refused EHLO, STARTTLS or login; with the wrong password fixed the
    // next attempt may pass, so it is worth trying again until the retry horizon.
    result.kind = SmtpResult::Kind::Transient;
    result.reply = e.displayText();
  } catch (const Poco::Exception& e) {
    result.kind = SmtpResult::Kind::Transient;
    result.reply = e.displayText();
  }
  return result;
}

} // namespace switchboard::email
