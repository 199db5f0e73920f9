#include "conformance_kit.h"

#include "external_endpoint.h"

#include "switchboard/timestamp.h"
#include "switchboard/units.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/RandomStream.h>
#include <Poco/ThreadPool.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace switchboard::external {
namespace {

constexpr std::string_view kServerId = "sb-kit";
constexpr std::string_view kItemId = "wi-kit-000001";

Timestamp now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string randomKey() {
  Poco::RandomInputStream random;
  std::string key = "kit-";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    auto byte = static_cast<unsigned char>(random.get());
    key += kHex[byte >> 4];
    key += kHex[byte & 15];
  }
  return key;
}

/// The kit's server: answers what the driver submits, and keeps the arrivals for the checks.
/// The first arrival of each sourceKey is answered storeUnavailable, so that the driver must
/// send it again; the second ok, any later one duplicate.
class KitSink final : public MessageSink {
 public:
  std::string submit(std::string_view document) override {
    auto decoded = codec_.decode(document);
    if (!decoded.ok()) {
      throw InvalidDocument(decoded.error().toString());
    }
    const Message& message = *decoded;
    Message response;
    response.id = std::string(kServerId) + "." + std::to_string(++sequence_);
    response.time = now();
    response.sender = {PartyType::Server, std::string(kServerId)};
    response.addressee = message.sender;
    response.correlationId = message.id;
    std::string kind(kindOf(message));
    Response answer{kind, ResponseStatus::Ok, std::nullopt};
    std::lock_guard lock(mutex_);
    const auto* notification = std::get_if<Notification>(&message.payload);
    if (notification != nullptr && std::holds_alternative<WorkItemArrived>(*notification)) {
      std::string key = message.workItems.empty()
                            ? std::string()
                            : message.workItems.front().sourceKey.value_or("");
      int seen = ++seen_[key];
      if (seen == 1) {
        answer = {kind, ResponseStatus::Error,
                  ResponseError{"storeUnavailable", "the conformance kit asks for a retry"}};
      } else {
        if (!message.workItems.empty()) {
          WorkItem committed = message.workItems.front();
          committed.id = std::string(kItemId);
          committed.state = WorkItemState::Queued;
          response.workItems.push_back(std::move(committed));
        }
        answer.status = seen == 2 ? ResponseStatus::Ok : ResponseStatus::Duplicate;
      }
      arrivals_.push_back(message);
    } else if (std::holds_alternative<Command>(message.payload)) {
      answer = {kind, ResponseStatus::Error,
                ResponseError{"invalidMessage", "drivers do not send " + kind}};
    } else {
      others_.push_back(message);
    }
    response.payload = std::move(answer);
    changed_.notify_all();
    return codec_.encode(response);
  }

  /// Waits for the `count`-th arrival (1-based).
  std::optional<Message> arrival(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return arrivals_.size() >= count; })) {
      return std::nullopt;
    }
    return arrivals_[count - 1];
  }

  std::vector<Message> others() {
    std::lock_guard lock(mutex_);
    return others_;
  }

 private:
  MessageCodec codec_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t sequence_ = 0;
  std::map<std::string, int> seen_;
  std::vector<Message> arrivals_;
  std::vector<Message> others_;
};

/// What the driver did wrong on its own, and what it reported.
struct Observations {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> problems;
  std::vector<std::string> reports;
};

class EndpointHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit EndpointHandler(ExternalEndpoint& endpoint) : endpoint_(endpoint) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    try {
      endpoint_.handle(request, response);
    } catch (const std::exception&) {
      // The connection is gone; the checks report what was missed.
    }
  }

 private:
  ExternalEndpoint& endpoint_;
};

class EndpointFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit EndpointFactory(ExternalEndpoint& endpoint) : endpoint_(endpoint) {}
  Poco::Net::HTTPRequestHandler*
  createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new EndpointHandler(endpoint_);
  }

 private:
  ExternalEndpoint& endpoint_;
};

/// A child process (the driver, or the contact command), stopped on destruction.
class Child {
 public:
  Child(const std::vector<std::string>& command, const std::map<std::string, std::string>& env) {
    // Everything the child needs is built before fork(): after it, in a process with threads,
    // only async-signal-safe calls are allowed.
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string_view text(*entry);
      if (!env.contains(std::string(text.substr(0, text.find('='))))) {
        environment.emplace_back(text);
      }
    }
    for (const auto& [name, value] : env) {
      environment.push_back(name + "=" + value);
    }
    std::vector<char*> argv;
    for (const auto& argument : command) {
      argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : environment) {
      envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
      throw std::runtime_error(std::string("cannot start ") + command.front() + ": " +
                               std::strerror(errno));
    }
    if (pid_ == 0) {
      // The driver's output goes to the kit's standard error, beside the kit's progress.
      ::dup2(STDERR_FILENO, STDOUT_FILENO);
      ::execvpe(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Waits for the child to end; its exit status, or 128 + signal.
  int wait() {
    if (pid_ <= 0) {
      return status_;
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }

  /// SIGTERM, then SIGKILL when it has not ended within five seconds.
  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    wait();
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

/// The kit's run: the server side, the driver, and the checks in order.
class Kit {
 public:
  Kit(const KitOptions& options, std::ostream& log)
      : options_(options), log_(log), logger_(LogLevel::Warn, LogFormat::Text, log) {
    if (options_.key.empty()) {
      options_.key = randomKey();
    }
    ExternalOptions driverOptions;
    driverOptions.name = options_.name;
    driverOptions.serverId = std::string(kServerId);
    driverOptions.key = options_.key;
    driverOptions.commandTimeout = options_.timeout;
    driverOptions.heartbeatTimeout =
        std::max(options_.timeout * 2, std::chrono::milliseconds(60000));
    ExternalObserver observer;
    observer.badDocument = [this](const std::string& reason) {
      note("sent a document that is not a message: " + reason);
    };
    observer.refused = [this](const std::string& code, const std::string& text) {
      note("was refused " + code + ": " + text);
    };
    observer.reportedError = [this](const std::string& text) {
      std::lock_guard lock(observations_.mutex);
      observations_.reports.push_back(text);
      observations_.changed.notify_all();
    };
    driver_ = std::make_unique<ExternalDriver>(driverOptions, sink_, logger_, observer);
    endpoint_ = std::make_unique<ExternalEndpoint>(logger_);
  }

  ~Kit() {
    child_.reset();
    endpoint_->shutdown();
    driver_->stop();
    if (server_) {
      server_->stopAll(true);
    }
    if (pool_) {
      pool_->joinAll();
    }
  }

  std::vector<KitCheck> run() {
    listen();
    driver_->start();
    endpoint_->attach(*driver_);
    std::string url = "http://" + options_.address + ":" + std::to_string(port_);
    log_ << "switchboard driver check: expecting driver '" << options_.name << "' at " << url
         << "/v1/drivers/" << options_.name << "/\n"
         << std::flush;
    env_ = {{"SWITCHBOARD_URL", url},
            {"SWITCHBOARD_DRIVER", options_.name},
            {"SWITCHBOARD_KEY", options_.key},
            {"SWITCHBOARD_SERVER_ID", std::string(kServerId)}};
    if (!options_.driverCommand.empty()) {
      child_ = std::make_unique<Child>(options_.driverCommand, env_);
    } else {
      // The kit's key is good for this run only: showing it is what lets the driver in.
      log_ << "start the driver with SWITCHBOARD_URL=" << url
           << " SWITCHBOARD_DRIVER=" << options_.name << " SWITCHBOARD_KEY=" << options_.key
           << " SWITCHBOARD_SERVER_ID=" << kServerId << "\n"
           << std::flush;
    }

    std::vector<KitCheck> checks;
    checks.push_back(registration());
    if (!checks.back().passed) {
      for (std::string name :
           {"ping from the server (7.2)", "a later minor version (2.4)", "arrival (7.3)",
            "arrival sent again after an error (7.3, 6.4)", "reply (7.6)", "reply sent again (6.4)",
            "command for another medium (channel_driver.h)", "document that is not a message (8)",
            "every document the driver sent (2, 9)"}) {
        checks.push_back({name, false, "not run: the driver did not register"});
      }
      return checks;
    }
    checks.push_back(ping("ping from the server (7.2)", "1.0"));
    checks.push_back(ping("a later minor version (2.4)", "1.9"));
    checks.push_back(arrival());
    checks.push_back(retriedArrival());
    checks.push_back(reply("reply (7.6)", ResponseStatus::Ok));
    checks.push_back(reply("reply sent again (6.4)", ResponseStatus::Duplicate));
    checks.push_back(otherMedium());
    checks.push_back(malformed());
    checks.push_back(everythingValid());
    return checks;
  }

 private:
  void note(const std::string& problem) {
    std::lock_guard lock(observations_.mutex);
    observations_.problems.push_back(problem);
  }

  std::string problems() {
    std::lock_guard lock(observations_.mutex);
    std::string text;
    for (const auto& problem : observations_.problems) {
      text += (text.empty() ? "the driver " : "; ") + problem;
    }
    return text;
  }

  void listen() {
    Poco::Net::ServerSocket socket;
    try {
      socket.bind(Poco::Net::SocketAddress(options_.address, options_.port), true, false);
      socket.listen(64);
    } catch (const Poco::Exception& e) {
      throw std::runtime_error("the kit cannot listen on " + options_.address + ":" +
                               std::to_string(options_.port) + ": " + e.displayText());
    }
    port_ = socket.address().port();
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(8);
    params->setKeepAlive(true);
    pool_ = std::make_unique<Poco::ThreadPool>(2, 8);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new EndpointFactory(*endpoint_), *pool_,
                                                      socket, params);
    server_->start();
  }

  Message command(Payload payload, std::string version = "1.0") {
    Message message;
    message.version = std::move(version);
    message.id = std::string(kServerId) + ".cmd." + std::to_string(++sequence_);
    message.time = now();
    message.sender = {PartyType::Server, std::string(kServerId)};
    message.addressee = {PartyType::Driver, options_.name};
    message.payload = std::move(payload);
    return message;
  }

  /// Sends `message` and checks the envelope of the answer; the answer's payload, or nothing
  /// with `problem` set.
  std::optional<Response> exchange(const Message& message, std::string& problem) {
    std::string answer = driver_->deliver(codec_.encode(message));
    auto decoded = codec_.decode(answer);
    if (!decoded.ok()) {
      problem = "the answer is not a valid message: " + decoded.error().toString();
      return std::nullopt;
    }
    const auto* response = std::get_if<Response>(&decoded->payload);
    if (response == nullptr) {
      problem = "the answer is a " + std::string(categoryOf(*decoded)) + ", not a response";
      return std::nullopt;
    }
    if (response->error && (response->error->code == "driverUnavailable" ||
                            response->error->code == "driverTimeout")) {
      problem = "no answer: " + response->error->text;
      return std::nullopt;
    }
    if (decoded->correlationId != message.id) {
      problem = "the response's correlationId is '" + decoded->correlationId.value_or("") +
                "', not the id of the message answered, '" + message.id + "'";
      return std::nullopt;
    }
    std::string kind(kindOf(message));
    if (response->kind != kind) {
      problem = "the response's kind is '" + response->kind + "', not '" + kind + "'";
      return std::nullopt;
    }
    if (decoded->sender != Party{PartyType::Driver, options_.name} ||
        decoded->addressee != Party{PartyType::Server, std::string(kServerId)}) {
      problem = "the response must come from driver '" + options_.name + "' to server '" +
                std::string(kServerId) + "'";
      return std::nullopt;
    }
    return *response;
  }

  static std::string statusText(const Response& response) {
    std::string text(toString(response.status));
    if (response.error) {
      text += " (" + response.error->code + ": " + response.error->text + ")";
    }
    return text;
  }

  KitCheck registration() {
    KitCheck check{"registration (7.1)", false, {}};
    if (!driver_->waitRegistered(options_.timeout)) {
      std::string seen = problems();
      check.detail = "no registerDriver answered ok within " +
                     std::to_string(options_.timeout.count()) + " ms" +
                     (seen.empty() ? "" : ": " + seen);
      return check;
    }
    std::string media;
    for (const auto& medium : driver_->registeredMedia()) {
      media += (media.empty() ? "" : " ") + medium;
    }
    check.passed = true;
    check.detail = "registered, media: " + media;
    return check;
  }

  KitCheck ping(std::string name, std::string version) {
    KitCheck check{std::move(name), false, {}};
    Message message = command(Request{Ping{}}, version);
    std::string problem;
    auto response = exchange(message, problem);
    if (!response) {
      check.detail = problem;
    } else if (response->status != ResponseStatus::Ok) {
      check.detail =
          "a ping (version " + version + ") must be answered ok, not " + statusText(*response);
    } else {
      check.passed = true;
      check.detail = "answered ok to a version " + version + " ping";
    }
    return check;
  }

  void bringContact() {
    if (options_.contactCommand.empty()) {
      log_ << "waiting for the driver to bring a contact by itself\n" << std::flush;
      return;
    }
    Child contact({"/bin/sh", "-c", options_.contactCommand}, env_);
    int status = contact.wait();
    if (status != 0) {
      log_ << "the contact command ended with status " << status << "\n" << std::flush;
    }
  }

  KitCheck arrival() {
    KitCheck check{"arrival (7.3)", false, {}};
    bringContact();
    auto message = sink_.arrival(1, options_.timeout);
    if (!message) {
      check.detail = "no workItemArrived within " + std::to_string(options_.timeout.count()) +
                     " ms" + (problems().empty() ? "" : ": " + problems());
      return check;
    }
    if (message->workItems.size() != 1) {
      check.detail = "an arrival carries exactly one workItem, not " +
                     std::to_string(message->workItems.size());
      return check;
    }
    const WorkItem& item = message->workItems.front();
    auto media = driver_->registeredMedia();
    if (item.id) {
      check.detail = "the workItem of an arrival has no id (the server assigns it)";
    } else if (!item.sourceKey) {
      check.detail = "the workItem of an arrival needs a sourceKey";
    } else if (std::find(media.begin(), media.end(), item.medium) == media.end()) {
      check.detail = "medium '" + item.medium + "' was not registered";
    } else if (!item.created) {
      check.detail = "the workItem should say when the contact reached the channel (created)";
    } else if (!item.customer || item.customer->addresses.empty()) {
      check.detail = "the workItem should carry the customer's address the contact came from";
    } else if (item.state || item.queueId || item.agentId || item.thread || !item.history.empty()) {
      check.detail = "state, queue, agent, thread and history are the server's to set";
    } else {
      check.passed = true;
      check.detail = "sourceKey " + *item.sourceKey + ", answered storeUnavailable on purpose";
      customer_ = item.customer->addresses.front();
      sourceKey_ = *item.sourceKey;
    }
    return check;
  }

  KitCheck retriedArrival() {
    KitCheck check{"arrival sent again after an error (7.3, 6.4)", false, {}};
    if (sourceKey_.empty()) {
      check.detail = "not run: no valid first arrival";
      return check;
    }
    auto message = sink_.arrival(2, options_.timeout);
    if (!message) {
      check.detail = "the arrival answered storeUnavailable was not sent again within " +
                     std::to_string(options_.timeout.count()) + " ms";
    } else if (message->workItems.size() != 1 ||
               message->workItems.front().sourceKey != sourceKey_) {
      check.detail = "the next arrival should be the same contact again, with sourceKey " +
                     sourceKey_ + " (the first may not be acknowledged upstream)";
    } else {
      check.passed = true;
      check.detail = "sent again with the same sourceKey, answered ok as " + std::string(kItemId);
    }
    return check;
  }

  KitCheck reply(std::string name, ResponseStatus expected) {
    KitCheck check{std::move(name), false, {}};
    SendReply reply;
    reply.workItemId = std::string(kItemId);
    reply.replyId = "r-kit-1";
    reply.agentId = "a-kit";
    if (!customer_.value.empty()) {
      reply.to.push_back(customer_);
    }
    reply.body = Body{"text/plain", "Conformance kit reply.\nSecond line."};
    std::string problem;
    auto response = exchange(command(Command{reply}), problem);
    if (!response) {
      check.detail = problem;
    } else if (response->status != expected) {
      check.detail = "expected " + std::string(toString(expected)) + " for replyId r-kit-1, got " +
                     statusText(*response);
    } else {
      check.passed = true;
      check.detail = "answered " + std::string(toString(expected));
    }
    return check;
  }

  KitCheck otherMedium() {
    KitCheck check{"command for another medium (channel_driver.h)", false, {}};
    auto media = driver_->registeredMedia();
    bool voice = std::find(media.begin(), media.end(), "voice") != media.end();
    RedirectCall redirect{std::string(kItemId), "sip:2117@pbx.example", "conformance kit"};
    std::string problem;
    auto response = exchange(command(Command{redirect}), problem);
    if (!response) {
      check.detail = problem;
    } else if (!voice && response->status != ResponseStatus::Error) {
      check.detail = "a driver without voice must refuse redirectCall with status error, not " +
                     statusText(*response);
    } else {
      check.passed = true;
      check.detail = "answered " + statusText(*response);
    }
    return check;
  }

  KitCheck malformed() {
    KitCheck check{"document that is not a message (8)", false, {}};
    std::size_t before = 0;
    {
      std::lock_guard lock(observations_.mutex);
      before = observations_.reports.size();
    }
    std::string broken =
        "<?xml version=\"1.0\"?>\n<message xmlns=\"urn:switchboard:message:v1\" version=\"1.0\" "
        "id=\"sb-kit.broken\" time=\"2026-11-21T09:00:00Z\"><sender type=\"server\"";
    if (!driver_->push(broken)) {
      check.detail = "the driver is no longer connected";
      return check;
    }
    std::unique_lock lock(observations_.mutex);
    bool reported = observations_.changed.wait_for(
        lock, options_.timeout, [&] { return observations_.reports.size() > before; });
    std::string report = reported ? observations_.reports[before] : std::string();
    lock.unlock();
    if (!reported) {
      check.detail = "the driver did not report the unreadable document (POST .../errors) within " +
                     std::to_string(options_.timeout.count()) + " ms";
      return check;
    }
    KitCheck after = ping("after", "1.0");
    if (!after.passed) {
      check.detail = "reported it, but then failed a ping: " + after.detail;
      return check;
    }
    check.passed = true;
    check.detail = "reported \"" + report.substr(0, 100) + "\" and still answers";
    return check;
  }

  KitCheck everythingValid() {
    KitCheck check{"every document the driver sent (2, 9)", false, {}};
    std::string seen = problems();
    const auto& counters = driver_->counters();
    if (!seen.empty()) {
      check.detail = seen;
    } else {
      check.passed = true;
      check.detail = std::to_string(counters.received.load()) +
                     " documents, all valid messages from driver '" + options_.name + "'";
    }
    return check;
  }

  KitOptions options_;
  std::ostream& log_;
  Logger logger_;
  MessageCodec codec_;
  KitSink sink_;
  Observations observations_;
  std::unique_ptr<ExternalDriver> driver_;
  std::unique_ptr<ExternalEndpoint> endpoint_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::uint16_t port_ = 0;
  std::map<std::string, std::string> env_;
  std::unique_ptr<Child> child_;
  std::uint64_t sequence_ = 0;
  Address customer_;
  std::string sourceKey_;
};

constexpr std::string_view kUsage =
    R"(Usage: switchboard driver check [options] [-- COMMAND [ARGUMENT...]]

Plays the server's side of docs/message.md for an external driver and reports, per interaction,
PASS or FAIL with the reason (docs/external-drivers.md). COMMAND starts the driver; it finds the
kit in the environment: SWITCHBOARD_URL, SWITCHBOARD_DRIVER, SWITCHBOARD_KEY,
SWITCHBOARD_SERVER_ID. Without COMMAND, the kit waits for a driver to connect.

Options:
  --name NAME        the driver name the kit expects (default kit-driver)
  --key KEY          the key the kit accepts (default: a random one, in SWITCHBOARD_KEY)
  --port N           listen on 127.0.0.1:N (default: any free port)
  --timeout D        how long each step may take (default 30s)
  --contact CMD      a shell command that makes one contact arrive at the driver

Exit status: 0 when every interaction passed, 1 when any failed, 2 for a wrong command line.
)";

} // namespace

std::vector<KitCheck> runConformanceKit(const KitOptions& options, std::ostream& log) {
  Kit kit(options, log);
  return kit.run();
}

int driverCheckCommand(std::span<const std::string_view> arguments, std::ostream& out,
                       std::ostream& err) {
  KitOptions options;
  try {
    for (std::size_t i = 0; i < arguments.size(); ++i) {
      std::string_view argument = arguments[i];
      if (argument == "--") {
        options.driverCommand.assign(arguments.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                     arguments.end());
        break;
      }
      if (argument == "--help" || argument == "-h") {
        out << kUsage;
        return 0;
      }
      if (i + 1 == arguments.size()) {
        err << "switchboard: " << argument << " needs a value\n" << kUsage;
        return 2;
      }
      std::string value(arguments[++i]);
      if (argument == "--name") {
        options.name = value;
      } else if (argument == "--key") {
        options.key = value;
      } else if (argument == "--contact") {
        options.contactCommand = value;
      } else if (argument == "--port") {
        unsigned long port = std::stoul(value);
        if (port > 65535) {
          throw std::invalid_argument(value);
        }
        options.port = static_cast<std::uint16_t>(port);
      } else if (argument == "--timeout") {
        auto parsed = parseDuration(value);
        if (!parsed || parsed->count() < 1000) {
          err << "switchboard: --timeout needs a duration of at least 1ms (30s, 2m)\n";
          return 2;
        }
        options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
      } else {
        err << "switchboard: unknown option " << argument << "\n" << kUsage;
        return 2;
      }
    }
  } catch (const std::exception&) {
    err << "switchboard: a wrong number in the options\n" << kUsage;
    return 2;
  }
  try {
    auto checks = runConformanceKit(options, err);
    std::size_t passed = 0;
    for (const auto& check : checks) {
      out << (check.passed ? "PASS  " : "FAIL  ") << check.name << ": " << check.detail << '\n';
      passed += check.passed ? 1 : 0;
    }
    out << passed << " of " << checks.size() << " interactions passed\n" << std::flush;
    return passed == checks.size() ? 0 : 1;
  } catch (const std::exception& e) {
    err << "switchboard: " << e.what() << '\n';
    return 1;
  }
}

} // namespace switchboard::external
