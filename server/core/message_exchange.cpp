#include "switchboard/communication_server.h"

#include "switchboard/routing/message_conversion.h"

namespace switchboard {
namespace {

// A dead letter keeps at most this much of the document it could not process.
constexpr std::size_t kMaxDeadLetterBytes = 1 << 20;

// The message format's error codes (docs/message.md, section 8) for the service's errors.
std::string errorCode(const ServiceError& error) {
  if (error.title == "unknown agent") {
    return "unknownAgent";
  }
  if (error.title == "unknown work item") {
    return "unknownWorkItem";
  }
  if (error.title == "unknown queue") {
    return "unknownQueue";
  }
  switch (error.code) {
  case ServiceErrorCode::Conflict:
    return error.title == "not the agent's work item" ? "notOwner" : "invalidState";
  case ServiceErrorCode::Unavailable:
    return "storeUnavailable";
  case ServiceErrorCode::BadRequest:
    return "invalidMessage";
  default:
    return "internal";
  }
}

Response failure(std::string kind, std::string code, std::string text) {
  return Response{std::move(kind), ResponseStatus::Error,
                  ResponseError{std::move(code), std::move(text)}};
}

// The agent a command names, when it names one.
std::optional<std::string> actingAgent(const Command& command) {
  return std::visit(
      [](const auto& kind) -> std::optional<std::string> {
        using Kind = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<Kind, SetAgentState> || std::is_same_v<Kind, Accept> ||
                      std::is_same_v<Kind, Decline> || std::is_same_v<Kind, Transfer> ||
                      std::is_same_v<Kind, Complete> || std::is_same_v<Kind, SendReply> ||
                      std::is_same_v<Kind, DeliverChatLine>) {
          return kind.agentId;
        } else {
          return std::nullopt;
        }
      },
      command);
}

} // namespace

std::string CommunicationServer::submit(std::string_view document) {
  auto decoded = codec_.decode(document);
  if (!decoded.ok()) {
    std::string reason = decoded.error().toString();
    store_.recordDeadLetter(
        {0, clock_(), "driver", reason, std::string(document.substr(0, kMaxDeadLetterBytes))});
    countDeadLetter("driver");
    throw InvalidDocument(reason);
  }
  return codec_.encode(handle(*decoded));
}

ServiceResult<std::string> CommunicationServer::exchange(std::string_view document,
                                                         const Party& caller) {
  auto decoded = codec_.decode(document);
  if (!decoded.ok()) {
    std::string reason = decoded.error().toString();
    try {
      store_.recordDeadLetter({0, clock_(), std::string(toString(caller.type)) + ":" + caller.id,
                               reason, std::string(document.substr(0, kMaxDeadLetterBytes))});
      countDeadLetter(std::string(toString(caller.type)));
    } catch (const std::exception&) {
      // The refusal stands whether or not the dead letter could be kept.
    }
    return ServiceError{ServiceErrorCode::BadRequest, "not a valid message", reason};
  }
  if (caller.type == PartyType::Agent && decoded->sender != caller) {
    Message refused = answer(*decoded);
    refused.payload =
        failure(std::string(kindOf(*decoded)), "forbidden",
                "the sender must be the agent the token belongs to (" + caller.id + ")");
    return codec_.encode(refused);
  }
  try {
    return codec_.encode(handle(*decoded));
  } catch (const std::exception& e) {
    Message failed = answer(*decoded);
    failed.payload = failure(std::string(kindOf(*decoded)), "storeUnavailable", e.what());
    return codec_.encode(failed);
  }
}

Message CommunicationServer::answer(const Message& request) {
  Lock lock(mutex_);
  Message response = outgoing(request.sender.type, request.sender.id);
  response.correlationId = request.id;
  return response;
}

Message CommunicationServer::handle(const Message& message) {
  if (const auto* notification = std::get_if<Notification>(&message.payload)) {
    return handleNotification(message, *notification);
  }
  if (const auto* command = std::get_if<Command>(&message.payload)) {
    if (message.sender.type == PartyType::Agent) {
      std::optional<std::string> agentId = actingAgent(*command);
      if (agentId && *agentId != message.sender.id) {
        Message refused = answer(message);
        refused.payload = failure(std::string(kindOf(message)), "forbidden",
                                  "agent " + message.sender.id + " cannot act for " + *agentId);
        return refused;
      }
    }
    return handleCommand(message, *command);
  }
  if (const auto* request = std::get_if<Request>(&message.payload)) {
    return handleRequest(message, *request);
  }
  Message refused = answer(message);
  refused.payload = failure(std::string(kindOf(message)), "invalidMessage",
                            "a response is never sent to the server unasked");
  return refused;
}

Message CommunicationServer::handleNotification(const Message& message,
                                                const Notification& notification) {
  Message response = answer(message);
  std::string kind(kindOf(message));
  response.payload = Response{kind, ResponseStatus::Ok, std::nullopt};

  if (std::holds_alternative<WorkItemArrived>(notification)) {
    if (message.workItems.size() != 1 || message.workItems.front().id ||
        (message.sender.type == PartyType::Driver && !message.workItems.front().sourceKey)) {
      response.payload = failure(kind, "invalidMessage",
                                 "workItemArrived carries exactly one workItem, without an id "
                                 "and, from a driver, with a sourceKey");
      return response;
    }
    auto arrived = arrive(message.workItems.front(), message.sender.id); // StoreError propagates
    if (!arrived.ok()) {
      response.payload = failure(kind, errorCode(arrived.error()), arrived.error().detail);
      return response;
    }
    // The driver needs the id; reading the item back would cost a store read per arrival.
    WorkItem committed = message.workItems.front();
    committed.id = arrived->workItemId;
    response.workItems.push_back(std::move(committed));
    std::get<Response>(response.payload).status =
        arrived->duplicate ? ResponseStatus::Duplicate : ResponseStatus::Ok;
    return response;
  }

  if (const auto* rejected = std::get_if<ContactRejected>(&notification)) {
    store_.recordDeadLetter(
        {0, clock_(), message.sender.id, rejected->reason, codec_.encode(message)});
    countDeadLetter(message.sender.id);
    return response;
  }

  if (const auto* abandoned = std::get_if<WorkItemAbandoned>(&notification)) {
    auto ended = route(abandoned->workItemId, message.sender.id, [&] {
      return engine_.abandon(abandoned->workItemId, abandoned->reason, clock_());
    });
    if (!ended.ok()) {
      response.payload = failure(kind, errorCode(ended.error()), ended.error().detail);
    }
    return response;
  }

  // Events on a live item (calls, chats, deliveries, updates) join its history.
  std::optional<std::string> workItemId = std::visit(
      [](const auto& event) -> std::optional<std::string> {
        using Event = std::decay_t<decltype(event)>;
        if constexpr (std::is_same_v<Event, CallEvent> || std::is_same_v<Event, ChatEvent> ||
                      std::is_same_v<Event, DeliveryReport> ||
                      std::is_same_v<Event, WorkItemUpdated>) {
          return event.workItemId;
        } else {
          return std::nullopt;
        }
      },
      notification);
  bool fromServerOnly = std::holds_alternative<WorkItemRouted>(notification) ||
                        std::holds_alternative<WorkItemAccepted>(notification) ||
                        std::holds_alternative<WorkItemEnded>(notification) ||
                        std::holds_alternative<AgentStateChanged>(notification);
  if (fromServerOnly) {
    response.payload = failure(kind, "invalidMessage", kind + " is sent by the server only");
    return response;
  }
  if (workItemId) {
    std::optional<StoredWorkItem> stored = store_.workItem(*workItemId, false);
    if (!stored) {
      response.payload = failure(kind, "unknownWorkItem", "no work item " + *workItemId);
      return response;
    }
    WorkItemChange event;
    event.workItemId = *workItemId;
    event.state = stored->item.state.value_or(WorkItemState::Queued);
    event.entry = {message.time, event.state, kind, message.sender.id};
    if (const auto* delivery = std::get_if<DeliveryReport>(&notification)) {
      // The history says which reply went where (the mail's Message-ID) and what the relay said;
      // a reply given up is also kept as a dead letter, where operators look for failures.
      std::string cause = kind + " " + delivery->replyId + " " +
                          std::string(toString(delivery->outcome)) +
                          (delivery->externalId ? " " + *delivery->externalId : std::string()) +
                          (delivery->reason ? ": " + *delivery->reason : std::string());
      event.entry.cause = cause.substr(0, 512);
      if (delivery->outcome == DeliveryOutcome::Failed) {
        store_.recordDeadLetter({0, clock_(), message.sender.id,
                                 ("reply " + delivery->replyId + " to " + delivery->workItemId +
                                  " not delivered: " + delivery->reason.value_or("no reason"))
                                     .substr(0, 512),
                                 codec_.encode(message)});
        countDeadLetter(message.sender.id);
      }
    }
    noteReplyKey(notification, stored->item, event);
    store_.recordChange(event).get();
  }
  return response;
}

Message CommunicationServer::handleCommand(const Message& message, const Command& command) {
  Message response = answer(message);
  std::string kind(kindOf(message));
  auto answerWith = [&](const ServiceResult<StoredWorkItem>& result) {
    if (result.ok()) {
      response.payload = Response{kind, ResponseStatus::Ok, std::nullopt};
      response.workItems.push_back(result->item);
    } else {
      response.payload = failure(kind, errorCode(result.error()), result.error().detail);
    }
  };
  if (const auto* accepted = std::get_if<Accept>(&command)) {
    answerWith(accept(accepted->workItemId, accepted->agentId));
  } else if (const auto* declined = std::get_if<Decline>(&command)) {
    answerWith(decline(declined->workItemId, declined->agentId, declined->reason));
  } else if (const auto* moved = std::get_if<Transfer>(&command)) {
    answerWith(transfer(
        {moved->workItemId, moved->agentId, moved->targetType, moved->target, moved->reason}));
  } else if (const auto* done = std::get_if<Complete>(&command)) {
    answerWith(complete({done->workItemId, done->agentId, done->disposition, done->notes}));
  } else if (const auto* sent = std::get_if<SendReply>(&command)) {
    answerWith(reply(*sent));
  } else if (const auto* state = std::get_if<SetAgentState>(&command)) {
    auto changed = setAgentState(state->agentId, state->state, state->reason);
    if (changed.ok()) {
      response.payload = Response{kind, ResponseStatus::Ok, std::nullopt};
      response.agents.push_back(*changed);
    } else {
      response.payload = failure(kind, errorCode(changed.error()), changed.error().detail);
    }
  } else {
    response.payload = failure(kind, "invalidMessage",
                               kind + " is a command the server sends, not one it carries out");
  }
  return response;
}

Message CommunicationServer::handleRequest(const Message& message, const Request& request) {
  Message response = answer(message);
  std::string kind(kindOf(message));
  response.payload = Response{kind, ResponseStatus::Ok, std::nullopt};
  if (const auto* agentQuery = std::get_if<GetAgentState>(&request)) {
    auto found = agent(agentQuery->agentId);
    if (found.ok()) {
      response.agents.push_back(*found);
    } else {
      response.payload = failure(kind, errorCode(found.error()), found.error().detail);
    }
  } else if (const auto* itemQuery = std::get_if<GetWorkItem>(&request)) {
    auto found = workItem(itemQuery->workItemId);
    if (found.ok()) {
      response.workItems.push_back(found->stored.item);
    } else {
      response.payload = failure(kind, errorCode(found.error()), found.error().detail);
    }
  } else if (std::holds_alternative<LookupContact>(request)) {
    response.payload =
        failure(kind, "crmUnavailable", "no CRM connector is configured in this server");
  }
  // ping and registerDriver: ok.
  return response;
}

} // namespace switchboard
