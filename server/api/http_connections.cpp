#include "http_connections.h"

#include "buffered_exchange.h"
#include "http_text.h"
#include "request_head.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/HTTPServerSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Timestamp.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace switchboard::api {

namespace {

using Clock = std::chrono::steady_clock;

// epoll_event.data.u64: 0 is the stop eventfd, 2 the posted tasks' eventfd, odd values are
// listeners (index << 1 | 1), anything else is a Connection's address.
constexpr std::uint64_t kWakeTag = 0;
constexpr std::uint64_t kPostTag = 2;
constexpr std::uint32_t kConnectionEvents = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;

/// A request's head beyond this size is refused (431) before Poco parses it.
constexpr std::size_t kMaxHeadBytes = 64 * 1024;
/// A body up to this size is read before the request goes to a worker's handler; a larger one
/// (or a chunked one) is read by the handler as it comes. The same limit as parseRequestHead()'s.
constexpr std::size_t kMaxAwaitedBody = RequestHeadLimits{}.body;

/// An accepted connection that knows both its addresses, and serves Poco the bytes a worker read
/// ahead of it. Poco asks the socket for the addresses on every request (two system calls each
/// time); they cannot change while the connection lives.
class AcceptedSocketImpl : public Poco::Net::StreamSocketImpl {
 public:
  /// Owns `fd` from here on, also when the constructor throws.
  AcceptedSocketImpl(int fd, const sockaddr_storage& peer, socklen_t peerLength)
      : StreamSocketImpl(fd), peer_(reinterpret_cast<const sockaddr*>(&peer), peerLength),
        local_(StreamSocketImpl::address()) {}
  Poco::Net::SocketAddress address() override { return local_; }
  Poco::Net::SocketAddress peerAddress() override { return peer_; }

  int receiveBytes(void* buffer, int length, int flags = 0) override {
    if (readAhead.empty() || flags != 0 || length <= 0) {
      return StreamSocketImpl::receiveBytes(buffer, length, flags);
    }
    std::size_t count = std::min(readAhead.size(), static_cast<std::size_t>(length));
    std::memcpy(buffer, readAhead.data(), count);
    readAhead.erase(0, count);
    return static_cast<int>(count);
  }
  bool poll(const Poco::Timespan& timeout, int mode) override {
    if (!readAhead.empty() && (mode & Poco::Net::Socket::SELECT_READ) != 0) {
      return true;
    }
    return StreamSocketImpl::poll(timeout, mode);
  }

  /// Bytes of the next request(s), read but not yet given to Poco.
  std::string readAhead;

 private:
  Poco::Net::SocketAddress peer_;
  Poco::Net::SocketAddress local_;
};

/// Whether `bytes` hold a whole request: its head and, when it announces one of a bounded
/// length, its body. Anything the check does not understand is Complete: Poco's parser then
/// answers it (400 for a malformed head).
enum class Arrived { Complete, Partial, HeadTooLarge };

Arrived arrivedOf(std::string_view bytes) {
  std::size_t start = bytes.find_first_not_of("\r\n");
  if (start == std::string_view::npos) {
    return Arrived::Partial; // empty lines before a request are allowed
  }
  std::size_t crlf = bytes.find("\r\n\r\n", start);
  std::size_t lf = bytes.find("\n\n", start);
  std::size_t end = std::min(crlf == std::string_view::npos ? crlf : crlf + 4,
                             lf == std::string_view::npos ? lf : lf + 2);
  if (end == std::string_view::npos) {
    return bytes.size() > kMaxHeadBytes ? Arrived::HeadTooLarge : Arrived::Partial;
  }
  if (end > kMaxHeadBytes + start) {
    return Arrived::HeadTooLarge;
  }
  std::string_view head = bytes.substr(start, end - start);
  std::optional<std::size_t> length;
  for (std::size_t at = head.find('\n'); at != std::string_view::npos;
       at = head.find('\n', at + 1)) {
    std::string_view line = head.substr(at + 1, head.find('\n', at + 1) - at - 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    if (namedInAnyCase(name, "transfer-encoding") || namedInAnyCase(name, "expect")) {
      return Arrived::Complete; // chunked, or a client waiting for 100 Continue
    }
    if (namedInAnyCase(name, "content-length")) {
      std::size_t parsed = 0;
      auto [stop, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (error != std::errc() || parsed > kMaxAwaitedBody) {
        return Arrived::Complete;
      }
      (void)stop;
      length = parsed;
    }
  }
  if (length && bytes.size() - (start + head.size()) < *length) {
    return Arrived::Partial;
  }
  return Arrived::Complete;
}

/// Tells whether bytes of a next request are already read (a pipelining client).
class Session : public ServerSession {
 public:
  Session(const Poco::Net::StreamSocket& socket, const Poco::Net::HTTPServerParams::Ptr& params)
      : ServerSession(socket, params) {}
  bool hasBuffered() const { return buffered() > 0; }
  /// Takes the bytes Poco read but has not parsed yet (the start of a pipelined request).
  std::string takeBuffered() {
    std::string bytes;
    while (buffered() > 0) {
      std::size_t at = bytes.size();
      bytes.resize(at + static_cast<std::size_t>(buffered()));
      read(bytes.data() + at, buffered());
    }
    return bytes;
  }
  bool detached() const { return !const_cast<Session*>(this)->socket().impl()->initialized(); }
};

// Idle: in the epoll set, armed. Busy: a worker has it.
enum class State { Idle, Busy };

struct Connection {
  Connection(const Poco::Net::StreamSocket& acceptedSocket,
             const Poco::Net::HTTPServerParams::Ptr& params)
      : socket(acceptedSocket), session(socket, params), fd(socket.impl()->sockfd()),
        accepted(*static_cast<AcceptedSocketImpl*>(socket.impl())) {}

  Poco::Net::StreamSocket socket;
  Session session;
  int fd;
  AcceptedSocketImpl& accepted; ///< the socket's implementation: its read-ahead bytes
  State state = State::Idle;
  Clock::time_point idleSince = Clock::now();
  /// When the first bytes of a request still incomplete arrived (a slow client, or one that
  /// sent half a request): the request timeout counts from here.
  std::optional<Clock::time_point> requestSince;
  bool fresh = true;    ///< no request served yet
  bool expired = false; ///< idle past the keep-alive timeout, shut down, to be closed
};

// What a connection does after an answer: wait in epoll, close, leave (a WebSocket has it),
// wait for a deferred answer, or serve the next request already read (Continue).
enum class After { Wait, Close, Detached, Parked, Continue };

/// One request and its response, on the heap so that a deferred answer can outlive serve().
/// A BufferedRequest and BufferedResponse when parseRequestHead() read the request's head,
/// else Poco's pair, whose constructor parses the request.
struct Exchange {
  /// `bytes`: what the connection read ahead, the request first; `head`: its head when
  /// parseRequestHead() read it from `bytes` (which have not changed since).
  Exchange(Session& session, Poco::Net::HTTPServerParams* params, std::string& bytes,
           const std::optional<RequestHead>& head) {
    if (head) {
      bufferedResponse.emplace(session);
      bufferedRequest.emplace(*head, bytes.substr(head->headSize, head->contentLength),
                              *bufferedResponse, session, params);
      bytes.erase(0, head->headSize + head->contentLength);
    } else {
      pocoResponse.emplace(session);
      pocoRequest.emplace(*pocoResponse, session, params);
    }
  }
  Poco::Net::HTTPServerRequest& request() {
    if (bufferedRequest) {
      return *bufferedRequest;
    }
    return *pocoRequest;
  }
  Poco::Net::HTTPServerResponse& response() {
    if (bufferedResponse) {
      return *bufferedResponse;
    }
    return *pocoResponse;
  }
  // Declared response first: it outlives its request, as in Poco's own server.
  std::optional<BufferedResponse> bufferedResponse;
  std::optional<BufferedRequest> bufferedRequest;
  std::optional<Poco::Net::HTTPServerResponseImpl> pocoResponse;
  std::optional<Poco::Net::HTTPServerRequestImpl> pocoRequest;
};

/// The Date header, formatted once a second per thread rather than once per response.
const std::string& httpDate() {
  thread_local std::time_t second = -1;
  thread_local std::string text;
  Poco::Timestamp now;
  std::time_t current = now.epochTime();
  if (current != second) {
    second = current;
    text = Poco::DateTimeFormatter::format(now, Poco::DateTimeFormat::HTTP_FORMAT);
  }
  return text;
}

void sendError(Session& session, Poco::Net::HTTPResponse::HTTPStatus status) {
  try {
    Poco::Net::HTTPServerResponseImpl response(session);
    response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
    response.setStatusAndReason(status);
    response.setKeepAlive(false);
    response.send();
  } catch (const Poco::Exception&) {
    // The client is gone; there is nobody to tell.
  }
}

} // namespace

struct HttpConnections::Impl : std::enable_shared_from_this<HttpConnections::Impl> {
  Impl(std::vector<Poco::Net::ServerSocket> sockets, Poco::Net::HTTPServerParams::Ptr params,
       Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Options options, Observer observer);
  ~Impl();

  void work();
  void accept(std::size_t index);
  void closeListeners();
  void sweepIfDue();
  After serve(Connection& connection);
  /// What the client has sent of its next request, read without waiting. For a whole ordinary
  /// request, `head` is its head as parseRequestHead() reads it.
  enum class Gathered { Whole, Part, TooLarge, Closed };
  Gathered gather(Connection& connection, std::optional<RequestHead>& head);
  void finish(Connection* connection, After after);
  void resumeParked(Connection* connection, std::unique_ptr<Exchange> exchange);
  /// Ends an answered exchange and tells what the connection does next.
  After answered(Connection& connection, std::unique_ptr<Exchange> exchange);
  void parkedChanged(int delta);
  void runPosted();
  void post(std::function<void()> task);
  void counted(int delta) const;

  std::vector<Poco::Net::ServerSocket> listeners_;
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  Options options_;
  Observer observer_;
  Clock::duration keepAlive_;
  Clock::duration requestTimeout_; ///< for the rest of a request that began to arrive
  int epoll_ = -1;
  int wake_ = -1;  ///< an eventfd that, once written, wakes every worker for good (stopping)
  int posts_ = -1; ///< an eventfd written when posted tasks need a worker

  std::mutex postMutex_;
  std::deque<std::function<void()>> tasks_;
  /// A worker was woken for the tasks and has not read the eventfd yet, or a worker is running
  /// them and looks at the queue again before it goes back to epoll: a new task needs no wake.
  bool postsSignalled_ = false;
  bool tasksClosed_ = false;

  std::mutex mutex_; ///< guards the connections and their states
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::size_t parked_ = 0; ///< requests waiting for their deferred answer
  std::condition_variable parkedDone_;
  std::mutex acceptMutex_; ///< held while accepting, so that the listeners close safely
  bool listenersClosed_ = false;
  std::mutex sweepMutex_;
  std::atomic<Clock::rep> nextSweep_{0};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool stopped_ = false;
  std::mutex lifecycleMutex_;
  std::vector<std::thread> workers_;
};

namespace {

/// A deferred request: Running while its handler runs, Parked once the worker let it go,
/// Resumed when its answer was sent.
class Pending final : public HttpConnections::Parked {
 public:
  Pending(std::shared_ptr<HttpConnections::Impl> impl, Connection* connection)
      : impl_(std::move(impl)), connection_(connection) {}

  /// Keeps `exchange` until resume(), unless resume() came first (then false: the worker goes
  /// on with the connection as for any answered request).
  bool park(std::unique_ptr<Exchange>& exchange) {
    std::lock_guard lock(mutex_);
    if (state_ == State::Resumed) {
      return false;
    }
    state_ = State::Parked;
    exchange_ = std::move(exchange);
    return true;
  }

  void resume() override {
    std::unique_ptr<Exchange> exchange;
    {
      std::lock_guard lock(mutex_);
      if (state_ != State::Parked) {
        state_ = State::Resumed;
        return;
      }
      state_ = State::Resumed;
      exchange = std::move(exchange_);
    }
    impl_->resumeParked(connection_, std::move(exchange));
  }

 private:
  enum class State { Running, Parked, Resumed };
  std::shared_ptr<HttpConnections::Impl> impl_;
  Connection* connection_;
  std::mutex mutex_;
  State state_ = State::Running;
  std::unique_ptr<Exchange> exchange_;
};

/// The request the calling worker is serving, for defer().
struct Current {
  HttpConnections::Impl* impl = nullptr;
  Connection* connection = nullptr;
  std::shared_ptr<Pending> pending;
};
thread_local Current* current = nullptr;

} // namespace

HttpConnections::Impl::Impl(std::vector<Poco::Net::ServerSocket> sockets,
                            Poco::Net::HTTPServerParams::Ptr params,
                            Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Options options,
                            Observer observer)
    : listeners_(std::move(sockets)), params_(std::move(params)), factory_(std::move(factory)),
      options_(options), observer_(std::move(observer)),
      keepAlive_(std::chrono::microseconds(params_->getKeepAliveTimeout().totalMicroseconds())),
      requestTimeout_(std::chrono::microseconds(params_->getTimeout().totalMicroseconds())) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_ < 0) {
    int error = errno;
    ::close(epoll_);
    throw std::system_error(error, std::generic_category(), "eventfd");
  }
  posts_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (posts_ < 0) {
    int error = errno;
    ::close(wake_);
    ::close(epoll_);
    throw std::system_error(error, std::generic_category(), "eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &event);
  event.data.u64 = kPostTag;
  ::epoll_ctl(epoll_, EPOLL_CTL_ADD, posts_, &event);
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    // Non-blocking: several workers may be told of one connection, and all but one find none.
    listeners_[i].setBlocking(false);
    event.events = EPOLLIN;
    event.data.u64 = (static_cast<std::uint64_t>(i) << 1) | 1;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, listeners_[i].impl()->sockfd(), &event) != 0) {
      int error = errno;
      ::close(posts_);
      ::close(wake_);
      ::close(epoll_);
      throw std::system_error(error, std::generic_category(), "epoll_ctl");
    }
  }
}

HttpConnections::Impl::~Impl() {
  ::close(posts_);
  ::close(wake_);
  ::close(epoll_);
}

void HttpConnections::Impl::counted(int delta) const {
  if (observer_.connections) {
    observer_.connections(delta);
  }
}

// Every worker waits in the one epoll set: the kernel hands each event to one waiting worker,
// and EPOLLONESHOT keeps a connection with one worker until it is armed again. So a request
// goes from the network to its handler without passing through another thread.
void HttpConnections::Impl::work() {
  for (;;) {
    epoll_event event{};
    int count = ::epoll_wait(epoll_, &event, 1, 1000);
    if (stopping_.load(std::memory_order_acquire)) {
      return;
    }
    if (count < 0 && errno != EINTR) {
      // Only a broken epoll set gets here; waiting a little keeps it from spinning.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (count == 1 && event.data.u64 == kPostTag) {
      runPosted();
    } else if (count == 1 && event.data.u64 != kWakeTag) {
      if ((event.data.u64 & 1) != 0) {
        accept(static_cast<std::size_t>(event.data.u64 >> 1));
      } else {
        auto* connection = reinterpret_cast<Connection*>(event.data.u64);
        bool mine = false;
        {
          std::lock_guard lock(mutex_);
          // Connections are deleted only by the worker holding them (Busy), so one reported
          // here is alive; Idle says that no other worker took it meanwhile.
          if (connection->state == State::Idle) {
            connection->state = State::Busy;
            mine = true;
          }
        }
        if (mine) {
          finish(connection, serve(*connection));
        }
      }
    }
    sweepIfDue();
  }
}

void HttpConnections::Impl::accept(std::size_t index) {
  std::lock_guard acceptLock(acceptMutex_);
  if (listenersClosed_) {
    return;
  }
  int listening = listeners_[index].impl()->sockfd();
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof peer;
    int fd = ::accept4(listening, reinterpret_cast<sockaddr*>(&peer), &peerLength, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // Out of descriptors or memory: the backlog keeps the clients while some close.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return;
    }
    std::unique_ptr<Connection> connection;
    try {
      Poco::Net::StreamSocket socket(new AcceptedSocketImpl(fd, peer, peerLength));
      socket.setNoDelay(true);
      connection = std::make_unique<Connection>(socket, params_);
    } catch (const Poco::Exception&) {
      continue; // the client reset the connection already
    }
    Connection* raw = connection.get();
    epoll_event event{};
    event.events = kConnectionEvents;
    event.data.u64 = reinterpret_cast<std::uint64_t>(raw);
    std::lock_guard lock(mutex_);
    connections_.emplace(raw, std::move(connection));
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, raw->fd, &event) != 0) {
      connections_.erase(raw);
      continue;
    }
    counted(+1);
  }
}

void HttpConnections::Impl::closeListeners() {
  std::lock_guard acceptLock(acceptMutex_);
  if (listenersClosed_) {
    return;
  }
  listenersClosed_ = true;
  for (auto& listener : listeners_) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, listener.impl()->sockfd(), nullptr);
    try {
      listener.close();
    } catch (const Poco::Exception&) {
    }
  }
}

void HttpConnections::Impl::sweepIfDue() {
  auto now = Clock::now();
  if (now.time_since_epoch().count() < nextSweep_.load(std::memory_order_relaxed)) {
    return;
  }
  std::unique_lock sweeping(sweepMutex_, std::try_to_lock);
  if (!sweeping) {
    return;
  }
  nextSweep_.store((now + std::chrono::seconds(1)).time_since_epoch().count(),
                   std::memory_order_relaxed);
  // Only the worker that takes a connection may delete it: another may hold its epoll event
  // already. So an expired connection is shut down here, which wakes a worker for it (the end
  // of the stream), and that worker closes it.
  std::lock_guard lock(mutex_);
  for (auto& [raw, connection] : connections_) {
    bool overdue = connection->requestSince ? now - *connection->requestSince >= requestTimeout_
                                            : now - connection->idleSince >= keepAlive_;
    if (connection->state == State::Idle && !connection->expired && overdue) {
      connection->expired = true;
      ::shutdown(connection->fd, SHUT_RDWR);
    }
  }
}

// The committer posts a whole batch of answers at once. One eventfd write wakes a first worker,
// which wakes one more if tasks are left, and each runs tasks until none are left: a batch costs
// a few wakes instead of one per task.
void HttpConnections::Impl::runPosted() {
  std::uint64_t signals = 0;
  if (::read(posts_, &signals, sizeof signals) != sizeof signals) {
    return; // another worker took the signal
  }
  bool handedOn = false;
  for (;;) {
    std::function<void()> task;
    bool wakeAnother = false;
    {
      std::lock_guard lock(postMutex_);
      if (tasks_.empty()) {
        postsSignalled_ = false;
        return;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
      wakeAnother = !handedOn && !tasks_.empty();
    }
    if (wakeAnother) {
      handedOn = true;
      std::uint64_t one = 1;
      [[maybe_unused]] auto written = ::write(posts_, &one, sizeof one);
    }
    try {
      task();
    } catch (...) {
      // A task reports its own failures; one that throws must not take the worker down.
    }
  }
}

void HttpConnections::Impl::resumeParked(Connection* connection,
                                         std::unique_ptr<Exchange> exchange) {
  After after = answered(*connection, std::move(exchange));
  if (after == After::Continue) {
    after = serve(*connection);
  }
  parkedChanged(-1);
  finish(connection, after);
}

void HttpConnections::Impl::parkedChanged(int delta) {
  {
    std::lock_guard lock(mutex_);
    parked_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(parked_) + delta);
  }
  parkedDone_.notify_all();
}

After HttpConnections::Impl::answered(Connection& connection, std::unique_ptr<Exchange> exchange) {
  Session& session = connection.session;
  if (session.detached()) {
    return After::Detached; // a WebSocket took the connection over
  }
  session.setKeepAlive(params_->getKeepAlive() && exchange->response().getKeepAlive() &&
                       session.canKeepAlive());
  exchange.reset();
  if (!session.getKeepAlive() || stopping_.load(std::memory_order_acquire)) {
    return After::Close;
  }
  return session.hasBuffered() || !connection.accepted.readAhead.empty() ? After::Continue
                                                                         : After::Wait;
}

// A request goes to Poco's parser, which blocks until it has all it reads, only once it is
// whole: a client that sends half a request (or sends it a byte at a time) waits in the epoll
// set, not in a worker, until it finishes or the request timeout closes it.
HttpConnections::Impl::Gathered HttpConnections::Impl::gather(Connection& connection,
                                                              std::optional<RequestHead>& head) {
  std::string& bytes = connection.accepted.readAhead;
  if (connection.session.hasBuffered()) {
    bytes.insert(0, connection.session.takeBuffered());
  }
  bool closed = false;
  for (;;) {
    // An ordinary request is parsed once, here; only the others need arrivedOf()'s scan.
    head = parseRequestHead(bytes);
    if (head) {
      connection.requestSince.reset();
      return Gathered::Whole;
    }
    switch (arrivedOf(bytes)) {
    case Arrived::Complete:
      connection.requestSince.reset();
      return Gathered::Whole;
    case Arrived::HeadTooLarge:
      return Gathered::TooLarge;
    case Arrived::Partial:
      break;
    }
    if (closed) {
      return Gathered::Closed;
    }
    char chunk[16 * 1024];
    ssize_t count = ::recv(connection.fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (count > 0) {
      bytes.append(chunk, static_cast<std::size_t>(count));
    } else if (count == 0) {
      closed = true; // what came before the end may still be a whole request
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      return Gathered::Closed;
    }
  }
  if (!bytes.empty() && !connection.requestSince) {
    connection.requestSince = Clock::now();
  }
  return Gathered::Part;
}

// One connection's requests while they keep coming without a wait: the first was announced by
// epoll, the next ones only when the client sent them along (pipelining).
After HttpConnections::Impl::serve(Connection& connection) {
  Session& session = connection.session;
  for (;;) {
    std::optional<RequestHead> head;
    switch (gather(connection, head)) {
    case Gathered::Whole:
      break;
    case Gathered::Part:
      return After::Wait;
    case Gathered::TooLarge:
      sendError(session, Poco::Net::HTTPResponse::HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE);
      return After::Close;
    case Gathered::Closed:
      return After::Close;
    }
    if (connection.fresh) {
      connection.fresh = false;
      // Counts the first request against the keep-alive limit, which is what makes the session
      // keep the connection (Poco's HTTPServerConnection does the same). The bytes are there,
      // so this does not wait.
      if (!session.hasMoreRequests()) {
        return After::Close;
      }
    }
    std::unique_ptr<Exchange> exchange;
    try {
      exchange =
          std::make_unique<Exchange>(session, params_.get(), connection.accepted.readAhead, head);
      auto& response = exchange->response();
      auto& request = exchange->request();
      response.set("Date", httpDate());
      response.setVersion(request.getVersion());
      response.setKeepAlive(params_->getKeepAlive() && request.getKeepAlive() &&
                            session.canKeepAlive());
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(
          factory_->createRequestHandler(request));
      if (!handler) {
        sendError(session, Poco::Net::HTTPResponse::HTTP_NOT_IMPLEMENTED);
        return After::Close;
      }
      if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
        response.sendContinue();
      }
      Current serving{this, &connection, nullptr};
      current = &serving;
      // Handlers answer their errors themselves (HttpApiImpl catches everything), so nothing
      // escapes after a defer().
      handler->handleRequest(request, response);
      current = nullptr;
      if (serving.pending) {
        if (serving.pending->park(exchange)) {
          return After::Parked;
        }
        parkedChanged(-1); // answered before the handler returned
      }
    } catch (const Poco::Net::NoMessageException&) {
      current = nullptr;
      return After::Close; // the client closed the connection between requests
    } catch (const Poco::Net::MessageException&) {
      current = nullptr;
      sendError(session, Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
      return After::Close;
    } catch (const Poco::Exception&) {
      current = nullptr;
      return After::Close; // a timeout or a reset in the middle of a request
    }
    After next = answered(connection, std::move(exchange));
    if (next != After::Continue) {
      return next;
    }
  }
}

void HttpConnections::Impl::finish(Connection* connection, After after) {
  if (after == After::Parked) {
    return; // resumeParked() finishes it
  }
  std::unique_ptr<Connection> closing;
  {
    std::lock_guard lock(mutex_);
    if (after == After::Wait && !stopping_.load(std::memory_order_acquire)) {
      connection->state = State::Idle;
      connection->idleSince = Clock::now();
      epoll_event event{};
      event.events = kConnectionEvents;
      event.data.u64 = reinterpret_cast<std::uint64_t>(connection);
      if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, connection->fd, &event) == 0) {
        return;
      }
    }
    // A detached socket lives on in its WebSocket: it only leaves the set. Closing the others
    // removes them from it.
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, connection->fd, nullptr);
    auto it = connections_.find(connection);
    if (it != connections_.end()) {
      closing = std::move(it->second);
      connections_.erase(it);
    }
  }
  counted(-1); // before the close, which a client may observe
  closing.reset();
}

HttpConnections::HttpConnections(std::vector<Poco::Net::ServerSocket> sockets,
                                 Poco::Net::HTTPServerParams::Ptr params,
                                 Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Options options,
                                 Observer observer)
    : impl_(std::make_shared<Impl>(std::move(sockets), std::move(params), std::move(factory),
                                   options, std::move(observer))) {}

HttpConnections::~HttpConnections() {
  stopAll();
}

std::shared_ptr<HttpConnections::Parked> HttpConnections::defer() {
  if (current == nullptr) {
    return nullptr;
  }
  if (!current->pending) {
    current->pending =
        std::make_shared<Pending>(current->impl->shared_from_this(), current->connection);
    // Counted from here, not from when the handler returns: a stop that begins meanwhile
    // waits for this answer too.
    current->impl->parkedChanged(+1);
  }
  return current->pending;
}

void HttpConnections::Impl::post(std::function<void()> task) {
  {
    std::lock_guard lock(postMutex_);
    if (tasksClosed_) {
      return;
    }
    tasks_.push_back(std::move(task));
    if (postsSignalled_) {
      return;
    }
    postsSignalled_ = true;
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(posts_, &one, sizeof one);
}

void HttpConnections::post(std::function<void()> task) {
  impl_->post(std::move(task));
}

std::function<void(std::function<void()>)> HttpConnections::poster() const {
  return [impl = impl_](std::function<void()> task) { impl->post(std::move(task)); };
}

void HttpConnections::start() {
  std::lock_guard lock(impl_->lifecycleMutex_);
  if (impl_->started_ || impl_->stopped_) {
    return;
  }
  impl_->started_ = true;
  int threads = std::max(1, impl_->options_.threads);
  for (int i = 0; i < threads; ++i) {
    impl_->workers_.emplace_back([this] { impl_->work(); });
  }
}

void HttpConnections::stopAccepting() {
  impl_->closeListeners();
}

void HttpConnections::stopAll() {
  std::lock_guard lifecycle(impl_->lifecycleMutex_);
  if (impl_->stopped_) {
    return;
  }
  impl_->stopped_ = true;
  impl_->closeListeners();
  {
    // Parked requests end through tasks the workers run, so the workers wait with them.
    std::unique_lock lock(impl_->mutex_);
    impl_->parkedDone_.wait_for(lock, impl_->options_.parkedTimeout,
                                [&] { return impl_->parked_ == 0; });
  }
  impl_->stopping_.store(true, std::memory_order_release);
  // Never read back: the eventfd stays readable, so every worker's epoll_wait returns.
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(impl_->wake_, &one, sizeof one);
  {
    // Workers may still hold events of idle connections, so they are only shut down now (and
    // their workers, if any, close them); what is left is deleted once the workers are gone.
    // The shutdown also ends a read or a write a handler may wait in.
    std::lock_guard lock(impl_->mutex_);
    for (auto& [raw, connection] : impl_->connections_) {
      ::shutdown(connection->fd, SHUT_RDWR);
    }
  }
  for (auto& worker : impl_->workers_) {
    worker.join();
  }
  impl_->workers_.clear();
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(impl_->mutex_);
    for (auto it = impl_->connections_.begin(); it != impl_->connections_.end();) {
      // A parked request keeps its connection until it is resumed, whenever that is.
      if (it->second->state == State::Busy) {
        ++it;
        continue;
      }
      ::epoll_ctl(impl_->epoll_, EPOLL_CTL_DEL, it->second->fd, nullptr);
      closing.push_back(std::move(it->second));
      it = impl_->connections_.erase(it);
    }
  }
  for (std::size_t i = 0; i < closing.size(); ++i) {
    impl_->counted(-1);
  }
  closing.clear();
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(impl_->postMutex_);
    impl_->tasksClosed_ = true;
    dropped.swap(impl_->tasks_);
  }
}

} // namespace switchboard::api
