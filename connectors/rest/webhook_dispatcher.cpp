#include "webhook_dispatcher.h"

#include "webhook_signature.h"

#include "switchboard/timestamp.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace switchboard::webhooks {

namespace {

constexpr std::size_t kPage = 200;

std::string itemCursorName(const std::string& hook) {
  return "webhook:" + hook + ":items";
}

std::string agentCursorName(const std::string& hook) {
  return "webhook:" + hook + ":agents";
}

void check(const WebhookOptions& options) {
  auto fail = [&](const std::string& reason) {
    throw std::invalid_argument("web hook '" + options.name + "': " + reason);
  };
  if (options.name.empty()) {
    throw std::invalid_argument("a web hook needs a name");
  }
  if (!options.url.starts_with("http://") && !options.url.starts_with("https://")) {
    fail("the URL must start with http:// or https://");
  }
  if (options.secret.size() < 16) {
    fail("the signing secret must be at least 16 bytes");
  }
  for (const std::string& event : options.events) {
    if (std::find(std::begin(kEventNames), std::end(kEventNames), event) == std::end(kEventNames)) {
      fail("'" + event + "' is not an event name");
    }
  }
  if (options.timeout.count() <= 0 || options.firstBackoff.count() <= 0 ||
      options.pollInterval.count() <= 0) {
    fail("timeout, backoff and poll interval must be positive");
  }
}

std::string secondsNow() {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

} // namespace

struct WebhookDispatcher::State {
  State(Store& s, WebhookOptions o, std::string server, MetricsRegistry& metrics, Logger& l,
        Poster p)
      : store(s), options(std::move(o)), serverId(std::move(server)), logger(l),
        poster(std::move(p)),
        outcomes(metrics.counterFamily("switchboard_webhook_deliveries_total",
                                       "Web hook delivery attempts by outcome",
                                       {"webhook", "outcome"})) {}

  void run();
  /// Delivers `event`, retrying until it is delivered, dead-lettered, or the hook stops.
  /// Returns false when it stopped first.
  bool deliver(const StoreEvent& event);
  /// Waits `pause` or until stop or replay; returns false on stop.
  bool pauseFor(std::chrono::milliseconds pause);
  void refill(std::deque<StoreEvent>& page, StoreEvent::Subject subject, std::int64_t after);
  void advance(const StoreEvent& event);

  Store& store;
  const WebhookOptions options;
  const std::string serverId;
  Logger& logger;
  Poster poster;
  MessageCodec codec;
  Family<Counter>& outcomes;

  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool replayed = false; ///< the cursors were moved under the thread's feet
  std::int64_t itemCursor = 0;
  std::int64_t agentCursor = 0;
  WebhookStatus status;
  std::thread thread;
};

bool WebhookDispatcher::State::pauseFor(std::chrono::milliseconds pause) {
  std::unique_lock lock(mutex);
  wake.wait_for(lock, pause, [&] { return stopping || replayed; });
  return !stopping;
}

void WebhookDispatcher::State::refill(std::deque<StoreEvent>& page, StoreEvent::Subject subject,
                                      std::int64_t after) {
  if (!page.empty()) {
    return;
  }
  for (StoreEvent& event : store.events(subject, after, kPage)) {
    page.push_back(std::move(event));
  }
}

void WebhookDispatcher::State::advance(const StoreEvent& event) {
  std::lock_guard lock(mutex);
  if (replayed) {
    return; // the replay's cursors win over an event delivered meanwhile
  }
  bool items = event.subject == StoreEvent::Subject::WorkItem;
  std::int64_t& cursor = items ? itemCursor : agentCursor;
  cursor = event.id;
  (items ? status.itemCursor : status.agentCursor) = event.id;
  // Not waited for: a cursor that lags after a crash means a repeat, never a loss.
  store.saveCursor(items ? itemCursorName(options.name) : agentCursorName(options.name), event.id);
}

void WebhookDispatcher::State::run() {
  std::deque<StoreEvent> items;
  std::deque<StoreEvent> agents;
  for (;;) {
    std::int64_t itemsAfter = 0;
    std::int64_t agentsAfter = 0;
    {
      std::lock_guard lock(mutex);
      if (stopping) {
        return;
      }
      if (replayed) {
        items.clear();
        agents.clear();
        replayed = false;
      }
      itemsAfter = items.empty() ? itemCursor : items.back().id;
      agentsAfter = agents.empty() ? agentCursor : agents.back().id;
    }
    try {
      refill(items, StoreEvent::Subject::WorkItem, itemsAfter);
      refill(agents, StoreEvent::Subject::Agent, agentsAfter);
    } catch (const std::exception& e) {
      logger.warn("webhook.store_unavailable",
                  {{"webhook", options.name}, {"reason", std::string(e.what())}});
      if (!pauseFor(options.firstBackoff)) {
        return;
      }
      continue;
    }
    if (items.empty() && agents.empty()) {
      if (!pauseFor(options.pollInterval)) {
        return;
      }
      continue;
    }
    // The older head goes first; at the same time a work item's step before an agent's change.
    bool takeItem = !items.empty() && (agents.empty() || items.front().time <= agents.front().time);
    std::deque<StoreEvent>& from = takeItem ? items : agents;
    StoreEvent event = from.front();
    if (!deliver(event)) {
      return;
    }
    std::lock_guard lock(mutex);
    if (!replayed && !from.empty() && from.front().id == event.id) {
      from.pop_front();
    }
  }
}

bool WebhookDispatcher::State::deliver(const StoreEvent& event) {
  std::string name = eventName(event);
  if (!options.events.empty() && !options.events.contains(name)) {
    advance(event);
    return true;
  }
  std::optional<StoredWorkItem> item;
  if (event.subject == StoreEvent::Subject::WorkItem) {
    for (;;) {
      try {
        item = store.workItem(event.subjectId, false);
        break;
      } catch (const std::exception& e) {
        if (!pauseFor(options.firstBackoff)) {
          return false;
        }
      }
    }
  }
  EventPayload payload = buildPayload(event, item, options.format, serverId, codec);
  Delivery request;
  request.url = options.url;
  request.contentType = payload.contentType;
  request.body = payload.body;
  request.timeout = options.timeout;

  auto firstFailure = std::chrono::steady_clock::time_point{};
  std::chrono::milliseconds backoff = options.firstBackoff;
  for (;;) {
    std::string timestamp = secondsNow();
    request.headers = {
        {"X-Switchboard-Event", payload.name},
        {"X-Switchboard-Event-Id", payload.id},
        {"X-Switchboard-Timestamp", timestamp},
        {"X-Switchboard-Signature", signature(options.secret, timestamp, payload.body)}};
    DeliveryResult result = poster(request);
    if (result.delivered) {
      outcomes.with({options.name, "delivered"}).inc();
      {
        std::lock_guard lock(mutex);
        ++status.delivered;
        status.lastError.clear();
      }
      advance(event);
      return true;
    }
    outcomes.with({options.name, "failed"}).inc();
    auto now = std::chrono::steady_clock::now();
    if (firstFailure == std::chrono::steady_clock::time_point{}) {
      firstFailure = now;
      logger.warn("webhook.delivery_failed",
                  {{"webhook", options.name}, {"event", payload.id}, {"reason", result.detail}});
    }
    {
      std::lock_guard lock(mutex);
      ++status.failedAttempts;
      status.lastError = result.detail;
    }
    if (now - firstFailure >= options.retryHorizon) {
      DeadLetter letter;
      letter.source = "webhook:" + options.name;
      letter.reason = "event " + payload.id + " (" + payload.name + ") not delivered to " +
                      options.url + " within the retry horizon: " + result.detail;
      letter.document = payload.body;
      try {
        store.recordDeadLetter(letter);
      } catch (const std::exception& e) {
        // Without its dead letter the event must not be dropped: try again later.
        if (!pauseFor(backoff)) {
          return false;
        }
        continue;
      }
      outcomes.with({options.name, "deadLettered"}).inc();
      logger.error("webhook.dead_lettered",
                   {{"webhook", options.name}, {"event", payload.id}, {"reason", result.detail}});
      {
        std::lock_guard lock(mutex);
        ++status.deadLettered;
      }
      advance(event);
      return true;
    }
    if (!pauseFor(backoff)) {
      return false;
    }
    {
      std::lock_guard lock(mutex);
      if (replayed) {
        return true; // the cursors moved: the loop starts over from them
      }
    }
    backoff = std::min(backoff * 2, options.maxBackoff);
  }
}

WebhookDispatcher::WebhookDispatcher(Store& store, WebhookOptions options, std::string serverId,
                                     MetricsRegistry& metrics, Logger& logger, Poster poster) {
  check(options);
  state_ = std::make_unique<State>(store, std::move(options), std::move(serverId), metrics, logger,
                                   std::move(poster));
  state_->status.name = state_->options.name;
  state_->status.url = state_->options.url;
}

WebhookDispatcher::~WebhookDispatcher() {
  stop();
}

void WebhookDispatcher::start() {
  State& s = *state_;
  if (s.thread.joinable()) {
    return;
  }
  auto load = [&](const std::string& name, StoreEvent::Subject subject) {
    if (std::optional<std::int64_t> saved = s.store.cursor(name)) {
      return *saved;
    }
    std::int64_t initial = 0;
    if (s.options.startAtEnd) {
      initial = s.store.eventCursorAt(subject, Timestamp(std::chrono::milliseconds(
                                                   std::numeric_limits<std::int64_t>::max() / 2)));
    }
    s.store.saveCursor(name, initial).get();
    return initial;
  };
  std::int64_t items = load(itemCursorName(s.options.name), StoreEvent::Subject::WorkItem);
  std::int64_t agents = load(agentCursorName(s.options.name), StoreEvent::Subject::Agent);
  {
    std::lock_guard lock(s.mutex);
    s.itemCursor = s.status.itemCursor = items;
    s.agentCursor = s.status.agentCursor = agents;
    s.stopping = false;
  }
  s.thread = std::thread([&s] { s.run(); });
}

void WebhookDispatcher::stop() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    s.stopping = true;
  }
  s.wake.notify_all();
  if (s.thread.joinable()) {
    s.thread.join();
  }
}

void WebhookDispatcher::replayFrom(Timestamp from) {
  State& s = *state_;
  std::int64_t items = s.store.eventCursorAt(StoreEvent::Subject::WorkItem, from);
  std::int64_t agents = s.store.eventCursorAt(StoreEvent::Subject::Agent, from);
  s.store.saveCursor(itemCursorName(s.options.name), items).get();
  s.store.saveCursor(agentCursorName(s.options.name), agents).get();
  {
    std::lock_guard lock(s.mutex);
    s.itemCursor = s.status.itemCursor = items;
    s.agentCursor = s.status.agentCursor = agents;
    s.replayed = true;
  }
  s.wake.notify_all();
  s.logger.info("webhook.replay", {{"webhook", s.options.name}, {"from", formatTimestamp(from)}});
}

WebhookStatus WebhookDispatcher::status() const {
  std::lock_guard lock(state_->mutex);
  return state_->status;
}

const std::string& WebhookDispatcher::name() const {
  return state_->options.name;
}

} // namespace switchboard::webhooks
