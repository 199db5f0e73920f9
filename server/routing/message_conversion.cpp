#include "switchboard/routing/message_conversion.h"

#include "text_match.h"

#include <algorithm>

namespace switchboard::routing {

namespace {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// The body rules read: the text body, or what the customer said in the transcript, one line
// after the other; either way no more than kMaxBodyBytes.
std::string bodyOf(const WorkItem& item) {
  if (item.body) {
    return std::string(cutText(item.body->text, kMaxBodyBytes));
  }
  std::string body;
  for (const TranscriptLine& line : item.transcript) {
    if (line.author != LineAuthor::Customer) {
      continue;
    }
    if (!body.empty()) {
      body.push_back('\n');
    }
    body.append(cutText(line.text, kMaxBodyBytes - std::min(body.size(), kMaxBodyBytes)));
    if (body.size() >= kMaxBodyBytes) {
      break;
    }
  }
  return std::string(cutText(body, kMaxBodyBytes));
}

AttributeSpec attributeFromText(const Attribute& attribute) {
  if (attribute.value.find(',') == std::string::npos) {
    return AttributeSpec::scalar(attribute.name, attribute.value);
  }
  std::vector<std::string> values;
  std::size_t start = 0;
  while (start <= attribute.value.size()) {
    const auto comma = std::min(attribute.value.find(',', start), attribute.value.size());
    if (auto value = trim(std::string_view(attribute.value).substr(start, comma - start));
        !value.empty()) {
      values.push_back(std::move(value));
    }
    start = comma + 1;
  }
  return AttributeSpec::list(attribute.name, std::move(values));
}

} // namespace

AgentSpec agentFromMessage(const Agent& agent) {
  AgentSpec spec;
  spec.id = agent.id;
  spec.name = agent.name.value_or("");
  spec.site = agent.site.value_or("");
  spec.seniority = agent.seniority.value_or(0);
  spec.skills = agent.skills;
  for (const auto& attribute : agent.attributes) {
    spec.attributes.push_back(attributeFromText(attribute));
  }
  CapacityMix others;
  for (const auto& capacity : agent.capacity) {
    if (capacity.max <= 0) {
      continue;
    }
    if (capacity.medium == media::kVoice) {
      spec.capacity.push_back(CapacityMix{{{capacity.medium, capacity.max}}});
    } else {
      others.limits.push_back({capacity.medium, capacity.max});
    }
  }
  if (!others.limits.empty()) {
    spec.capacity.push_back(std::move(others));
  }
  spec.lastContact = agent.lastContact;
  spec.contactsToday = agent.contactsToday.value_or(0);
  return spec;
}

std::optional<AgentState> presenceFromMessage(const Agent& agent) {
  if (!agent.state) {
    return std::nullopt;
  }
  switch (*agent.state) {
  case AgentState::LoggedOut:
  case AgentState::NotReady:
  case AgentState::Ready:
    return agent.state;
  default:
    return std::nullopt;
  }
}

Result<ItemSpec, RoutingError> itemFromMessage(const WorkItem& item) {
  if (!item.id || item.id->empty()) {
    return RoutingError{RoutingErrorCode::UnknownItem, "a work item is routed once it has an id"};
  }
  ItemSpec spec;
  spec.id = *item.id;
  spec.medium = item.medium;
  spec.priority = item.priority.value_or(50);
  spec.arrival = item.created;
  spec.queue = item.queueId.value_or("");
  spec.subject = cutText(item.subject.value_or(""), kMaxItemTextBytes);
  if (item.contactPoint) {
    spec.contactPoint = cutText(item.contactPoint->value, kMaxItemTextBytes);
  }
  spec.body = bodyOf(item);
  for (const auto& attribute : item.attributes) {
    spec.attributes.push_back(AttributeSpec::scalar(attribute.name, attribute.value));
  }
  auto has = [&](std::string_view name) {
    return std::any_of(item.attributes.begin(), item.attributes.end(),
                       [&](const Attribute& a) { return a.name == name; });
  };
  if (item.customer) {
    const Customer& customer = *item.customer;
    spec.customerId = customer.ref.value_or("");
    spec.previousAgentId = customer.lastAgentId.value_or("");
    spec.customerName = cutText(customer.name.value_or(""), kMaxItemTextBytes);
    if (!customer.addresses.empty()) {
      spec.from = cutText(customer.addresses.front().value, kMaxItemTextBytes);
    }
    if (customer.language && !has("language")) {
      spec.attributes.push_back(AttributeSpec::scalar("language", *customer.language));
    }
    if (customer.tier && !has("tier")) {
      spec.attributes.push_back(AttributeSpec::scalar("tier", *customer.tier));
    }
  }
  return spec;
}

Agent agentToMessage(const AgentView& view) {
  Agent agent;
  agent.id = view.id;
  if (!view.site.empty()) {
    agent.site = view.site;
  }
  agent.state = view.state;
  if (view.state == AgentState::NotReady && !view.reason.empty()) {
    agent.stateReason = view.reason;
  }
  agent.lastContact = view.idleSince;
  agent.contactsToday = view.contactsToday;
  agent.capacity = view.capacity;
  return agent;
}

void applyToMessage(const ItemView& view, WorkItem& item) {
  for (const AttributeSpec& attribute : view.attributes) {
    std::string value;
    for (const std::string& part : attribute.values) {
      value += (value.empty() ? "" : " ") + part;
    }
    auto same = std::find_if(item.attributes.begin(), item.attributes.end(),
                             [&](const Attribute& a) { return a.name == attribute.name; });
    if (same == item.attributes.end()) {
      item.attributes.push_back({attribute.name, std::move(value)});
    } else {
      same->value = std::move(value);
    }
  }
  item.state = view.state;
  item.queueId = view.queueId.empty() ? std::nullopt : std::optional<std::string>(view.queueId);
  item.agentId = view.agentId.empty() ? std::nullopt : std::optional<std::string>(view.agentId);
  for (std::size_t i = item.history.size(); i < view.history.size(); ++i) {
    const Transition& step = view.history[i];
    HistoryEntry entry;
    entry.time = step.time;
    entry.state = step.state;
    entry.cause = step.cause;
    if (!step.agentId.empty()) {
      entry.actorId = step.agentId;
    }
    item.history.push_back(std::move(entry));
  }
}

Offer offerCommand(const OfferMade& offer) {
  Offer command;
  command.workItemId = std::string(offer.itemId);
  command.agentId = std::string(offer.agentId);
  command.queueId = std::string(offer.queueId);
  command.expires = offer.expires;
  return command;
}

AgentStateChanged agentNotification(const AgentChanged& change) {
  AgentStateChanged notification;
  notification.agentId = std::string(change.agentId);
  notification.state = change.state;
  notification.previous = change.previous;
  if (!change.reason.empty()) {
    notification.reason = std::string(change.reason);
  }
  return notification;
}

} // namespace switchboard::routing
