// One connection's traffic: the senders that write its queue, the readers that wait on every
// socket at once, and the workers that answer what the agent sends.

#include "push_hub.h"

#include <Poco/Net/NetException.h>

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace switchboard::push {
namespace {

using Poco::Net::WebSocket;

// Close codes of RFC 6455, section 7.4.1.
constexpr int kFin = WebSocket::FRAME_FLAG_FIN;
constexpr std::uint16_t kNormal = WebSocket::WS_NORMAL_CLOSE;
constexpr std::uint16_t kUnsupported = WebSocket::WS_PAYLOAD_NOT_ACCEPTABLE; // 1003
constexpr std::uint16_t kInvalidPayload = WebSocket::WS_MALFORMED_PAYLOAD;   // 1007
constexpr std::uint16_t kTooBig = WebSocket::WS_PAYLOAD_TOO_BIG;             // 1009
constexpr std::uint16_t kInternal = WebSocket::WS_UNEXPECTED_CONDITION;      // 1011

constexpr int kEventsPerWait = 64;

} // namespace

void Hub::write(Connection& connection, Frame& frame) {
  auto send = [&](const std::string& payload, int flags) {
    connection.socket.sendFrame(payload.data(), static_cast<int>(payload.size()), flags);
  };
  switch (frame.kind) {
  case Frame::Kind::Message:
    send(connection.format == Format::Json ? frame.message->json(*this) : frame.message->xml(*this),
         WebSocket::FRAME_TEXT);
    pushed.inc();
    break;
  case Frame::Kind::Text:
    send(answerFrame(connection.format, frame.payload), WebSocket::FRAME_TEXT);
    break;
  case Frame::Kind::Resync:
    send(resyncFrame(connection.format, frame.after, frame.last), WebSocket::FRAME_TEXT);
    break;
  case Frame::Kind::Ping:
    send(frame.payload, kFin | WebSocket::FRAME_OP_PING);
    break;
  case Frame::Kind::Pong:
    send(frame.payload, kFin | WebSocket::FRAME_OP_PONG);
    break;
  case Frame::Kind::Close: {
    std::string payload;
    payload += static_cast<char>(frame.closeCode >> 8);
    payload += static_cast<char>(frame.closeCode & 0xff);
    payload += frame.payload;
    send(payload, kFin | WebSocket::FRAME_OP_CLOSE);
    break;
  }
  }
}

void Hub::senderLoop() {
  std::unique_lock lock(mutex);
  for (;;) {
    work.wait(lock, [&] { return stopSenders || !ready.empty(); });
    if (stopSenders) {
      return;
    }
    std::shared_ptr<Connection> connection = std::move(ready.front());
    ready.pop_front();
    std::deque<Frame> batch;
    batch.swap(connection->queue);
    lock.unlock();
    std::string failure;
    for (auto& frame : batch) {
      try {
        write(*connection, frame);
      } catch (const Poco::TimeoutException&) {
        failure = "sendTimeout";
        break;
      } catch (const std::exception&) {
        failure = "sendFailed";
        break;
      }
    }
    lock.lock();
    if (!failure.empty()) {
      dropLocked(connection, failure);
    }
    if (!connection->queue.empty() && !connection->dropped) {
      ready.push_back(std::move(connection));
    } else {
      connection->scheduled = false;
      changed.notify_all();
    }
  }
}

void Hub::answer(const std::shared_ptr<Connection>& connection, std::string_view document) {
  ServiceResult<std::string> result =
      ServiceError{ServiceErrorCode::Internal, "internal error", "exchange failed"};
  try {
    result = service.exchange(document, connection->caller);
  } catch (const std::exception& e) {
    logger.error("push.exchange_failed", {{"agent", connection->agentId}, {"error", e.what()}});
  }
  std::lock_guard lock(mutex);
  if (result.ok()) {
    enqueueLocked(connection,
                  Frame{Frame::Kind::Text, nullptr, std::move(result.value()), 0, 0, 0});
  } else if (result.error().code == ServiceErrorCode::BadRequest) {
    // A document that is not a message has no ids to answer to: the close says why.
    closeLocked(connection, kInvalidPayload, "not a valid message: " + result.error().detail);
  } else {
    closeLocked(connection, kInternal, result.error().title);
  }
}

void Hub::answerAll(const std::shared_ptr<Connection>& connection) {
  std::unique_lock lock(mutex);
  while (!connection->documents.empty()) {
    std::string document = std::move(connection->documents.front());
    connection->documents.pop_front();
    lock.unlock();
    answer(connection, document);
    lock.lock();
  }
  connection->answering = false;
}

void Hub::readerLoop(Reader& reader) {
  epoll_event events[kEventsPerWait];
  while (!stopReaders) {
    int n = ::epoll_wait(reader.epoll, events, kEventsPerWait, -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      logger.error("push.reader_failed", {{"errno", static_cast<std::int64_t>(errno)}});
      return;
    }
    for (int i = 0; i < n; ++i) {
      auto* raw = static_cast<Connection*>(events[i].data.ptr);
      if (raw == nullptr) {
        continue; // the wake-up: stopReaders is checked above
      }
      std::shared_ptr<Connection> connection;
      {
        std::lock_guard lock(reader.mutex);
        auto found = reader.owned.find(raw);
        if (found != reader.owned.end()) {
          connection = found->second;
        }
      }
      if (connection && !readFrame(connection)) {
        finish(reader, connection);
      }
    }
  }
}

void Hub::finish(Reader& reader, const std::shared_ptr<Connection>& connection) {
  ::epoll_ctl(reader.epoll, EPOLL_CTL_DEL, connection->socket.impl()->sockfd(), nullptr);
  {
    std::lock_guard lock(reader.mutex);
    reader.owned.erase(connection.get());
  }
  std::lock_guard lock(mutex);
  connection->finished = true;
  unregisterLocked(connection);
  changed.notify_all();
  logger.info("push.disconnected", {{"agent", connection->agentId}});
}

bool Hub::readFrame(const std::shared_ptr<Connection>& connection) {
  Poco::Buffer<char>& buffer = connection->partial;
  std::size_t before = buffer.size();
  int flags = 0;
  int received = 0;
  try {
    received = connection->socket.receiveFrame(buffer, flags);
  } catch (const Poco::TimeoutException&) {
    // The frame stopped half-way: what is left of it cannot be read as a frame any more.
    std::lock_guard lock(mutex);
    dropLocked(connection, "stalled");
    return false;
  } catch (const Poco::Net::WebSocketException& e) {
    std::lock_guard lock(mutex);
    if (e.code() == WebSocket::WS_ERR_PAYLOAD_TOO_BIG) {
      // Its payload is still in the socket: nothing after it can be read, so reading ends.
      closeLocked(connection, kTooBig, "message too large");
    } else {
      dropLocked(connection, "protocolError");
    }
    return false;
  } catch (const std::exception&) {
    return false;
  }
  if (received == 0 && flags == 0) {
    return false; // the peer closed the TCP connection
  }
  connection->lastHeard = steadyMillis();
  int opcode = flags & WebSocket::FRAME_OP_BITMASK;
  if (opcode == WebSocket::FRAME_OP_PING || opcode == WebSocket::FRAME_OP_PONG ||
      opcode == WebSocket::FRAME_OP_CLOSE) {
    std::string payload(buffer.begin() + before, buffer.end());
    buffer.resize(before);
    std::lock_guard lock(mutex);
    if (opcode == WebSocket::FRAME_OP_PING) {
      enqueueLocked(connection, Frame{Frame::Kind::Pong, nullptr, std::move(payload), 0, 0, 0});
    } else if (opcode == WebSocket::FRAME_OP_CLOSE) {
      closeLocked(connection, kNormal, "");
      return false;
    }
    return true;
  }
  if (opcode == WebSocket::FRAME_OP_BINARY) {
    std::lock_guard lock(mutex);
    closeLocked(connection, kUnsupported, "send messages as text frames");
    buffer.resize(0);
    return true;
  }
  if (buffer.size() > options.maxInboundBytes) {
    std::lock_guard lock(mutex);
    closeLocked(connection, kTooBig, "message too large");
    return false;
  }
  if ((flags & WebSocket::FRAME_FLAG_FIN) != 0) {
    std::string document(buffer.begin(), buffer.end());
    buffer.resize(0);
    std::lock_guard lock(mutex);
    connection->documents.push_back(std::move(document));
    if (!connection->answering) {
      connection->answering = true;
      postLocked([this, connection] { answerAll(connection); });
    }
  }
  return true;
}

} // namespace switchboard::push
