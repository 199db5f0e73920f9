// Push latency: from a work item's commit to the receipt of its offer by the agent's WebSocket
// client, at 1,000 items/s with 2,000 agents connected; beside it, in the same run, the loopback
// TCP round trip as the reference. Also the server's memory per connected agent.
//
// The server runs in this process (store, routing, REST/WebSocket listener, agent push: what
// `switchboard serve` wires, on an SQLite store in a temporary folder). The 2,000 clients run in
// a child process forked before any thread starts, so that the server's memory is measured
// alone and the clients' reading does not share the server's threads. A store wrapper notes the
// monotonic time each arrival's commit returns in memory shared with the child; the child notes
// when the offer's frame is complete. CLOCK_MONOTONIC is one clock for both processes.
//
// Usage: bench_push [AGENTS] [ITEMS_PER_SECOND] [SECONDS]   (defaults 2000 1000 10)

#include "switchboard/agent_push.h"
#include "switchboard/communication_server.h"
#include "switchboard/config.h"
#include "switchboard/http_api.h"
#include "switchboard/log.h"
#include "switchboard/metrics.h"
#include "switchboard/store.h"

#include <Poco/Buffer.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace switchboard;

constexpr const char* kKey = "bench-integrator-key-0123456789";

std::int64_t monoNanos() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// What parent and child share: commit times by item number, and the child's results.
struct Shared {
  static constexpr std::size_t kMaxItems = 200000;
  std::atomic<std::int64_t> committed[kMaxItems];
  std::atomic<int> connected;
  std::atomic<int> clientFailed;
  std::atomic<std::int64_t> received;
  std::atomic<std::int64_t> p50;
  std::atomic<std::int64_t> p99;
  std::atomic<std::int64_t> max;
};

std::size_t itemNumber(std::string_view id) {
  std::size_t at = id.find_first_of("0123456789");
  return at == std::string_view::npos ? 0 : std::strtoull(id.data() + at, nullptr, 10);
}

// Notes when each arrival's commit returns; everything else goes straight to the real store.
class TimedStore final : public Store {
 public:
  TimedStore(std::unique_ptr<Store> inner, Shared& shared)
      : inner_(std::move(inner)), shared_(shared) {}
  ArrivalOutcome commitArrival(const NewWorkItem& arrival) override {
    ArrivalOutcome outcome = inner_->commitArrival(arrival);
    std::size_t n = itemNumber(outcome.workItemId);
    if (n < Shared::kMaxItems) {
      shared_.committed[n].store(monoNanos(), std::memory_order_release);
    }
    return outcome;
  }
  std::shared_future<void> recordChange(const WorkItemChange& change) override {
    return inner_->recordChange(change);
  }
  std::shared_future<void> saveAgent(const StoredAgent& agent) override {
    return inner_->saveAgent(agent);
  }
  std::int64_t recordDeadLetter(const DeadLetter& letter) override {
    return inner_->recordDeadLetter(letter);
  }
  void saveResponse(const StoredResponse& response) override { inner_->saveResponse(response); }
  void flush() override { inner_->flush(); }
  std::optional<StoredWorkItem> workItem(const std::string& id, bool withHistory) override {
    return inner_->workItem(id, withHistory);
  }
  std::vector<StoredWorkItem> workItems(const WorkItemFilter& filter) override {
    return inner_->workItems(filter);
  }
  std::vector<StoredWorkItem> openWorkItems() override { return inner_->openWorkItems(); }
  std::vector<StoredAgent> agents() override { return inner_->agents(); }
  std::vector<DeadLetter> deadLetters(std::size_t limit) override {
    return inner_->deadLetters(limit);
  }
  std::optional<StoredResponse> response(const std::string& key) override {
    return inner_->response(key);
  }
  std::vector<StoreEvent> events(StoreEvent::Subject subject, std::int64_t afterId,
                                 std::size_t limit) override {
    return inner_->events(subject, afterId, limit);
  }
  std::int64_t eventCursorAt(StoreEvent::Subject subject, Timestamp time) override {
    return inner_->eventCursorAt(subject, time);
  }
  std::optional<std::int64_t> cursor(const std::string& name) override {
    return inner_->cursor(name);
  }
  std::shared_future<void> saveCursor(const std::string& name, std::int64_t value) override {
    return inner_->saveCursor(name, value);
  }
  StoreStats stats() const override { return inner_->stats(); }

 private:
  std::unique_ptr<Store> inner_;
  Shared& shared_;
};

std::int64_t percentile(std::vector<std::int64_t>& values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::size_t at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
  return values[at];
}

std::int64_t rssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) {
      return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
    }
  }
  return 0;
}

// ------------------------------------------------------------------------------- the clients

// Runs in the child: opens one stream per agent, then reads every socket at once and notes the
// latency of each offer until `items` have come or the deadline passes.
int runClients(Shared& shared, int port, int agents, std::int64_t items, int readyFd,
               int echoListener) {
  std::vector<std::unique_ptr<Poco::Net::WebSocket>> sockets;
  try {
    for (int i = 0; i < agents; ++i) {
      Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET,
                                     "/v1/agents/a-" + std::to_string(i) + "/stream",
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.set("Authorization", std::string("Bearer ") + kKey);
      Poco::Net::HTTPResponse response;
      auto socket = std::make_unique<Poco::Net::WebSocket>(session, request, response);
      socket->setReceiveTimeout(Poco::Timespan(5, 0));
      socket->setNoDelay(true);
      sockets.push_back(std::move(socket));
      shared.connected.store(i + 1);
    }
  } catch (const Poco::Exception& e) {
    std::cerr << "client: " << e.displayText() << '\n';
    shared.clientFailed = 1;
    char byte = 0;
    [[maybe_unused]] auto w = ::write(readyFd, &byte, 1);
    return 1;
  }
  char byte = 1;
  [[maybe_unused]] auto w = ::write(readyFd, &byte, 1);

  int epoll = ::epoll_create1(0);
  // The reference's far end: echoes on the same loop, in the same process, as the pushes come.
  int echo = ::accept(echoListener, nullptr, nullptr);
  {
    int one = 1;
    ::setsockopt(echo, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, echo, &event);
  }
  for (auto& socket : sockets) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = socket.get();
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, socket->impl()->sockfd(), &event);
  }
  std::vector<std::int64_t> latencies;
  latencies.reserve(static_cast<std::size_t>(items));
  Poco::Buffer<char> buffer(0);
  std::int64_t deadline = 0;
  epoll_event events[256];
  while (static_cast<std::int64_t>(latencies.size()) < items) {
    int n = ::epoll_wait(epoll, events, 256, 1000);
    std::int64_t now = monoNanos();
    if (n <= 0) {
      // The producer is done once the parent says how many came: wait at most 20 s for stragglers.
      if (deadline == 0) {
        deadline = now + 20'000'000'000LL;
      } else if (now > deadline) {
        break;
      }
      continue;
    }
    deadline = 0;
    for (int i = 0; i < n; ++i) {
      auto* socket = static_cast<Poco::Net::WebSocket*>(events[i].data.ptr);
      if (socket == nullptr) {
        char data[4096];
        ssize_t got = ::recv(echo, data, sizeof data, 0);
        if (got <= 0) {
          ::epoll_ctl(epoll, EPOLL_CTL_DEL, echo, nullptr);
        } else {
          [[maybe_unused]] auto sent = ::send(echo, data, static_cast<std::size_t>(got), 0);
        }
        continue;
      }
      buffer.resize(0);
      int flags = 0;
      int got = 0;
      try {
        got = socket->receiveFrame(buffer, flags);
      } catch (const Poco::Exception&) {
        ::epoll_ctl(epoll, EPOLL_CTL_DEL, socket->impl()->sockfd(), nullptr);
        continue;
      }
      std::int64_t at = monoNanos();
      int opcode = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
      if (got == 0 && flags == 0) {
        ::epoll_ctl(epoll, EPOLL_CTL_DEL, socket->impl()->sockfd(), nullptr);
        continue;
      }
      if (opcode == Poco::Net::WebSocket::FRAME_OP_PING) {
        socket->sendFrame(buffer.begin(), static_cast<int>(buffer.size()),
                          static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                              Poco::Net::WebSocket::FRAME_OP_PONG);
        continue;
      }
      std::string_view text(buffer.begin(), buffer.size());
      std::size_t offer = text.find("<offer workItem=\"");
      if (offer == std::string_view::npos) {
        continue;
      }
      std::size_t number = itemNumber(text.substr(offer + 17, 16));
      std::int64_t committed =
          number < Shared::kMaxItems ? shared.committed[number].load(std::memory_order_acquire) : 0;
      if (committed > 0) {
        latencies.push_back(at - committed);
      }
    }
  }
  shared.received = static_cast<std::int64_t>(latencies.size());
  shared.p50 = percentile(latencies, 0.50);
  shared.p99 = percentile(latencies, 0.99);
  shared.max = latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  ::close(echo);
  for (auto& socket : sockets) {
    try {
      socket->shutdown();
    } catch (const Poco::Exception&) {
    }
  }
  return 0;
}

// ------------------------------------------------------------------------------ the reference

// Loopback TCP round trips of a 256-byte message between two threads: p50 and p99.
std::pair<std::int64_t, std::int64_t> tcpRoundTrip(int rounds) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(listener, 1);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  constexpr int kSize = 256;
  std::thread echo([&] {
    int peer = ::accept(listener, nullptr, nullptr);
    int one = 1;
    ::setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char data[kSize];
    for (int i = 0; i < rounds; ++i) {
      if (::recv(peer, data, kSize, MSG_WAITALL) != kSize ||
          ::send(peer, data, kSize, 0) != kSize) {
        break;
      }
    }
    ::close(peer);
  });
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char data[kSize] = {};
  std::vector<std::int64_t> times;
  times.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    std::int64_t start = monoNanos();
    if (::send(client, data, kSize, 0) != kSize ||
        ::recv(client, data, kSize, MSG_WAITALL) != kSize) {
      break;
    }
    times.push_back(monoNanos() - start);
  }
  ::close(client);
  echo.join();
  ::close(listener);
  return {percentile(times, 0.50), percentile(times, 0.99)};
}

// Round trips over `socket` (connected to the clients' echo) every `interval` until `stop`.
std::vector<std::int64_t> pingDuringLoad(int socket, std::int64_t interval,
                                         const std::atomic<bool>& stop) {
  constexpr int kSize = 256;
  char data[kSize] = {};
  std::vector<std::int64_t> times;
  std::int64_t next = monoNanos();
  while (!stop) {
    std::int64_t start = monoNanos();
    if (::send(socket, data, kSize, 0) != kSize ||
        ::recv(socket, data, kSize, MSG_WAITALL) != kSize) {
      break;
    }
    times.push_back(monoNanos() - start);
    next += interval;
    std::int64_t now = monoNanos();
    if (next > now) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(next - now));
    }
  }
  return times;
}

// -------------------------------------------------------------------------------- the server

std::string configText(const std::filesystem::path& dir, int agents) {
  std::ostringstream out;
  out << R"(<?xml version="1.0" encoding="UTF-8"?>
<switchboard xmlns="urn:switchboard:config:v1" version="1.0">
  <server id="sb-bench"><listener address="127.0.0.1" port="0" threads="4"/></server>
  <store><sqlite path=")"
      << (dir / "switchboard.db").string() << R"("/></store>
  <security>
    <apiKey name="bench" secret=")"
      << kKey << R"("/>
    <agentTokens secret="bench-agent-token-secret-0123456789abcdef"/>
  </security>
  <logging level="error"/>
  <routing defaultQueue="general"/>
  <agents>
)";
  for (int i = 0; i < agents; ++i) {
    out << "    <agent id=\"a-" << i
        << "\"><mix><limit medium=\"email\" max=\"100\"/></mix></agent>\n";
  }
  out << R"(  </agents>
  <queues>
    <queue id="general" ordering="longestIdle" offerTimeout="1h"/>
  </queues>
</switchboard>
)";
  return out.str();
}

double ms(std::int64_t nanos) {
  return static_cast<double>(nanos) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
  const int requested = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int rate = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  const std::int64_t items = static_cast<std::int64_t>(rate) * seconds;
  if (requested <= 0 || rate <= 0 || seconds <= 0 ||
      items >= static_cast<std::int64_t>(Shared::kMaxItems)) {
    std::cerr << "usage: bench_push [AGENTS] [ITEMS_PER_SECOND] [SECONDS]\n";
    return 2;
  }
  // One socket per agent in each process (the server's, the clients'), and some to spare.
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  int agents = requested;
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < static_cast<rlim_t>(requested) + 256) {
    agents = std::max(1, static_cast<int>(files.rlim_cur) - 256);
    std::cout << "note: the open-file limit " << files.rlim_cur << " allows " << agents
              << " agents, not " << requested << "\n";
  }

  void* memory =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  auto* shared = new (memory) Shared();
  // The reference's listener, made before the fork so that the child can accept on it.
  int echoListener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in echoAddress{};
  echoAddress.sin_family = AF_INET;
  echoAddress.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t echoLength = sizeof echoAddress;
  if (::bind(echoListener, reinterpret_cast<sockaddr*>(&echoAddress), sizeof echoAddress) != 0 ||
      ::listen(echoListener, 1) != 0 ||
      ::getsockname(echoListener, reinterpret_cast<sockaddr*>(&echoAddress), &echoLength) != 0) {
    std::perror("reference listener");
    return 1;
  }
  int portPipe[2];
  int readyPipe[2];
  if (::pipe(portPipe) != 0 || ::pipe(readyPipe) != 0) {
    std::perror("pipe");
    return 1;
  }
  // Fork before any thread exists: the child starts clean.
  pid_t child = ::fork();
  if (child == 0) {
    ::close(portPipe[1]);
    ::close(readyPipe[0]);
    int port = 0;
    if (::read(portPipe[0], &port, sizeof port) != sizeof port || port == 0) {
      ::_exit(1);
    }
    ::_exit(runClients(*shared, port, agents, items, readyPipe[1], echoListener));
  }
  ::close(portPipe[0]);
  ::close(readyPipe[1]);
  ::close(echoListener);
  auto stopChild = [&] {
    if (child > 0) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      child = -1;
    }
  };

  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("sb-push-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int status = 0;
  try {
    std::cout << "push latency: " << agents << " agents connected, " << rate << " items/s for "
              << seconds << " s\n"
              << std::flush;
    auto [tcp50, tcp99] = tcpRoundTrip(20000);

    Config config = loadConfigFromString(configText(dir, agents), dir / "switchboard.xml");
    std::ostringstream quiet;
    Logger logger(LogLevel::Error, quiet);
    MetricsRegistry metrics;
    TimedStore store(openStore(config.store), *shared);
    CoreOptions core;
    core.serverId = config.server.id;
    core.engine = config.engine;
    core.queues = config.queues;
    core.agents = config.agents;
    CommunicationServer server(core, store);
    server.start();
    ApiOptions api;
    api.address = "127.0.0.1";
    api.port = 0;
    api.threads = 4;
    api.keys = {{"bench", kKey}};
    api.tokenSecret = "bench-agent-token-secret-0123456789abcdef";
    api.drainTimeout = std::chrono::milliseconds(200);
    HttpApi http(server, metrics, logger, api);
    AgentPush push(server, metrics, logger);
    push.subscribe(server);
    http.addUpgradeRoute("/v1/agents/{id}/stream", push.upgradeHandler());
    push.start();
    http.start();

    // Every agent ready, from a few threads: each change is durable before it returns.
    {
      std::vector<std::thread> threads;
      std::atomic<int> next{0};
      for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
          for (int i = next++; i < agents; i = next++) {
            std::string id = "a-" + std::to_string(i);
            server.setAgentState(id, AgentState::NotReady, std::string("login"));
            server.setAgentState(id, AgentState::Ready, std::nullopt);
          }
        });
      }
      for (auto& thread : threads) {
        thread.join();
      }
    }

    std::int64_t rssBefore = rssBytes();
    int port = http.port();
    [[maybe_unused]] auto w = ::write(portPipe[1], &port, sizeof port);
    char ready = 0;
    if (::read(readyPipe[0], &ready, 1) != 1 || ready != 1) {
      throw std::runtime_error("the clients could not connect (" +
                               std::to_string(shared->connected.load()) + " did)");
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto connectedAgents = [&] {
      std::size_t n = 0;
      for (int i = 0; i < agents; ++i) {
        n += push.connections("a-" + std::to_string(i)) > 0 ? 1 : 0;
      }
      return n;
    };
    while (connectedAgents() < static_cast<std::size_t>(agents) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::int64_t rssAfter = rssBytes();

    // The reference during the load: round trips to the clients' process, once per item
    // interval, over loopback TCP.
    int echo = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(echo, reinterpret_cast<sockaddr*>(&echoAddress), sizeof echoAddress) != 0) {
      throw std::runtime_error("cannot reach the clients' echo");
    }
    {
      int one = 1;
      ::setsockopt(echo, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    std::atomic<bool> loadDone{false};
    std::vector<std::int64_t> loadRoundTrips;
    std::thread pinger(
        [&] { loadRoundTrips = pingDuringLoad(echo, 1'000'000'000LL / rate, loadDone); });

    // The load: item k is due at start + k / rate; a few producers, since each arrival waits
    // for its commit.
    std::atomic<std::int64_t> nextItem{0};
    std::int64_t start = monoNanos() + 10'000'000;
    const std::int64_t interval = 1'000'000'000LL / rate;
    std::vector<std::thread> producers;
    std::atomic<std::int64_t> late{0};
    for (int t = 0; t < 8; ++t) {
      producers.emplace_back([&] {
        for (std::int64_t k = nextItem++; k < items; k = nextItem++) {
          std::int64_t due = start + k * interval;
          std::int64_t now = monoNanos();
          if (due > now) {
            std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
          } else if (now - due > 10'000'000) {
            ++late;
          }
          WorkItem item;
          item.medium = "email";
          item.subject = "Question " + std::to_string(k);
          item.body = Body{std::nullopt, "Hello, this is question " + std::to_string(k) + "."};
          Customer customer;
          customer.name = "Customer " + std::to_string(k);
          customer.addresses.push_back(
              {"email", "customer" + std::to_string(k) + "@example.com", std::nullopt});
          item.customer = customer;
          server.createWorkItem(item, "bench");
        }
      });
    }
    for (auto& producer : producers) {
      producer.join();
    }
    loadDone = true;
    pinger.join();
    ::close(echo);
    std::int64_t ref50 = percentile(loadRoundTrips, 0.50);
    std::int64_t ref99 = percentile(loadRoundTrips, 0.99);
    double offered = static_cast<double>(items) / (static_cast<double>(monoNanos() - start) / 1e9);
    int childStatus = 0;
    ::waitpid(child, &childStatus, 0);
    child = -1;

    std::int64_t received = shared->received.load();
    std::cout << "  items committed: " << items << " at " << static_cast<int>(offered)
              << " items/s (" << late.load() << " started over 10 ms late)\n"
              << "  offers received: " << received << "\n";
    std::printf("  push, commit -> agent's WebSocket client: p50 %.3f ms, p99 %.3f ms, max %.3f ms "
                "(target p99 <= 2 ms)\n",
                ms(shared->p50), ms(shared->p99), ms(shared->max));
    std::printf("  reference, loopback TCP round trip (256 B) to the clients' process during the "
                "load: p50 %.3f ms, p99 %.3f ms (%zu round trips)\n",
                ms(ref50), ms(ref99), loadRoundTrips.size());
    std::printf("  ratio push / TCP round trip: p50 %.1fx, p99 %.1fx\n",
                ref50 > 0 ? static_cast<double>(shared->p50) / static_cast<double>(ref50) : 0.0,
                ref99 > 0 ? static_cast<double>(shared->p99) / static_cast<double>(ref99) : 0.0);
    std::printf("  (loopback TCP round trip between two threads of an idle process: p50 %.3f ms, "
                "p99 %.3f ms)\n",
                ms(tcp50), ms(tcp99));
    std::printf("  memory per connected agent (server RSS delta / agents): %.2f KB (target <= 4 "
                "KB; socket buffers are the kernel's, not in RSS)\n",
                static_cast<double>(rssAfter - rssBefore) / agents / 1024.0);
    if (received < items) {
      std::cout << "  note: " << items - received << " offers did not arrive in time\n";
    }

    push.stop();
    http.stop();
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "bench_push: " << e.what() << '\n';
    status = 1;
  }
  stopChild();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return status;
}
