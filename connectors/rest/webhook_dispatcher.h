#pragma once

// Web hooks: every work item step and agent state change the store has committed is POSTed to
// the CRM's URL, at least once and in order.
//
// The store's event logs are the outbox (switchboard/store.h, StoreEvent): an event exists for a
// web hook once the change behind it is durable, and nothing else has to be written on the hot
// path. Each web hook keeps its position in the logs as a store cursor ("webhook:<name>:items",
// "webhook:<name>:agents"), saved after each delivery, so that after a crash or a restart it
// goes on from there: an event delivered just before a crash may be delivered again (receivers
// drop repeats by the X-Switchboard-Event-Id header), none is skipped.
//
// One thread per web hook delivers one event at a time, oldest first (the two logs merged by
// time), so the events of a work item arrive in the order they happened. A failed delivery
// (no connection, a timeout, any status but 2xx) is retried with exponential backoff; an event
// still not delivered after the retry horizon is kept as a dead letter (source
// "webhook:<name>", the reason and the body) and the hook goes on with the next.
//
// Requests: POST <url> with Content-Type application/json or application/xml and the headers
// X-Switchboard-Event (the event's name), X-Switchboard-Event-Id, X-Switchboard-Timestamp and
// X-Switchboard-Signature (webhook_signature.h).

#include "webhook_event.h"

#include "switchboard/log.h"
#include "switchboard/metrics.h"
#include "switchboard/store.h"

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::webhooks {

/// One HTTP request of a delivery.
struct Delivery {
  std::string url;
  std::string contentType;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10'000};
};

/// How a request went: delivered on a 2xx answer; otherwise what happened ("HTTP 503",
/// "connection refused ...").
struct DeliveryResult {
  bool delivered = false;
  std::string detail;
};

/// Sends one request and waits for its answer. Must not throw; called from the hook's thread.
using Poster = std::function<DeliveryResult(const Delivery&)>;

/// The Poster that sends over HTTP(S) with cpprestsdk's http_client.
Poster httpPoster();

struct WebhookOptions {
  std::string name; ///< unique among the web hooks; in cursors, metrics and dead letters
  std::string url;  ///< http:// or https://
  PayloadFormat format = PayloadFormat::Json;
  std::string secret;           ///< HMAC key of the signature; at least 16 bytes
  std::set<std::string> events; ///< names from kEventNames; empty: every event
  std::chrono::milliseconds timeout{10'000};
  std::chrono::milliseconds retryHorizon{std::chrono::hours(24)};
  std::chrono::milliseconds firstBackoff{500};
  std::chrono::milliseconds maxBackoff{std::chrono::minutes(5)};
  /// How often the logs are read when there is nothing to deliver.
  std::chrono::milliseconds pollInterval{200};
  /// A hook that has never run starts after the events already in the store (true) or from the
  /// first event the store has (false).
  bool startAtEnd = true;
};

/// What GET /v1/webhooks shows of a hook.
struct WebhookStatus {
  std::string name;
  std::string url;
  std::int64_t itemCursor = 0;
  std::int64_t agentCursor = 0;
  std::uint64_t delivered = 0;
  std::uint64_t failedAttempts = 0;
  std::uint64_t deadLettered = 0;
  std::string lastError; ///< empty when the last attempt succeeded
};

class WebhookDispatcher {
 public:
  /// Checks the options (throws std::invalid_argument naming the hook for a bad URL, an unknown
  /// event name, a short secret) and registers the metrics
  /// switchboard_webhook_deliveries_total{webhook,outcome} (outcome delivered, failed,
  /// deadLettered). `store`, `metrics` and `logger` must outlive the dispatcher.
  WebhookDispatcher(Store& store, WebhookOptions options, std::string serverId,
                    MetricsRegistry& metrics, Logger& logger, Poster poster = httpPoster());
  /// Stops.
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  /// Reads (or, on first run, sets) the cursors and starts delivering. Throws StoreError.
  void start();
  /// Ends the thread; an attempt in progress is finished (it may take up to the timeout).
  /// Idempotent.
  void stop();

  /// Delivers again every event from `from` on: the cursors go back to that time (events of
  /// that time included), durably, before this returns. Throws StoreError.
  void replayFrom(Timestamp from);

  WebhookStatus status() const;
  const std::string& name() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace switchboard::webhooks
