#include "switchboard/communication_server.h"

#include "tests/support/memory_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

routing::AgentSpec agentProfile(std::string id, std::string skill, int level) {
  routing::AgentSpec agent;
  agent.id = std::move(id);
  agent.name = agent.id;
  agent.site = "lisbon";
  agent.skills = {{std::move(skill), level}};
  agent.capacity = {routing::CapacityMix{{{"email", 5}}}};
  return agent;
}

/// The memory store, whose asynchronous commits can be held until the test lets them go.
class HeldCommitsStore : public testing::MemoryStore {
 public:
  bool holdCommits = false;

  void commitArrivalAsync(const NewWorkItem& arrival, ArrivalDone done) override {
    if (!holdCommits) {
      MemoryStore::commitArrivalAsync(arrival, std::move(done));
      return;
    }
    std::lock_guard lock(heldMutex_);
    held_.emplace_back(arrival, std::move(done));
  }
  std::size_t held() {
    std::lock_guard lock(heldMutex_);
    return held_.size();
  }
  /// Commits the oldest held arrival, or fails it with `failure`.
  void release(const std::optional<std::string>& failure = std::nullopt) {
    std::pair<NewWorkItem, ArrivalDone> next;
    {
      std::lock_guard lock(heldMutex_);
      next = std::move(held_.front());
      held_.erase(held_.begin());
    }
    if (failure) {
      next.second(std::nullopt, *failure);
    } else {
      next.second(commitArrival(next.first), {});
    }
  }

 private:
  std::mutex heldMutex_;
  std::vector<std::pair<NewWorkItem, ArrivalDone>> held_;
};

class CommunicationServerTest : public ::testing::Test {
 protected:
  CommunicationServerTest() { options_ = makeOptions(); }

  static CoreOptions makeOptions() {
    CoreOptions options;
    options.serverId = "sb-test";
    options.runTimers = false;
    options.engine.defaultQueue = "general";
    routing::QueueSpec billing;
    billing.id = "billing";
    billing.target = "agent.skills.billing >= 1";
    billing.offerTimeout = 30s;
    routing::QueueSpec general;
    general.id = "general";
    general.offerTimeout = 30s;
    options.queues = {billing, general};
    routing::RuleSpec rule;
    rule.name = "billing";
    rule.when = "item.topic == 'billing'";
    rule.queue = "billing";
    routing::RuleSpec vip;
    vip.name = "vip";
    vip.when = "item.topic == 'billing'";
    vip.set = {routing::AttributeSpec::scalar("vip", "true")};
    options.rules = {vip, rule};
    options.agents = {agentProfile("a-ana", "billing", 7), agentProfile("a-rui", "technical", 5)};
    return options;
  }

  CommunicationServer& server() {
    if (!server_) {
      server_ = std::make_unique<CommunicationServer>(options_, store_, [this] { return now_; });
      server_->addListener([this](const Message& message) { published_.push_back(message); });
      server_->start();
    }
    return *server_;
  }

  void restart() {
    server_.reset();
    published_.clear();
    server();
  }

  std::string arrival(const std::string& sourceKey, const std::string& topic) {
    Message message;
    message.id = "mail-1." + sourceKey;
    message.time = now_;
    message.sender = {PartyType::Driver, "mail-1"};
    message.addressee = {PartyType::Server, "sb-test"};
    WorkItem item;
    item.medium = "email";
    item.sourceKey = sourceKey;
    item.subject = "about " + topic;
    item.attributes = {{"topic", topic}};
    message.workItems.push_back(item);
    message.payload = Notification{WorkItemArrived{}};
    return codec_.encode(message);
  }

  Message submit(const std::string& document) {
    return codec_.decode(server().submit(document)).value();
  }

  /// `id` is stored offered to Ana from the billing queue, and her offer was sent.
  void expectStoredOfferedToAna(const std::string& id, const StoredWorkItem& stored) const {
    EXPECT_EQ(stored.item.state, WorkItemState::Offered);
    EXPECT_EQ(stored.item.queueId, "billing");
    EXPECT_EQ(stored.item.agentId, "a-ana");
    EXPECT_EQ(stored.offerExpires, now_ + 30s);
    ASSERT_EQ(offersTo("a-ana").size(), 1u);
    EXPECT_EQ(offersTo("a-ana")[0].workItemId, id);
  }

  std::vector<Offer> offersTo(const std::string& agentId) const {
    std::vector<Offer> offers;
    for (const Message& message : published_) {
      if (const auto* command = std::get_if<Command>(&message.payload)) {
        if (const auto* offer = std::get_if<Offer>(command); offer && offer->agentId == agentId) {
          offers.push_back(*offer);
        }
      }
    }
    return offers;
  }

  /// Creates an item as POST /v1/work-items does; the answer lands in `answer`.
  void createAsync(const std::string& topic, std::optional<ServiceResult<ArrivalOutcome>>& answer) {
    WorkItem item;
    item.medium = "email";
    item.subject = "about " + topic;
    item.attributes = {{"topic", topic}};
    server().createWorkItemAsync(
        item, "api", [](std::function<void()> task) { task(); },
        [&answer](ServiceResult<ArrivalOutcome> result) { answer = std::move(result); });
  }

  CoreOptions options_;
  HeldCommitsStore store_;
  MessageCodec codec_;
  Timestamp now_ = Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 21}} + 9h;
  std::vector<Message> published_;
  std::unique_ptr<CommunicationServer> server_;
};

TEST_F(CommunicationServerTest, AnArrivalIsCommittedAcknowledgedAndOfferedToAReadyAgent) {
  ASSERT_TRUE(server().setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());
  Message response = submit(arrival("<m1@x>", "billing"));
  const auto& answer = std::get<Response>(response.payload);
  ASSERT_EQ(answer.status, ResponseStatus::Ok)
      << (answer.error ? answer.error->code + ": " + answer.error->text : "");
  ASSERT_EQ(response.workItems.size(), 1u);
  std::string id = response.workItems[0].id.value();
  EXPECT_EQ(response.correlationId, "mail-1.<m1@x>");

  auto stored = store_.workItem(id, true);
  ASSERT_TRUE(stored.has_value());
  expectStoredOfferedToAna(id, *stored);

  auto details = server().workItem(id);
  ASSERT_TRUE(details.ok());
  ASSERT_TRUE(details->trace.has_value());
  EXPECT_THAT(*details->trace, HasSubstr("a-ana"));
}

TEST_F(CommunicationServerTest, AttributesSetByClassificationAreKeptWithTheItem) {
  std::string id = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  auto stored = store_.workItem(id, true);
  ASSERT_TRUE(stored.has_value());
  EXPECT_THAT(stored->item.attributes, ::testing::Contains(Attribute{"vip", "true"}));
  EXPECT_THAT(stored->item.attributes, ::testing::Contains(Attribute{"topic", "billing"}));
  EXPECT_EQ(stored->item.subject, "about billing");
  EXPECT_THAT(stored->item.history.back().cause, HasSubstr("classified: vip=true"));
  std::string plain = submit(arrival("<m2@x>", "technical")).workItems.at(0).id.value();
  auto unclassified = store_.workItem(plain, true);
  ASSERT_TRUE(unclassified.has_value());
  for (const HistoryEntry& entry : unclassified->item.history) {
    EXPECT_THAT(entry.cause, ::testing::Not(HasSubstr("classified:")));
  }
}

TEST_F(CommunicationServerTest, TheSameMailTwiceIsADuplicateNotASecondItem) {
  Message first = submit(arrival("<m1@x>", "billing"));
  Message second = submit(arrival("<m1@x>", "billing"));
  EXPECT_EQ(std::get<Response>(second.payload).status, ResponseStatus::Duplicate);
  EXPECT_EQ(second.workItems.at(0).id, first.workItems.at(0).id);
  EXPECT_EQ(store_.workItems({}).size(), 1u);
}

TEST_F(CommunicationServerTest, AnUnreadableDocumentIsRefusedAndKeptAsADeadLetter) {
  EXPECT_THROW(server().submit("<message>not ours</message>"), InvalidDocument);
  auto letters = server().deadLetters(10);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_THAT(letters[0].document, HasSubstr("not ours"));
  auto exchanged = server().exchange("garbage", {PartyType::Crm, "crm"});
  ASSERT_FALSE(exchanged.ok());
  EXPECT_EQ(exchanged.error().code, ServiceErrorCode::BadRequest);
  EXPECT_EQ(server().deadLetters(10).size(), 2u);
}

TEST_F(CommunicationServerTest, ARejectedContactBecomesADeadLetterWithItsReason) {
  Message message;
  message.id = "mail-1.9";
  message.sender = {PartyType::Driver, "mail-1"};
  message.addressee = {PartyType::Server, "sb-test"};
  message.payload = Notification{ContactRejected{"over the limit", std::nullopt, "rejected/1", 9}};
  Message response = submit(codec_.encode(message));
  EXPECT_EQ(std::get<Response>(response.payload).status, ResponseStatus::Ok);
  auto letters = server().deadLetters(10);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].source, "mail-1");
  EXPECT_EQ(letters[0].reason, "over the limit");
}

TEST_F(CommunicationServerTest, AcceptAndCompleteAreDurableWhenTheyAnswer) {
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt);
  std::string id = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  auto accepted = server().accept(id, "a-ana");
  ASSERT_TRUE(accepted.ok()) << accepted.error().detail;
  EXPECT_EQ(accepted->item.state, WorkItemState::Accepted);
  EXPECT_EQ(store_.workItem(id, false)->item.state, WorkItemState::Accepted);
  auto completed = server().complete({id, "a-ana", "resolved", "refund issued"});
  ASSERT_TRUE(completed.ok()) << completed.error().detail;
  auto history = store_.workItem(id, true)->item.history;
  EXPECT_EQ(store_.workItem(id, false)->item.state, WorkItemState::Completed);
  EXPECT_THAT(history.back().cause, HasSubstr("disposition resolved: refund issued"));
}

TEST_F(CommunicationServerTest, RefusesWhatIsNotAllowed) {
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt);
  std::string id = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  EXPECT_EQ(server().accept(id, "a-rui").error().code, ServiceErrorCode::Conflict);
  EXPECT_EQ(server().accept("wi-999999", "a-ana").error().code, ServiceErrorCode::NotFound);
  EXPECT_EQ(server().setAgentState("a-ana", AgentState::Busy, std::nullopt).error().code,
            ServiceErrorCode::BadRequest);
  EXPECT_EQ(server().agent("a-nobody").error().code, ServiceErrorCode::NotFound);
  EXPECT_EQ(server().workItem("wi-999999").error().code, ServiceErrorCode::NotFound);
}

TEST_F(CommunicationServerTest, AnAgentCannotActForAnotherOverTheMessageExchange) {
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt);
  std::string id = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  Message command;
  command.id = "a-rui.1";
  command.sender = {PartyType::Agent, "a-rui"};
  command.addressee = {PartyType::Server, "sb-test"};
  command.payload = Command{Accept{id, "a-ana"}};
  auto answer = server().exchange(codec_.encode(command), {PartyType::Agent, "a-rui"});
  ASSERT_TRUE(answer.ok());
  auto response = std::get<Response>(codec_.decode(*answer)->payload);
  EXPECT_EQ(response.status, ResponseStatus::Error);
  EXPECT_EQ(response.error->code, "forbidden");
  command.sender.id = "a-ana";
  auto impersonated = server().exchange(codec_.encode(command), {PartyType::Agent, "a-rui"});
  EXPECT_EQ(std::get<Response>(codec_.decode(*impersonated)->payload).error->code, "forbidden");
  command.sender = {PartyType::Agent, "a-ana"};
  auto own = server().exchange(codec_.encode(command), {PartyType::Agent, "a-ana"});
  EXPECT_EQ(std::get<Response>(codec_.decode(*own)->payload).status, ResponseStatus::Ok);
}

TEST_F(CommunicationServerTest, ADeclinedOfferGoesToTheNextAgentAtOnce) {
  options_.agents.push_back(agentProfile("a-eva", "billing", 3));
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt);
  server().setAgentState("a-eva", AgentState::Ready, std::nullopt);
  std::string id = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  std::string first = store_.workItem(id, false)->item.agentId.value();
  std::string second = first == "a-ana" ? "a-eva" : "a-ana";
  ASSERT_TRUE(server().decline(id, first, "busy").ok());
  EXPECT_EQ(store_.workItem(id, false)->item.agentId, second);
  EXPECT_EQ(offersTo(second).size(), 1u);
}

TEST_F(CommunicationServerTest, AnExpiredOfferIsReroutedWhenTheTimerFires) {
  options_.agents.push_back(agentProfile("a-eva", "billing", 3));
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt);
  server().setAgentState("a-eva", AgentState::Ready, std::nullopt);
  std::string id = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  std::string first = store_.workItem(id, false)->item.agentId.value();
  now_ += 31s;
  server().tick();
  auto stored = store_.workItem(id, true);
  EXPECT_EQ(stored->item.state, WorkItemState::Offered);
  EXPECT_NE(stored->item.agentId, first);
}

TEST_F(CommunicationServerTest, QueueStatisticsCountWaitingAndAnswered) {
  submit(arrival("<m1@x>", "billing"));
  now_ += 10s;
  submit(arrival("<m2@x>", "billing"));
  now_ += 5s;
  auto queues = server().queues();
  ASSERT_EQ(queues.size(), 2u);
  EXPECT_EQ(queues[0].id, "billing");
  EXPECT_EQ(queues[0].waiting, 2u);
  EXPECT_EQ(queues[0].oldestWait, 15s);
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt); // room for both emails
  auto offered = store_.workItems({WorkItemState::Offered, {}, {}, {}, {}, 10});
  ASSERT_EQ(offered.size(), 2u);
  ASSERT_TRUE(server().accept(*offered[0].item.id, "a-ana").ok());
  queues = server().queues();
  EXPECT_EQ(queues[0].waiting, 0u);
  EXPECT_EQ(queues[0].answeredToday, 1u);
  EXPECT_EQ(queues[0].serviceLevel, 1.0); // answered 15 s after arrival, within 20 s
  EXPECT_EQ(queues[0].agentsBusy, 1u);
  // The second item arrived at 10 s; accepted at 31 s, 21 s after it arrived (its offer expires
  // at 45 s), it missed the 20 s service level.
  now_ += 16s;
  ASSERT_TRUE(server().accept(*offered[1].item.id, "a-ana").ok());
  queues = server().queues();
  EXPECT_EQ(queues[0].answeredToday, 2u);
  EXPECT_EQ(queues[0].serviceLevel, 0.5);
}

TEST_F(CommunicationServerTest, AfterARestartItemsAndAgentsAreBackInTheirState) {
  server().setAgentState("a-ana", AgentState::Ready, std::nullopt);
  std::string accepted = submit(arrival("<m1@x>", "billing")).workItems.at(0).id.value();
  ASSERT_TRUE(server().accept(accepted, "a-ana").ok());
  std::string waiting = submit(arrival("<m2@x>", "technical")).workItems.at(0).id.value();
  restart();
  EXPECT_EQ(store_.workItem(accepted, false)->item.state, WorkItemState::Accepted);
  EXPECT_EQ(store_.workItem(waiting, false)->item.state, WorkItemState::Queued);
  EXPECT_EQ(server().queues()[1].waiting, 1u);
  // Ana was logged in: she is back, holding her accepted item, and gets no new offers until she
  // says she is ready again.
  std::string fresh = submit(arrival("<m3@x>", "billing")).workItems.at(0).id.value();
  EXPECT_EQ(store_.workItem(fresh, false)->item.state, WorkItemState::Queued);
  EXPECT_TRUE(offersTo("a-ana").empty());
  // The accepted item is still hers: completing it works, and she stays not ready.
  ASSERT_TRUE(server().complete({accepted, "a-ana", std::nullopt, std::nullopt}).ok());
  auto ana = server().agent("a-ana");
  ASSERT_TRUE(ana.ok());
  EXPECT_EQ(ana->state, AgentState::NotReady);
  EXPECT_EQ(ana->stateReason, "recovered");
  EXPECT_TRUE(offersTo("a-ana").empty());
  // A logged-out agent stays logged out.
  EXPECT_EQ(server().agent("a-rui")->state, AgentState::LoggedOut);
}

TEST_F(CommunicationServerTest, CountsWhatHappensForMetrics) {
  MetricsRegistry metrics;
  server_ = std::make_unique<CommunicationServer>(options_, store_, [this] { return now_; });
  server_->registerMetrics(metrics);
  server_->start();
  submit(arrival("<m1@x>", "billing"));
  submit(arrival("<m1@x>", "billing"));
  submit(arrival("<m2@x>", "technical"));
  EXPECT_THROW(server().submit("not a message"), InvalidDocument);
  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("switchboard_work_items_total{outcome=\"arrived\"} 2"));
  EXPECT_THAT(text, HasSubstr("switchboard_work_items_total{outcome=\"duplicate\"} 1"));
  EXPECT_THAT(text, HasSubstr("switchboard_dead_letters_total{source=\"driver\"} 1"));
  EXPECT_THAT(text, HasSubstr("switchboard_live_work_items{state=\"queued\",queue=\"billing\"} 1"));
  EXPECT_THAT(text, HasSubstr("switchboard_live_work_items{state=\"queued\",queue=\"general\"} 1"));
  EXPECT_THAT(text, HasSubstr("switchboard_routing_call_seconds_count 2"));
  EXPECT_THAT(text, HasSubstr("switchboard_store_writes_total"));
}

TEST(AgentProfile, ShowsTheLargestCapacityOfAnyMixAndJoinsLists) {
  routing::AgentSpec spec;
  spec.id = "a-ana";
  spec.site = "lisbon";
  spec.attributes = {routing::AttributeSpec::list("languages", {"pt", "en"})};
  spec.capacity = {routing::CapacityMix{{{"voice", 1}}},
                   routing::CapacityMix{{{"chat", 3}, {"email", 5}}},
                   routing::CapacityMix{{{"chat", 2}, {"voice", 1}}}};
  Agent agent = profileOf(spec);
  EXPECT_EQ(agent.site, "lisbon");
  EXPECT_FALSE(agent.name.has_value());
  ASSERT_EQ(agent.attributes.size(), 1u);
  EXPECT_EQ(agent.attributes[0].value, "pt en");
  ASSERT_EQ(agent.capacity.size(), 3u);
  EXPECT_EQ(agent.capacity[0], (Capacity{"voice", 1, std::nullopt}));
  EXPECT_EQ(agent.capacity[1], (Capacity{"chat", 3, std::nullopt}));
  EXPECT_EQ(agent.capacity[2], (Capacity{"email", 5, std::nullopt}));
}

TEST_F(CommunicationServerTest, AnArrivalIsNotAcknowledgedWhenTheStoreFails) {
  server();
  store_.setBroken(true);
  EXPECT_THROW(server().submit(arrival("<m1@x>", "billing")), StoreError);
  store_.setBroken(false);
  EXPECT_EQ(std::get<Response>(submit(arrival("<m1@x>", "billing")).payload).status,
            ResponseStatus::Ok);
}

// An item the store can number before the commit is routed first and committed once with its
// routing steps; its offer and its answer wait for the commit, which the store holds until the
// test releases it. Ana is ready.
class RoutedBeforeCommitTest : public CommunicationServerTest {
 protected:
  void SetUp() override {
    store_.reservesIds = true;
    store_.holdCommits = true;
    ASSERT_TRUE(server().setAgentState("a-ana", AgentState::Ready, std::nullopt).ok());
  }
};

TEST_F(RoutedBeforeCommitTest, AnItemIsOfferedOnlyOnceCommitted) {
  std::optional<ServiceResult<ArrivalOutcome>> answer;
  createAsync("billing", answer);
  ASSERT_EQ(store_.held(), 1u);
  EXPECT_FALSE(answer.has_value());
  EXPECT_TRUE(offersTo("a-ana").empty());
  EXPECT_TRUE(store_.workItems(WorkItemFilter{}).empty());

  store_.release();
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok());
  std::string id = (*answer)->workItemId;
  auto stored = store_.workItem(id, true);
  ASSERT_TRUE(stored.has_value());
  expectStoredOfferedToAna(id, *stored);
  EXPECT_THAT(stored->item.attributes, ::testing::Contains(Attribute{"vip", "true"}));
  ASSERT_GE(stored->item.history.size(), 2u);
  EXPECT_EQ(stored->item.history.front().cause, "arrived");
  EXPECT_EQ(stored->item.history.front().state, WorkItemState::New);
  EXPECT_EQ(stored->item.history.back().state, WorkItemState::Offered);
}

TEST_F(RoutedBeforeCommitTest, AnItemWhoseCommitFailsIsNeitherOfferedNorKept) {
  std::optional<ServiceResult<ArrivalOutcome>> failed;
  createAsync("billing", failed);
  store_.release("disk full (test)");
  ASSERT_TRUE(failed.has_value());
  ASSERT_FALSE(failed->ok());
  EXPECT_THAT(failed->error().detail, HasSubstr("disk full"));
  EXPECT_TRUE(offersTo("a-ana").empty());
  // The engine let the item go: the agent it was reserved for holds nothing.
  for (const QueueStatus& queue : server().queues()) {
    EXPECT_EQ(queue.agentsBusy, 0u) << queue.id;
    EXPECT_EQ(queue.waiting, 0u) << queue.id;
  }

  // The agent the refused item was reserved for is free for the next one.
  std::optional<ServiceResult<ArrivalOutcome>> next;
  createAsync("billing", next);
  store_.release();
  ASSERT_TRUE(next.has_value() && next->ok());
  ASSERT_EQ(offersTo("a-ana").size(), 1u);
  EXPECT_EQ(offersTo("a-ana")[0].workItemId, (*next)->workItemId);
}

} // namespace
} // namespace switchboard
