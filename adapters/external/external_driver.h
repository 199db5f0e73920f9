#pragma once

// A channel driver that lives in another process. The server sees an ExternalDriver like any
// driver in its process: a ChannelDriver created by name from the configuration. Behind it, the
// real driver (in any language) connects to the server's endpoint (ExternalEndpoint), registers
// by name with its key, and exchanges the message documents of docs/message.md: over one
// WebSocket, or over plain HTTP (POST a message, long-poll GET for commands).
//
// Commands while the driver is away: deliver() answers at once with a response of status error,
// code "driverUnavailable", and nothing is queued in the server. The sender sees at once that the
// command did not leave (a reply enters the work item's history only once a driver took it on)
// and retries it, with the same replyId or lineId, once the driver is back; the driver drops
// repeats by those keys (docs/message.md, 6.4). A command that reached the driver but got no
// answer within commandTimeout is answered with code "driverTimeout", for the same reason.
// See docs/external-drivers.md.
//
// Threads: deliver() runs on the caller's thread and waits for the answer; receive() runs on the
// endpoint's threads (the reader of a WebSocket connection, or an HTTP server thread). One mutex
// guards the session state; no socket call is made under it.

#include "switchboard/channel_driver.h"
#include "switchboard/log.h"
#include "switchboard/message_codec.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::external {

struct ExternalOptions {
  std::string name;     ///< the driver's name: its sender id and the {name} of its endpoint
  std::string serverId; ///< the addressee of the driver's messages
  std::string key;      ///< the driver's key (a configuration Secret, revealed)
  /// The media the driver may register (an arrival of another medium is refused with
  /// unsupportedMedium). Empty: whatever it registers.
  std::vector<std::string> media;
  /// How long deliver() waits for the driver's answer to a command.
  std::chrono::milliseconds commandTimeout{std::chrono::seconds(10)};
  /// A driver heard from neither over its WebSocket nor over HTTP for this long is gone: it must
  /// register again. Drivers ping more often than this (docs/message.md, 7.2).
  std::chrono::milliseconds heartbeatTimeout{std::chrono::seconds(60)};
  /// The largest document the driver may send.
  std::size_t maxMessageBytes = 1024 * 1024;
};

/// Figures for metrics, tests and the conformance kit.
struct ExternalCounters {
  std::atomic<std::uint64_t> registrations{0};
  std::atomic<std::uint64_t> received{0};       ///< valid documents from the driver
  std::atomic<std::uint64_t> badDocuments{0};   ///< documents that are not messages
  std::atomic<std::uint64_t> refused{0};        ///< answered with an error by the endpoint
  std::atomic<std::uint64_t> commandsSent{0};   ///< commands handed to the driver
  std::atomic<std::uint64_t> commandsFailed{0}; ///< driverUnavailable and driverTimeout
  std::atomic<std::uint64_t> reportedErrors{0}; ///< documents the driver said it could not read
};

/// Told of what the driver does wrong or reports, for logs and the conformance kit. Each may be
/// empty. Called without the driver's lock held.
struct ExternalObserver {
  std::function<void(const std::string& reason)> badDocument;
  /// A valid message that the endpoint answered with an error (code, text).
  std::function<void(const std::string& code, const std::string& text)> refused;
  /// The driver reported a document from the server that it could not read.
  std::function<void(const std::string& text)> reportedError;
};

/// One transport connection of the driver: a WebSocket, or the HTTP session (there is one per
/// driver: HTTP requests carry no connection identity).
struct Session {
  std::uint64_t id = 0;
  bool websocket = false;
  /// Sends a text frame (WebSocket sessions); throws when the socket fails.
  std::function<void(const std::string& document)> send;
};

class ExternalDriver final : public ChannelDriver {
 public:
  /// `sink` and `logger` must outlive the driver.
  ExternalDriver(ExternalOptions options, MessageSink& sink, Logger& logger,
                 ExternalObserver observer = {});
  ~ExternalDriver() override;

  /// Lets the driver's process connect. Never fails.
  void start() override;
  /// Ends the sessions (WebSocket connections are closed by their endpoint threads), answers
  /// every waiting command with driverUnavailable. Safe to call twice.
  void stop() override;
  /// Forwards `document` (a command) to the driver's process and returns its response; an error
  /// response (driverUnavailable, driverTimeout) when it is not connected or does not answer in
  /// time. Never throws for a driver's failure.
  std::string deliver(std::string_view document) override;

  const std::string& name() const { return options_.name; }
  const ExternalOptions& options() const { return options_; }
  bool running() const;
  /// True when `presented` is this driver's key; takes the same time whatever it holds.
  bool checkKey(std::string_view presented) const;
  /// True while a session is registered and alive.
  bool registered() const;
  /// Waits up to `timeout` until a session is registered.
  bool waitRegistered(std::chrono::milliseconds timeout) const;
  /// The media of the registered session.
  std::vector<std::string> registeredMedia() const;
  const ExternalCounters& counters() const { return counters_; }

  // The endpoint's side.

  /// A new WebSocket connection (not yet registered).
  std::shared_ptr<Session> openSession(std::function<void(const std::string&)> send);
  /// The WebSocket connection ended: if it was registered, the driver is gone, and commands
  /// waiting for its answers get driverUnavailable.
  void closeSession(const std::shared_ptr<Session>& session);
  /// The driver's HTTP session.
  std::shared_ptr<Session> httpSession() const { return http_; }

  /// Handles one document the driver sent on `session`. Returns the response document, or an
  /// empty string when nothing is answered (the document was a response to a command). Throws
  /// InvalidDocument (what() is the codec's reason) for a document that is not a message: it is
  /// counted, logged and kept as a dead letter.
  std::string receive(std::string_view document, const std::shared_ptr<Session>& session);

  /// Long poll of the HTTP session: the next command, waiting up to `wait`; nothing when none
  /// came. Throws std::logic_error when the HTTP session is not registered (notRegistered).
  std::optional<std::string> nextCommand(std::chrono::milliseconds wait);

  /// The driver reports a document it could not read (a malformed command).
  void reportError(std::string text);

  /// Sends `document` to the registered session as it is, without waiting for an answer (for the
  /// conformance kit's malformed documents). False when no session is registered.
  bool push(const std::string& document);

 private:
  using Lock = std::unique_lock<std::mutex>;
  struct Pending {
    std::optional<std::string> answer;
  };

  bool liveLocked() const;
  std::string answerError(const Message& request, const std::string& code, const std::string& text);
  std::string failCommand(std::string_view document, const std::string& code,
                          const std::string& text);
  std::string refuse(const Message& request, const std::string& code, const std::string& text);
  std::string registerSession(const Message& message, const RegisterDriver& registration,
                              const std::shared_ptr<Session>& session);
  Message envelope(Payload payload);

  ExternalOptions options_;
  MessageSink& sink_;
  Logger& logger_;
  ExternalObserver observer_;
  MessageCodec codec_;
  ExternalCounters counters_;
  std::atomic<std::uint64_t> sequence_{0};
  std::shared_ptr<Session> http_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_; ///< registration, answers, outbox, stop
  bool running_ = false;
  std::uint64_t nextSessionId_ = 2;
  std::shared_ptr<Session> active_; ///< the registered session
  std::vector<std::string> media_;  ///< what it registered
  std::chrono::steady_clock::time_point lastHeard_{};
  std::map<std::string, std::shared_ptr<Pending>> pending_; ///< command id -> its answer
  std::deque<std::string> outbox_;                          ///< for the HTTP session's polls
};

/// The key comparison of checkKey(): true when equal, in time that depends only on the lengths.
bool constantTimeEquals(std::string_view a, std::string_view b);

} // namespace switchboard::external
