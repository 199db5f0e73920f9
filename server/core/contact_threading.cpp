// Replies that join their conversation, and contacts kept without routing (docs/message.md,
// 4.4). Drivers say what a contact answers in media-independent attributes; the server finds the
// earlier item by the source keys of its contacts and the ids of the replies it sent.

#include "switchboard/communication_server.h"

#include <algorithm>
#include <sstream>

namespace switchboard {
namespace {

// Keys of this many contacts and replies are remembered (oldest forgotten first); beyond them a
// reply is still threaded by the item reference in its subject.
constexpr std::size_t kMaxThreadKeys = 200'000;
constexpr std::size_t kMaxLabel = 512;

std::string attributeOf(const WorkItem& item, std::string_view name) {
  for (const Attribute& attribute : item.attributes) {
    if (attribute.name == name) {
      return attribute.value;
    }
  }
  return {};
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    result.push_back(std::move(word));
  }
  return result;
}

std::string withoutBrackets(std::string key) {
  if (key.size() >= 2 && key.front() == '<' && key.back() == '>') {
    key = key.substr(1, key.size() - 2);
  }
  return key;
}

} // namespace

void CommunicationServer::rememberThreadKey(const std::string& key, const std::string& workItemId) {
  if (key.empty()) {
    return;
  }
  auto [entry, added] = threadKeys_.insert_or_assign(key, workItemId);
  if (added) {
    threadKeyOrder_.push_back(key);
  }
  while (threadKeyOrder_.size() > kMaxThreadKeys) {
    threadKeys_.erase(threadKeyOrder_.front());
    threadKeyOrder_.pop_front();
  }
}

void CommunicationServer::rememberThreadKeys(const WorkItem& item, const std::string& workItemId) {
  if (item.sourceKey) {
    rememberThreadKey(*item.sourceKey, workItemId);
  }
  std::string contactKey = attributeOf(item, "contactKey");
  if (!contactKey.empty() && contactKey != item.sourceKey) {
    rememberThreadKey(contactKey, workItemId);
  }
  for (const std::string& key : words(attributeOf(item, "replyKeys"))) {
    rememberThreadKey(key, workItemId);
  }
}

void CommunicationServer::noteReplyKey(const Notification& notification, const WorkItem& stored,
                                       WorkItemChange& event) {
  const auto* report = std::get_if<DeliveryReport>(&notification);
  if (report == nullptr || !report->externalId) {
    return;
  }
  std::string key = withoutBrackets(*report->externalId);
  WorkItem item = stored;
  auto keys = std::find_if(item.attributes.begin(), item.attributes.end(),
                           [](const Attribute& a) { return a.name == "replyKeys"; });
  if (keys == item.attributes.end()) {
    item.attributes.push_back({"replyKeys", key});
  } else {
    std::vector<std::string> known = words(keys->value);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      keys->value += " " + key;
    }
  }
  item.history.clear();
  event.record = std::move(item);
  Lock lock(mutex_);
  rememberThreadKey(key, event.workItemId);
}

std::optional<CommunicationServer::ThreadTarget>
CommunicationServer::threadTargetOf(const WorkItem& item) {
  std::vector<std::string> keys = words(attributeOf(item, "inReplyTo"));
  std::string reference = attributeOf(item, "workItemRef");
  if (keys.empty() && reference.empty()) {
    return std::nullopt;
  }
  std::string found;
  {
    Lock lock(mutex_);
    for (const std::string& key : keys) {
      if (auto known = threadKeys_.find(withoutBrackets(key)); known != threadKeys_.end()) {
        found = known->second;
        break;
      }
    }
  }
  // Headers name the mail answered exactly; the subject's reference is the fallback (a quoted
  // reference survives mail programs that drop In-Reply-To, and server restarts).
  if (found.empty()) {
    found = reference;
  }
  if (found.empty()) {
    return std::nullopt;
  }
  std::optional<StoredWorkItem> stored;
  try {
    stored = store_.workItem(found, false);
  } catch (const std::exception&) {
    // A reference the store cannot read (a malformed id the customer typed, a store that is
    // failing) leaves the contact unthreaded; its own commit decides whether it can be taken.
    return std::nullopt;
  }
  if (!stored) {
    return std::nullopt;
  }
  ThreadTarget target;
  target.workItemId = found;
  target.thread = stored->item.thread.value_or(found);
  target.join = attributeOf(item, "threading") != "link";
  Lock lock(mutex_);
  target.open = engine_.itemState(found).has_value();
  return target;
}

bool CommunicationServer::routableBeforeCommit(const Arrival& arrival) {
  const WorkItem& item = arrival.record.item;
  return !item.sourceKey && !arrival.target && attributeOf(item, "noRoute").empty();
}

std::optional<ArrivalOutcome>
CommunicationServer::keepUnrouted(const WorkItem& item, const ArrivalOutcome& outcome,
                                  const std::string& source,
                                  const std::optional<ThreadTarget>& target, Timestamp time) {
  std::string noRoute = attributeOf(item, "noRoute");
  bool joins = target && target->open && target->join;
  if (noRoute.empty() && !joins) {
    return std::nullopt;
  }
  Writes writes;
  Lock lock(mutex_);
  std::string cause = noRoute.empty() ? "joined " + target->workItemId : "not routed: " + noRoute;
  WorkItemChange kept;
  kept.workItemId = outcome.workItemId;
  kept.state = WorkItemState::Completed;
  kept.entry = {time, WorkItemState::Completed, cause.substr(0, kMaxLabel), "server"};
  writes.push_back(store_.recordChange(kept));
  count(noRoute.empty() ? "joined" : "notRouted");
  rememberThreadKeys(item, joins ? target->workItemId : outcome.workItemId);

  // The open item the contact answers hears of it: a step in its history, and a notification
  // to the CRM and to the agent who holds it.
  if (target && target->open) {
    if (std::optional<routing::ItemView> view = engine_.item(target->workItemId)) {
      std::string what = noRoute.empty()
                             ? "message " + outcome.workItemId
                             : noRoute.substr(0, noRoute.find(':')) + " " + outcome.workItemId;
      WorkItemChange step;
      step.workItemId = target->workItemId;
      step.state = view->state;
      step.entry = {time, view->state, what.substr(0, kMaxLabel), source};
      writes.push_back(store_.recordChange(step));
      WorkItemUpdated updated;
      updated.workItemId = target->workItemId;
      updated.change = "message";
      updated.detail =
          (outcome.workItemId + (item.subject ? ": " + *item.subject : "")).substr(0, kMaxLabel);
      for (char& c : *updated.detail) {
        if (c == '\r' || c == '\n' || c == '\t') {
          c = ' ';
        }
      }
      Message crm = outgoing(PartyType::Crm, "crm");
      crm.payload = Notification{updated};
      publish(crm);
      if (!view->agentId.empty()) {
        Message agent = outgoing(PartyType::Agent, view->agentId);
        agent.payload = Notification{updated};
        publish(agent);
      }
    }
  }
  lock.unlock();
  // Rare enough to wait for: the driver's answer then means the item is finished on record.
  for (auto& write : writes) {
    write.get();
  }
  return outcome;
}

} // namespace switchboard
