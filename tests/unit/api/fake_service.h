#pragma once

// A Service for the REST API's tests: in-memory agents and work items, every call recorded.

#include "switchboard/service.h"

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>

namespace switchboard::testing {

class FakeService : public Service {
 public:
  FakeService() {
    Agent alice;
    alice.id = "alice";
    alice.name = "Alice";
    alice.site = "berlin";
    alice.state = AgentState::Ready;
    alice.skills = {{"english", 8}};
    alice.capacity = {{"email", 5, 1}};
    alice.attributes = {{"team", "blue"}};
    agents_["alice"] = alice;
    Agent bob;
    bob.id = "bob";
    bob.state = AgentState::NotReady;
    agents_["bob"] = bob;

    addItem("wi-1", WorkItemState::Offered, "alice");
    addItem("wi-2", WorkItemState::Accepted, "bob");
    addItem("wi-3", WorkItemState::Queued, std::nullopt);

    queues_ = {{"sales", 3, std::chrono::milliseconds(4500), 2, 1, 0.9, 10, 1}};
    DeadLetter letter;
    letter.id = 7;
    letter.source = "maildir";
    letter.reason = "1:1: not well-formed";
    letter.document = "<oops";
    letters_.push_back(letter);
  }

  void addItem(const std::string& id, WorkItemState state, std::optional<std::string> agent) {
    StoredWorkItem stored;
    stored.item.id = id;
    stored.item.medium = "email";
    stored.item.state = state;
    stored.item.queueId = "sales";
    stored.item.agentId = std::move(agent);
    stored.item.subject = "Where is my order?";
    stored.item.body = Body{std::nullopt, "Hello"};
    stored.item.customer = Customer{};
    stored.item.customer->addresses.push_back({"email", "carol@example.com", "Carol"});
    stored.item.history.push_back({Timestamp{}, WorkItemState::Queued, "arrived", std::nullopt});
    stored.source = "maildir";
    items_[id] = stored;
  }

  // ---------------------------------------------------------------------------------- agents
  std::vector<Agent> agents() override {
    std::lock_guard lock(mutex_);
    maybeThrow();
    std::vector<Agent> out;
    for (auto& [id, agent] : agents_) {
      out.push_back(agent);
    }
    return out;
  }
  ServiceResult<Agent> agent(const std::string& id) override {
    std::lock_guard lock(mutex_);
    maybeThrow();
    auto found = agents_.find(id);
    if (found == agents_.end()) {
      return notFound("unknown agent", id);
    }
    return found->second;
  }
  ServiceResult<Agent> upsertAgent(const Agent& profile) override {
    std::lock_guard lock(mutex_);
    Agent stored = profile;
    if (auto found = agents_.find(profile.id); found != agents_.end()) {
      stored.state = found->second.state;
    } else {
      stored.state = AgentState::LoggedOut;
    }
    agents_[profile.id] = stored;
    return stored;
  }
  ServiceResult<Agent> setAgentState(const std::string& id, AgentState state,
                                     const std::optional<std::string>& reason) override {
    std::lock_guard lock(mutex_);
    auto found = agents_.find(id);
    if (found == agents_.end()) {
      return notFound("unknown agent", id);
    }
    found->second.state = state;
    found->second.stateReason = reason;
    return found->second;
  }

  // ------------------------------------------------------------------------------ work items
  ServiceResult<std::vector<StoredWorkItem>> workItems(const WorkItemFilter& filter) override {
    std::lock_guard lock(mutex_);
    lastFilter = filter;
    std::vector<StoredWorkItem> out;
    for (auto& [id, stored] : items_) {
      if (filter.agentId && stored.item.agentId != filter.agentId) {
        continue;
      }
      if (filter.state && stored.item.state != filter.state) {
        continue;
      }
      if (filter.afterId && id <= *filter.afterId) {
        continue;
      }
      if (out.size() == filter.limit) {
        break;
      }
      out.push_back(stored);
    }
    return out;
  }
  ServiceResult<WorkItemDetails> workItem(const std::string& id,
                                          Freshness = Freshness::Pushed) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(id);
    if (found == items_.end()) {
      return notFound("unknown work item", id);
    }
    return WorkItemDetails{found->second, "queue sales: 2 eligible, alice won (longest idle)"};
  }
  ServiceResult<ArrivalOutcome> createWorkItem(const WorkItem& item,
                                               const std::string& source) override {
    std::lock_guard lock(mutex_);
    ++creates;
    lastCreated = item;
    lastSource = source;
    if (item.sourceKey) {
      for (auto& [id, stored] : items_) {
        if (stored.item.sourceKey == item.sourceKey) {
          return ArrivalOutcome{id, true};
        }
      }
    }
    std::string id = "wi-new-" + std::to_string(creates);
    StoredWorkItem stored;
    stored.item = item;
    stored.item.id = id;
    stored.item.state = WorkItemState::Queued;
    stored.source = source;
    items_[id] = stored;
    return ArrivalOutcome{id, false};
  }
  ServiceResult<StoredWorkItem> accept(const std::string& workItemId,
                                       const std::string& agentId) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(workItemId);
    if (found == items_.end()) {
      return notFound("unknown work item", workItemId);
    }
    auto& item = found->second.item;
    if (item.state != WorkItemState::Offered || item.agentId != agentId) {
      return ServiceError{ServiceErrorCode::Conflict, "not offered",
                          "work item " + workItemId + " is not offered to " + agentId};
    }
    item.state = WorkItemState::Accepted;
    return found->second;
  }
  ServiceResult<StoredWorkItem> decline(const std::string& workItemId, const std::string& agentId,
                                        const std::optional<std::string>& reason) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(workItemId);
    if (found == items_.end()) {
      return notFound("unknown work item", workItemId);
    }
    lastDeclineAgent = agentId;
    lastDeclineReason = reason;
    found->second.item.state = WorkItemState::Queued;
    found->second.item.agentId.reset();
    return found->second;
  }
  ServiceResult<StoredWorkItem> transfer(const TransferRequest& request) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(request.workItemId);
    if (found == items_.end()) {
      return notFound("unknown work item", request.workItemId);
    }
    lastTransfer = request;
    found->second.item.queueId = request.target;
    return found->second;
  }
  ServiceResult<StoredWorkItem> complete(const CompleteRequest& request) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(request.workItemId);
    if (found == items_.end()) {
      return notFound("unknown work item", request.workItemId);
    }
    lastComplete = request;
    found->second.item.state = WorkItemState::Completed;
    return found->second;
  }
  ServiceResult<StoredWorkItem> reply(const SendReply& reply) override {
    std::lock_guard lock(mutex_);
    auto found = items_.find(reply.workItemId);
    if (found == items_.end()) {
      return notFound("unknown work item", reply.workItemId);
    }
    lastReply = reply;
    return found->second;
  }

  // ------------------------------------------------------------------ queues, messages, misc
  std::vector<QueueStatus> queues() override {
    std::lock_guard lock(mutex_);
    return queues_;
  }
  ServiceResult<std::string> exchange(std::string_view document, const Party& caller) override {
    std::lock_guard lock(mutex_);
    lastDocument = std::string(document);
    lastCaller = caller;
    if (document.find("<message") == std::string_view::npos) {
      return ServiceError{ServiceErrorCode::BadRequest, "invalid message",
                          "1:1: not a Switchboard message"};
    }
    return std::string("<?xml version=\"1.0\"?><message><response kind=\"ping\" "
                       "status=\"ok\"/></message>");
  }
  std::vector<DeadLetter> deadLetters(std::size_t limit) override {
    std::lock_guard lock(mutex_);
    lastLimit = limit;
    return letters_;
  }
  std::optional<StoredResponse> storedResponse(const std::string& key) override {
    std::lock_guard lock(mutex_);
    auto found = responses_.find(key);
    if (found == responses_.end()) {
      return std::nullopt;
    }
    return found->second;
  }
  void storeResponse(const StoredResponse& response) override {
    std::lock_guard lock(mutex_);
    responses_[response.key] = response;
  }
  /// While holdStoredAnswers is set, an answer to store waits until releaseStoredAnswers().
  void storeResponseAsync(const StoredResponse& response, const Post& post,
                          std::function<void(const std::optional<std::string>&)> done) override {
    if (!holdStoredAnswers.load()) {
      Service::storeResponseAsync(response, post, std::move(done));
      return;
    }
    std::lock_guard lock(mutex_);
    heldAnswers_.push_back([this, response, post, done = std::move(done)] {
      storeResponse(response);
      post([done] { done(std::nullopt); });
    });
  }
  std::size_t heldStoredAnswers() {
    std::lock_guard lock(mutex_);
    return heldAnswers_.size();
  }
  void releaseStoredAnswers() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(heldAnswers_);
    }
    for (auto& release : held) {
      release();
    }
  }
  bool ready() override { return isReady.load(); }

  // ------------------------------------------------------------------------------- recorded
  std::mutex mutex_;
  std::map<std::string, Agent> agents_;
  std::map<std::string, StoredWorkItem> items_;
  std::map<std::string, StoredResponse> responses_;
  std::vector<QueueStatus> queues_;
  std::vector<DeadLetter> letters_;
  std::atomic<bool> isReady{true};
  std::atomic<bool> holdStoredAnswers{false};
  std::vector<std::function<void()>> heldAnswers_;
  std::atomic<bool> throwOnAgents{false};
  int creates = 0;
  WorkItem lastCreated;
  std::string lastSource;
  WorkItemFilter lastFilter;
  TransferRequest lastTransfer;
  CompleteRequest lastComplete;
  SendReply lastReply;
  std::string lastDeclineAgent;
  std::optional<std::string> lastDeclineReason;
  std::string lastDocument;
  Party lastCaller;
  std::size_t lastLimit = 0;

 private:
  static ServiceError notFound(const std::string& title, const std::string& id) {
    return ServiceError{ServiceErrorCode::NotFound, title, "no such thing: " + id};
  }
  void maybeThrow() {
    if (throwOnAgents.load()) {
      throw std::runtime_error("database exploded at /var/lib/secret/path");
    }
  }
};

} // namespace switchboard::testing
