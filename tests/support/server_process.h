#pragma once

// Runs the real `switchboard serve` as a child process for end-to-end tests: writes its
// configuration into a temporary folder, starts it, learns its port from its first line of
// output, talks to it over HTTP, and stops it gently (SIGTERM) or not (SIGKILL).

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace switchboard::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  Poco::JSON::Object::Ptr json() const {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  }
  Poco::JSON::Array::Ptr jsonArray() const {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
  }
};

class ServerProcess {
 public:
  /// `config` is the configuration's text; "@DIR@" in it becomes the test's temporary folder.
  explicit ServerProcess(const std::string& config) {
    dir_ = std::filesystem::temp_directory_path() /
           ("sb-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "maildir" / "new");
    std::string text = config;
    for (std::size_t at; (at = text.find("@DIR@")) != std::string::npos;) {
      text.replace(at, 5, dir_.string());
    }
    std::ofstream(dir_ / "switchboard.xml") << text;
  }

  ~ServerProcess() {
    kill(SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  const std::filesystem::path& dir() const { return dir_; }
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }
  /// The server's process id while it runs.
  pid_t pid() const { return pid_; }

  /// Starts the server and waits until it listens; throws with its output when it does not.
  void start() {
    int out[2];
    if (::pipe(out) != 0) {
      throw std::runtime_error("pipe failed");
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      int log = ::open((dir_ / "server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, STDERR_FILENO);
      ::close(out[0]);
      std::string config = (dir_ / "switchboard.xml").string();
      ::execl(SWITCHBOARD_BINARY, SWITCHBOARD_BINARY, "serve", "--config", config.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') {
      line += c;
    }
    ::close(out[0]);
    std::size_t colon = line.rfind(':');
    if (line.find("listening on") == std::string::npos || colon == std::string::npos) {
      kill(SIGKILL);
      throw std::runtime_error("server did not start: " + line + "\n" + log());
    }
    port_ = std::stoi(line.substr(colon + 1));
  }

  /// Sends `signal` and waits for the process; returns its exit status (or 128 + signal).
  int kill(int signal) {
    if (pid_ <= 0) {
      return -1;
    }
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string log() const {
    std::ifstream in(dir_ / "server.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  HttpReply request(const std::string& method, const std::string& path,
                    const std::string& token = "", const std::string& body = "",
                    const std::string& contentType = "application/json") const {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) {
      request.set("Authorization", "Bearer " + token);
    }
    if (!body.empty() || method == "POST" || method == "PUT") {
      request.setContentType(contentType);
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpReply reply;
    reply.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, reply.body);
    return reply;
  }

  /// Delivers a mail into the Maildir the way a mail server does (tmp/, then rename to new/).
  void deliverMail(const std::string& name, const std::string& content) const {
    std::filesystem::create_directories(dir_ / "maildir" / "tmp");
    std::filesystem::path temporary = dir_ / "maildir" / "tmp" / name;
    std::ofstream(temporary, std::ios::binary) << content;
    std::filesystem::rename(temporary, dir_ / "maildir" / "new" / name);
  }

 private:
  static int& counter() {
    static int value = 0;
    return value;
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

/// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

} // namespace switchboard::testing
