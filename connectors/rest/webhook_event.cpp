#include "webhook_event.h"

#include "switchboard/timestamp.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

namespace switchboard::webhooks {

namespace {

bool isItem(const StoreEvent& event) {
  return event.subject == StoreEvent::Subject::WorkItem;
}

template <class T>
void setIf(Poco::JSON::Object& object, const std::string& name, const std::optional<T>& value) {
  if (value) {
    object.set(name, *value);
  }
}

std::string jsonBody(const StoreEvent& event, const std::optional<StoredWorkItem>& stored,
                     const EventPayload& payload) {
  Poco::JSON::Object root;
  root.set("id", payload.id);
  root.set("event", payload.name);
  root.set("time", formatTimestamp(event.time));
  if (isItem(event)) {
    Poco::JSON::Object item;
    item.set("id", event.subjectId);
    item.set("state", event.state);
    if (stored) {
      const WorkItem& record = stored->item;
      item.set("medium", record.medium);
      setIf(item, "priority", record.priority);
      setIf(item, "queue", record.queueId);
      setIf(item, "subject", record.subject);
      setIf(item, "thread", record.thread);
      item.set("source", stored->source);
      if (record.created) {
        item.set("created", formatTimestamp(*record.created));
      }
      if (record.customer) {
        Poco::JSON::Object customer;
        setIf(customer, "ref", record.customer->ref);
        setIf(customer, "name", record.customer->name);
        if (!record.customer->addresses.empty()) {
          customer.set("address", record.customer->addresses.front().value);
        }
        item.set("customer", customer);
      }
      Poco::JSON::Object attributes;
      for (const Attribute& attribute : record.attributes) {
        attributes.set(attribute.name, attribute.value);
      }
      item.set("attributes", attributes);
    }
    root.set("workItem", item);
    root.set("cause", event.cause);
    setIf(root, "actor", event.actorId);
  } else {
    Poco::JSON::Object agent;
    agent.set("id", event.subjectId);
    agent.set("state", event.state);
    if (!event.cause.empty()) {
      agent.set("reason", event.cause);
    }
    root.set("agent", agent);
  }
  std::ostringstream out;
  root.stringify(out);
  return out.str();
}

Notification itemNotification(const StoreEvent& event, const std::optional<StoredWorkItem>& stored,
                              std::string_view name) {
  const std::string& id = event.subjectId;
  std::optional<std::string> queue = stored ? stored->item.queueId : std::nullopt;
  std::string actor = event.actorId.value_or("");
  if (name == "workItem.arrived") {
    return WorkItemArrived{};
  }
  if (name == "workItem.routed") {
    return WorkItemRouted{id, actor, queue, event.cause};
  }
  if (name == "workItem.accepted") {
    return WorkItemAccepted{id, actor};
  }
  if (name == "workItem.completed" || name == "workItem.failed") {
    return WorkItemEnded{id, event.actorId, event.state == "failed" ? "failed" : event.cause};
  }
  if (name == "workItem.abandoned") {
    return WorkItemAbandoned{id, event.cause.empty() ? "abandoned" : event.cause, std::nullopt};
  }
  return WorkItemUpdated{id, event.state, event.cause};
}

std::string xmlBody(const StoreEvent& event, const std::optional<StoredWorkItem>& stored,
                    const EventPayload& payload, std::string_view serverId,
                    const MessageCodec& codec) {
  Message message;
  message.id = payload.id;
  message.time = event.time;
  message.sender = {PartyType::Server, std::string(serverId)};
  message.addressee = {PartyType::Crm, "crm"};
  if (isItem(event)) {
    Notification notification = itemNotification(event, stored, payload.name);
    if (std::holds_alternative<WorkItemArrived>(notification)) {
      WorkItem item;
      if (stored) {
        item = stored->item;
        item.history.clear();
      }
      item.id = event.subjectId;
      item.state = WorkItemState::New;
      if (item.medium.empty()) {
        item.medium = "unknown";
      }
      message.workItems.push_back(std::move(item));
    }
    message.payload = std::move(notification);
  } else {
    AgentStateChanged changed;
    changed.agentId = event.subjectId;
    changed.state = enumFromString<AgentState>(event.state).value_or(AgentState::NotReady);
    if (!event.cause.empty()) {
      changed.reason = event.cause;
    }
    message.payload = Notification{changed};
  }
  return codec.encode(message);
}

} // namespace

std::string eventName(const StoreEvent& event) {
  if (!isItem(event)) {
    return "agent.stateChanged";
  }
  const std::string& state = event.state;
  if (state == "new") {
    return event.cause == "arrived" ? "workItem.arrived" : "workItem.updated";
  }
  if (state == "offered") {
    return "workItem.routed";
  }
  if (state == "queued" || state == "accepted" || state == "completed" || state == "abandoned" ||
      state == "failed") {
    return "workItem." + state;
  }
  return "workItem.updated";
}

std::string eventId(const StoreEvent& event, std::string_view serverId) {
  return std::string(serverId) + (isItem(event) ? ".workItem." : ".agent.") +
         std::to_string(event.id);
}

EventPayload buildPayload(const StoreEvent& event, const std::optional<StoredWorkItem>& item,
                          PayloadFormat format, std::string_view serverId,
                          const MessageCodec& codec) {
  EventPayload payload;
  payload.name = eventName(event);
  payload.id = eventId(event, serverId);
  if (format == PayloadFormat::Json) {
    payload.contentType = "application/json";
    payload.body = jsonBody(event, item, payload);
  } else {
    payload.contentType = "application/xml";
    payload.body = xmlBody(event, item, payload, serverId, codec);
  }
  return payload;
}

} // namespace switchboard::webhooks
