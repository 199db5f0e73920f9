#include "smtp_options.h"

#include <sstream>

namespace switchboard::email {
namespace {

bool looksLikeAddress(const std::string& address) {
  std::size_t at = address.find('@');
  return at != std::string::npos && at > 0 && at + 1 < address.size() &&
         address.find_first_of(" \t\r\n<>,;\"") == std::string::npos;
}

} // namespace

SmtpOptions smtpOptionsOf(const ConfigElement& smtp, const std::string& driverName) {
  SmtpOptions options;
  SmtpServer& server = options.server;
  server.host = smtp.string("host");
  std::string tls = smtp.optionalString("tls").value_or("starttls");
  server.tls = tls == "none"       ? SmtpTls::None
               : tls == "implicit" ? SmtpTls::Implicit
                                   : SmtpTls::StartTls;
  std::uint16_t defaultPort = server.tls == SmtpTls::None       ? 25
                              : server.tls == SmtpTls::Implicit ? 465
                                                                : 587;
  server.port = smtp.find("port") != nullptr
                    ? static_cast<std::uint16_t>(smtp.integer("port", 1, 65535))
                    : defaultPort;
  if (smtp.find("caFile") != nullptr) {
    server.caFile = smtp.path("caFile");
  }
  if (smtp.find("verifyPeer") != nullptr) {
    server.verifyPeer = smtp.boolean("verifyPeer");
  }
  if (smtp.find("timeout") != nullptr) {
    server.timeout = smtp.duration("timeout");
  }
  server.helo = smtp.optionalString("helo").value_or("");
  if (auto user = smtp.optionalString("user")) {
    server.user = *user;
    server.password = smtp.secret("password");
  }
  std::string auth = smtp.optionalString("auth").value_or(server.user.empty() ? "none" : "login");
  server.auth = auth == "plain"   ? SmtpAuth::Plain
                : auth == "login" ? SmtpAuth::Login
                                  : SmtpAuth::None;
  if (server.auth != SmtpAuth::None && server.user.empty()) {
    smtp.fail("auth", "needs a user (and its password)");
  }

  options.from = smtp.string("from");
  if (!looksLikeAddress(options.from)) {
    smtp.fail("from", "'" + options.from + "' is not a mail address");
  }
  options.fromName = smtp.optionalString("fromName");
  if (auto also = smtp.optionalString("alsoFrom")) {
    std::istringstream words(*also);
    for (std::string address; words >> address;) {
      if (!looksLikeAddress(address)) {
        smtp.fail("alsoFrom", "'" + address + "' is not a mail address");
      }
      options.alsoFrom.push_back(address);
    }
  }
  options.outbox = smtp.find("outbox") != nullptr
                       ? smtp.path("outbox")
                       : smtp.file.parent_path() / ("outbox-" + driverName + ".db");
  if (smtp.find("maxAttempts") != nullptr) {
    options.maxAttempts = static_cast<std::uint32_t>(smtp.integer("maxAttempts", 1, 1000));
  }
  auto durationOr = [&](const char* name, std::chrono::milliseconds fallback) {
    return smtp.find(name) != nullptr ? smtp.duration(name) : fallback;
  };
  options.retryHorizon = durationOr("retryHorizon", options.retryHorizon);
  options.retryDelay = durationOr("retryDelay", options.retryDelay);
  options.maxRetryDelay = durationOr("maxRetryDelay", options.maxRetryDelay);
  options.keepSent = durationOr("keepSent", options.keepSent);
  if (options.retryDelay.count() <= 0) {
    smtp.fail("retryDelay", "must be longer than 0");
  }
  if (options.maxRetryDelay < options.retryDelay) {
    smtp.fail("maxRetryDelay", "must not be shorter than retryDelay");
  }
  options.uncertain = smtp.optionalString("uncertain").value_or("hold") == "hold"
                          ? UncertainPolicy::Hold
                          : UncertainPolicy::Resend;

  std::vector<const ConfigElement*> acks = smtp.childrenNamed("autoAcknowledge");
  if (!acks.empty()) {
    const ConfigElement& ack = *acks.front();
    AutoAcknowledge settings;
    settings.subject = ack.optionalString("subject").value_or(settings.subject);
    if (ack.find("interval") != nullptr) {
      settings.interval = ack.duration("interval");
    }
    settings.text = ack.text;
    if (settings.text.empty()) {
      ack.fail("", "needs the acknowledgement's text as its content");
    }
    options.autoAcknowledge = std::move(settings);
  }
  return options;
}

std::optional<SmtpOptions> smtpOptionsOfDriver(const ConfigElement* driver,
                                               const std::string& driverName) {
  if (driver == nullptr) {
    return std::nullopt;
  }
  std::vector<const ConfigElement*> children = driver->childrenNamed("smtp");
  if (children.empty()) {
    return std::nullopt;
  }
  return smtpOptionsOf(*children.front(), driverName);
}

} // namespace switchboard::email
