// The dispatcher against a real SQLite store and a real HTTP receiver on loopback.

#include "webhook_dispatcher.h"
#include "webhook_signature.h"

#include "tests/support/webhook_receiver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <unistd.h>

namespace switchboard::webhooks {
namespace {

using testing::WebhookReceiver;

Timestamp at(int seconds) {
  return Timestamp(std::chrono::milliseconds(1'772'442'000'000LL + seconds * 1000LL));
}

const std::string kSecret = "test-webhook-secret-0123456789";

class WebhookDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/switchboard-webhooks-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    options_.location = (dir_ / "store.db").string();
    store_ = openStore(options_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  WebhookOptions hook(const std::string& url) {
    WebhookOptions options;
    options.name = "crm";
    options.url = url;
    options.secret = kSecret;
    options.startAtEnd = false;
    options.firstBackoff = std::chrono::milliseconds(20);
    options.maxBackoff = std::chrono::milliseconds(100);
    options.pollInterval = std::chrono::milliseconds(20);
    options.timeout = std::chrono::seconds(5);
    return options;
  }

  std::unique_ptr<WebhookDispatcher> dispatcher(WebhookOptions options) {
    return std::make_unique<WebhookDispatcher>(*store_, std::move(options), "sb-1", metrics_,
                                               logger_);
  }

  /// An item that arrives at `second`, is offered, accepted and completed in the next seconds.
  std::string itemLife(const std::string& key, int second) {
    NewWorkItem arrival;
    arrival.source = "email-1";
    arrival.receivedAt = at(second);
    arrival.item.medium = "email";
    arrival.item.sourceKey = key;
    arrival.item.subject = "Subject " + key;
    std::string id = store_->commitArrival(arrival).workItemId;
    int step = second;
    for (WorkItemState state :
         {WorkItemState::Offered, WorkItemState::Accepted, WorkItemState::Completed}) {
      WorkItemChange change;
      change.workItemId = id;
      change.state = state;
      change.agentId = "a-ana";
      change.entry.time = at(++step);
      change.entry.cause = std::string(toString(state));
      change.entry.actorId = "a-ana";
      store_->recordChange(change);
    }
    return id;
  }

  void agentState(AgentState state, int second) {
    StoredAgent agent;
    agent.agent.id = "a-ana";
    agent.agent.state = state;
    agent.updated = at(second);
    agent.stateChanged = true;
    store_->saveAgent(agent).get();
  }

  std::filesystem::path dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
  MetricsRegistry metrics_;
  std::ostringstream log_;
  Logger logger_{LogLevel::Warn, log_};
};

std::string field(const std::string& body, const std::string& name) {
  auto root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  return root->getValue<std::string>(name);
}

std::string itemOf(const std::string& body) {
  auto root = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  auto item = root->getObject("workItem");
  return item ? item->getValue<std::string>("id") : std::string();
}

// Per work item, the event names in the order they were received.
std::map<std::string, std::vector<std::string>>
byItem(const std::vector<testing::ReceivedRequest>& requests) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& request : requests) {
    std::string item = itemOf(request.body);
    if (!item.empty()) {
      out[item].push_back(field(request.body, "event"));
    }
  }
  return out;
}

TEST_F(WebhookDispatcherTest, DeliversEveryEventOnceInOrderAndSigned) {
  WebhookReceiver receiver;
  std::string first = itemLife("<1@x>", 0);
  agentState(AgentState::Ready, 1);
  std::string second = itemLife("<2@x>", 2);
  store_->flush();

  auto hooks = dispatcher(hook(receiver.url()));
  hooks->start();
  ASSERT_TRUE(receiver.waitForAccepted(9));
  hooks->stop();
  auto received = receiver.accepted();
  ASSERT_EQ(received.size(), 9u) << "no event twice";

  auto lives = byItem(received);
  std::vector<std::string> life{"workItem.arrived", "workItem.routed", "workItem.accepted",
                                "workItem.completed"};
  EXPECT_EQ(lives[first], life);
  EXPECT_EQ(lives[second], life);
  std::set<std::string> ids;
  for (const auto& request : received) {
    const auto& headers = request.headers;
    ASSERT_TRUE(headers.contains("X-Switchboard-Signature"));
    EXPECT_EQ(headers.at("X-Switchboard-Signature"),
              signature(kSecret, headers.at("X-Switchboard-Timestamp"), request.body));
    EXPECT_EQ(headers.at("X-Switchboard-Event"), field(request.body, "event"));
    EXPECT_EQ(headers.at("X-Switchboard-Event-Id"), field(request.body, "id"));
    EXPECT_THAT(headers.at("Content-Type"), ::testing::StartsWith("application/json"));
    ids.insert(field(request.body, "id"));
  }
  EXPECT_EQ(ids.size(), 9u);
  EXPECT_EQ(field(received[2].body, "event"), "agent.stateChanged")
      << "the agent's change at second 1 comes after the first item's offer at second 1 and "
         "before its acceptance at second 2";
  EXPECT_EQ(hooks->status().delivered, 9u);
}

TEST_F(WebhookDispatcherTest, AReceiverThatIsDownGetsEverythingWhenItComesBack) {
  std::uint16_t port = 0;
  {
    WebhookReceiver probe; // finds a free port, then frees it: nothing listens there now
    port = probe.port();
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hooks";
  std::vector<std::string> items;
  for (int i = 0; i < 5; ++i) {
    items.push_back(itemLife("<down-" + std::to_string(i) + "@x>", i * 10));
  }
  store_->flush();
  auto hooks = dispatcher(hook(url));
  hooks->start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (hooks->status().failedAttempts < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(hooks->status().failedAttempts, 3u);
  EXPECT_FALSE(hooks->status().lastError.empty());

  // Up, but refusing for a while: 503s are retried like refused connections.
  WebhookReceiver receiver(port);
  int refusals = 4;
  receiver.answerWith([&](const testing::ReceivedRequest&) { return refusals-- > 0 ? 503 : 200; });
  ASSERT_TRUE(receiver.waitForAccepted(20));
  hooks->stop();
  auto received = receiver.accepted();
  EXPECT_EQ(received.size(), 20u);
  EXPECT_GE(receiver.attempts(), 24u);
  auto lives = byItem(received);
  for (const std::string& item : items) {
    EXPECT_THAT(lives[item], ::testing::ElementsAre("workItem.arrived", "workItem.routed",
                                                    "workItem.accepted", "workItem.completed"))
        << item;
  }
}

TEST_F(WebhookDispatcherTest, ARestartGoesOnFromTheSavedPosition) {
  WebhookReceiver receiver;
  itemLife("<r1@x>", 0);
  store_->flush();
  auto hooks = dispatcher(hook(receiver.url()));
  hooks->start();
  ASSERT_TRUE(receiver.waitForAccepted(4));
  hooks->stop();
  hooks.reset();
  store_->flush();

  std::string later = itemLife("<r2@x>", 10);
  store_->flush();
  hooks = dispatcher(hook(receiver.url()));
  hooks->start();
  ASSERT_TRUE(receiver.waitForAccepted(8));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  hooks->stop();
  auto received = receiver.accepted();
  EXPECT_EQ(received.size(), 8u) << "nothing delivered before the restart comes again";
  EXPECT_EQ(itemOf(received[4].body), later);
}

TEST_F(WebhookDispatcherTest, ANewHookStartsAfterWhatTheStoreAlreadyHas) {
  WebhookReceiver receiver;
  itemLife("<old@x>", 0);
  store_->flush();
  WebhookOptions options = hook(receiver.url());
  options.startAtEnd = true;
  auto hooks = dispatcher(options);
  hooks->start();
  std::string fresh = itemLife("<new@x>", 10);
  ASSERT_TRUE(receiver.waitForAccepted(4));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  hooks->stop();
  auto received = receiver.accepted();
  ASSERT_EQ(received.size(), 4u);
  EXPECT_EQ(itemOf(received[0].body), fresh);
}

TEST_F(WebhookDispatcherTest, AnEventRefusedPastTheHorizonIsDeadLetteredAndTheRestFlows) {
  WebhookReceiver receiver;
  std::string poisoned = itemLife("<poison@x>", 0);
  std::string healthy = itemLife("<fine@x>", 10);
  store_->flush();
  // The receiver refuses the first item's arrival, always.
  receiver.answerWith([&](const testing::ReceivedRequest& request) {
    return itemOf(request.body) == poisoned && field(request.body, "event") == "workItem.arrived"
               ? 500
               : 200;
  });
  WebhookOptions options = hook(receiver.url());
  options.retryHorizon = std::chrono::milliseconds(300);
  auto hooks = dispatcher(options);
  hooks->start();
  ASSERT_TRUE(receiver.waitForAccepted(7));
  hooks->stop();
  auto lives = byItem(receiver.accepted());
  EXPECT_THAT(lives[poisoned],
              ::testing::ElementsAre("workItem.routed", "workItem.accepted", "workItem.completed"));
  EXPECT_EQ(lives[healthy].size(), 4u);
  auto letters = store_->deadLetters(10);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].source, "webhook:crm");
  EXPECT_THAT(letters[0].reason, ::testing::HasSubstr("HTTP 500"));
  EXPECT_EQ(itemOf(letters[0].document), poisoned);
  EXPECT_EQ(hooks->status().deadLettered, 1u);
}

TEST_F(WebhookDispatcherTest, ReplayDeliversAgainFromAPointInTime) {
  WebhookReceiver receiver;
  itemLife("<p1@x>", 0);
  std::string second = itemLife("<p2@x>", 10);
  store_->flush();
  auto hooks = dispatcher(hook(receiver.url()));
  hooks->start();
  ASSERT_TRUE(receiver.waitForAccepted(8));
  hooks->replayFrom(at(10));
  ASSERT_TRUE(receiver.waitForAccepted(12));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  hooks->stop();
  auto received = receiver.accepted();
  ASSERT_EQ(received.size(), 12u);
  for (std::size_t i = 8; i < 12; ++i) {
    EXPECT_EQ(itemOf(received[i].body), second);
  }
  EXPECT_EQ(field(received[8].body, "id"), field(received[4].body, "id"))
      << "a replayed event keeps its id, so receivers can drop it";
}

TEST_F(WebhookDispatcherTest, OnlyTheSubscribedEventsAreSent) {
  WebhookReceiver receiver;
  itemLife("<f1@x>", 0);
  agentState(AgentState::NotReady, 5);
  itemLife("<f2@x>", 10);
  store_->flush();
  WebhookOptions options = hook(receiver.url());
  options.events = {"workItem.completed", "agent.stateChanged"};
  auto hooks = dispatcher(options);
  hooks->start();
  ASSERT_TRUE(receiver.waitForAccepted(3));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  hooks->stop();
  auto received = receiver.accepted();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(field(received[0].body, "event"), "workItem.completed");
  EXPECT_EQ(field(received[1].body, "event"), "agent.stateChanged");
  EXPECT_EQ(field(received[2].body, "event"), "workItem.completed");
}

TEST_F(WebhookDispatcherTest, BadOptionsAreRefusedByName) {
  WebhookOptions options = hook("ftp://crm.example/hooks");
  EXPECT_THROW(dispatcher(options), std::invalid_argument);
  options = hook("https://crm.example/hooks");
  options.secret = "short";
  EXPECT_THROW(dispatcher(options), std::invalid_argument);
  options = hook("https://crm.example/hooks");
  options.events = {"workItem.teleported"};
  try {
    dispatcher(options);
    FAIL() << "an unknown event name was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("crm"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("workItem.teleported"));
  }
}

} // namespace
} // namespace switchboard::webhooks
