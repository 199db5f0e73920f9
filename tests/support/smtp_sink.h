#pragma once

// A real SMTP server for tests: tests/support/smtp_sink.py (aiosmtpd) on loopback, started as a
// child process. Each mail it accepts is a file in its folder, with the envelope and session as
// X-Sink-* header lines in front. It stops when the object goes (its standard input closes, and
// it is sent SIGTERM), so a failing test never leaves it running.

#include "tests/support/test_data.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace switchboard::testing {

/// A loopback TCP port that was free a moment ago.
inline std::uint16_t freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::uint16_t port = socket.address().port();
  socket.close();
  return port;
}

struct SmtpSinkOptions {
  std::filesystem::path cert; ///< with key: offer STARTTLS (required), or implicit TLS
  std::filesystem::path key;
  bool implicitTls = false;
  std::string user; ///< with password: AUTH LOGIN and PLAIN
  std::string password;
  double delayRcpt = 0.0; ///< seconds to wait before answering each RCPT
  int failData = 0;       ///< answer 451 to the first N DATA commands
};

class SmtpSink {
 public:
  SmtpSink(std::filesystem::path folder, std::uint16_t port, SmtpSinkOptions options = {})
      : folder_(std::move(folder)), port_(port), options_(std::move(options)) {}
  ~SmtpSink() { stop(); }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  std::uint16_t port() const { return port_; }
  const std::filesystem::path& folder() const { return folder_; }

  /// Starts the sink and returns once it listens; throws when it does not start.
  void start() {
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) {
      throw std::runtime_error("pipe failed");
    }
    std::vector<std::string> args{"/usr/bin/python3",
                                  (sourceDir() / "tests/support/smtp_sink.py").string(),
                                  "--port",
                                  std::to_string(port_),
                                  "--dir",
                                  folder_.string(),
                                  "--delay-rcpt",
                                  std::to_string(options_.delayRcpt),
                                  "--fail-data",
                                  std::to_string(options_.failData)};
    if (!options_.cert.empty()) {
      args.insert(args.end(), {"--cert", options_.cert.string(), "--key", options_.key.string()});
      if (options_.implicitTls) {
        args.emplace_back("--implicit-tls");
      }
    }
    if (!options_.user.empty()) {
      args.insert(args.end(), {"--user", options_.user, "--password", options_.password});
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> argv;
      for (std::string& arg : args) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
      line += c;
    }
    ::close(out[0]);
    if (line != "ready") {
      stop();
      throw std::runtime_error("the SMTP sink did not start: '" + line + "'");
    }
  }

  /// Stops the sink (mail it accepted stays in the folder). Safe to call twice.
  void stop() {
    if (pid_ > 0) {
      ::close(stdin_);
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  /// The mails accepted so far, in order.
  std::vector<std::string> mails() const {
    std::vector<std::filesystem::path> files;
    if (std::filesystem::exists(folder_)) {
      for (const auto& entry : std::filesystem::directory_iterator(folder_)) {
        if (entry.path().extension() == ".eml") {
          files.push_back(entry.path());
        }
      }
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> result;
    for (const auto& file : files) {
      result.push_back(readFile(file));
    }
    return result;
  }

  /// Waits (up to `deadline`) until at least `count` mails arrived; returns them.
  std::vector<std::string> waitFor(std::size_t count,
                                   std::chrono::seconds deadline = std::chrono::seconds(60)) const {
    auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      std::vector<std::string> received = mails();
      if (received.size() >= count || std::chrono::steady_clock::now() > until) {
        return received;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  std::filesystem::path folder_;
  std::uint16_t port_;
  SmtpSinkOptions options_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

/// A self-signed certificate for "localhost" and 127.0.0.1, made with openssl in `folder`:
/// cert.pem and key.pem. Throws when openssl fails.
inline void makeSelfSignedCertificate(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
                        (folder / "key.pem").string() + "' -out '" +
                        (folder / "cert.pem").string() + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("openssl could not make a test certificate");
  }
}

/// The value of header `name` in `mail` (first occurrence, unfolded), or "".
inline std::string headerOf(const std::string& mail, const std::string& name) {
  std::string lowerName = name;
  std::transform(lowerName.begin(), lowerName.end(), lowerName.begin(), ::tolower);
  std::size_t end = mail.find("\r\n\r\n");
  std::string head = mail.substr(0, end);
  std::size_t at = 0;
  while (at < head.size()) {
    std::size_t lineEnd = head.find("\r\n", at);
    if (lineEnd == std::string::npos) {
      lineEnd = head.size();
    }
    std::string line = head.substr(at, lineEnd - at);
    std::size_t colon = line.find(':');
    std::string key = line.substr(0, colon);
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    if (colon != std::string::npos && key == lowerName) {
      std::string value = line.substr(colon + 1);
      std::size_t next = lineEnd + 2;
      while (next < head.size() && (head[next] == ' ' || head[next] == '\t')) {
        std::size_t more = head.find("\r\n", next);
        if (more == std::string::npos) {
          more = head.size();
        }
        value += " " + head.substr(next + 1, more - next - 1);
        next = more + 2;
      }
      std::size_t first = value.find_first_not_of(" \t");
      return first == std::string::npos ? "" : value.substr(first);
    }
    at = lineEnd + 2;
  }
  return "";
}

} // namespace switchboard::testing
