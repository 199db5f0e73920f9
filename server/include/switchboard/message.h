#pragma once

// The Switchboard message (schemas/message/v1/message.xsd) as C++ values.
//
// These types mirror the schema one to one: an element becomes a struct, an attribute a member,
// an optional attribute a std::optional, a repeated element a std::vector, and each choice of
// kinds a std::variant. They hold no Xerces types and no behaviour beyond comparison; the codec
// (message_codec.h) reads and writes them. Member names end in "Id" where the XML attribute names
// the thing referred to ("workItem" in XML is workItemId here).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard {

/// A point in time, UTC, to the millisecond. Written as 2026-11-21T13:45:00.250Z.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;

/// The version this build writes, and the major version it reads.
inline constexpr std::string_view kMessageVersion = "1.0";
/// The XML namespace of version 1.
inline constexpr std::string_view kMessageNamespace = "urn:switchboard:message:v1";

/// Names of the media Switchboard ships drivers for. Other media are any lower-case token.
namespace media {
inline constexpr std::string_view kEmail = "email";
inline constexpr std::string_view kFax = "fax";
inline constexpr std::string_view kChat = "chat";
inline constexpr std::string_view kVoice = "voice";
} // namespace media

enum class PartyType { Driver, Server, Agent, Crm };
enum class AgentState { LoggedOut, NotReady, Ready, Reserved, Busy, WrapUp };
enum class WorkItemState {
  New,
  Queued,
  Offered,
  Accepted,
  Completed,
  Declined,
  Transferred,
  Abandoned,
  Failed
};
enum class TransferTarget { Agent, Queue };
enum class LineAuthor { Customer, Agent, System };
enum class CallEventKind { Ringing, Answered, Held, Resumed, Transferred, Ended, Failed };
enum class ChatEventKind { Opened, Line, Typing, Closed };
enum class DeliveryOutcome { Sent, Delivered, Failed };
enum class ResponseStatus { Ok, Duplicate, Error };

/// The XML spelling of each enumerator, in declaration order.
template <class E>
struct EnumNames;
template <>
struct EnumNames<PartyType> {
  static constexpr std::array<std::string_view, 4> kNames{"driver", "server", "agent", "crm"};
};
template <>
struct EnumNames<AgentState> {
  static constexpr std::array<std::string_view, 6> kNames{"loggedOut", "notReady", "ready",
                                                          "reserved",  "busy",     "wrapUp"};
};
template <>
struct EnumNames<WorkItemState> {
  static constexpr std::array<std::string_view, 9> kNames{"new",         "queued",    "offered",
                                                          "accepted",    "completed", "declined",
                                                          "transferred", "abandoned", "failed"};
};
template <>
struct EnumNames<TransferTarget> {
  static constexpr std::array<std::string_view, 2> kNames{"agent", "queue"};
};
template <>
struct EnumNames<LineAuthor> {
  static constexpr std::array<std::string_view, 3> kNames{"customer", "agent", "system"};
};
template <>
struct EnumNames<CallEventKind> {
  static constexpr std::array<std::string_view, 7> kNames{
      "ringing", "answered", "held", "resumed", "transferred", "ended", "failed"};
};
template <>
struct EnumNames<ChatEventKind> {
  static constexpr std::array<std::string_view, 4> kNames{"opened", "line", "typing", "closed"};
};
template <>
struct EnumNames<DeliveryOutcome> {
  static constexpr std::array<std::string_view, 3> kNames{"sent", "delivered", "failed"};
};
template <>
struct EnumNames<ResponseStatus> {
  static constexpr std::array<std::string_view, 3> kNames{"ok", "duplicate", "error"};
};

/// The XML spelling of an enumerator ("notReady" for AgentState::NotReady).
template <class E>
constexpr std::string_view toString(E value) {
  return EnumNames<E>::kNames[static_cast<std::size_t>(value)];
}

/// The enumerator spelled `text`, or nothing when no enumerator is spelled so.
template <class E>
constexpr std::optional<E> enumFromString(std::string_view text) {
  const auto& names = EnumNames<E>::kNames;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

// ------------------------------------------------------------------------------- building blocks

/// Who sends or receives a message: a driver, the server, an agent or the CRM, and its id.
struct Party {
  PartyType type = PartyType::Driver;
  std::string id;
  bool operator==(const Party&) const = default;
};

/// A free-form name/value pair (language, topic, tier, "email.messageId" ...).
struct Attribute {
  std::string name;
  std::string value;
  bool operator==(const Attribute&) const = default;
};

/// An address on some medium: kind "email", "phone", "fax", "sip", "chat", "web" or another token.
struct Address {
  std::string kind;
  std::string value;
  std::optional<std::string> name; ///< display name
  bool operator==(const Address&) const = default;
};

/// A body of text with its MIME type (text/plain when absent).
struct Body {
  std::optional<std::string> type;
  std::string text;
  bool operator==(const Body&) const = default;
};

/// A reference to bytes in the attachment store; never the bytes themselves.
struct Attachment {
  std::optional<std::string> name;
  std::string type; ///< MIME type
  std::int64_t size = 0;
  std::string digest; ///< "sha256:" and 64 lower-case hex digits
  std::optional<std::string> ref;
  bool operator==(const Attachment&) const = default;
};

struct Skill {
  std::string name;
  int level = 0; ///< 0 to 10
  bool operator==(const Skill&) const = default;
};

/// How many contacts of one medium an agent may hold at once, and how many it holds now.
struct Capacity {
  std::string medium;
  int max = 0;
  std::optional<int> active;
  bool operator==(const Capacity&) const = default;
};

/// One line of a chat or call transcript.
struct TranscriptLine {
  std::optional<std::string> id;
  Timestamp time{};
  LineAuthor author = LineAuthor::Customer;
  std::optional<std::string> name;
  std::string text;
  bool operator==(const TranscriptLine&) const = default;
};

/// One recorded step in a work item's life.
struct HistoryEntry {
  Timestamp time{};
  std::optional<WorkItemState> state;
  std::string cause;
  std::optional<std::string> actorId;
  bool operator==(const HistoryEntry&) const = default;
};

// ------------------------------------------------------------------------------ CRM information

struct Agent {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> site;
  std::optional<AgentState> state;
  std::optional<std::string> stateReason;
  std::optional<Timestamp> stateSince;
  std::optional<int> seniority;
  std::optional<Timestamp> lastContact;
  std::optional<int> contactsToday;
  std::vector<Skill> skills;
  std::vector<Capacity> capacity;
  std::vector<Attribute> attributes;
  bool operator==(const Agent&) const = default;
};

struct Customer {
  std::optional<std::string> ref; ///< the CRM's id; absent while the customer is unknown
  std::optional<std::string> name;
  std::optional<std::string> language;
  std::optional<std::string> tier;
  std::optional<std::string> lastAgentId;
  std::vector<Address> addresses;
  std::vector<Attribute> attributes;
  bool operator==(const Customer&) const = default;
};

struct WorkItem {
  std::optional<std::string> id; ///< absent until the server has committed the item
  std::string medium;
  std::optional<WorkItemState> state;
  std::optional<int> priority; ///< 0 to 100; 50 when absent
  std::optional<std::string> queueId;
  std::optional<std::string> agentId;
  std::optional<Timestamp> created;
  std::optional<std::string> sourceKey; ///< the channel's idempotency key
  std::optional<std::string> thread;
  std::optional<Customer> customer;
  std::optional<Address> contactPoint; ///< where the customer reached us
  std::optional<std::string> subject;
  std::optional<Body> body;
  std::vector<TranscriptLine> transcript;
  std::vector<Attachment> attachments;
  std::vector<Attribute> attributes;
  std::vector<HistoryEntry> history;
  bool operator==(const WorkItem&) const = default;
};

// ------------------------------------------------------------------------------------- commands

struct Offer {
  static constexpr std::string_view kKind = "offer";
  std::string workItemId;
  std::string agentId;
  std::optional<std::string> queueId;
  Timestamp expires{};
  std::optional<std::string> reason;
  bool operator==(const Offer&) const = default;
};

/// Takes back an offer before it expires (customer hung up, agent logged out ...).
struct WithdrawOffer {
  static constexpr std::string_view kKind = "withdrawOffer";
  std::string workItemId;
  std::string agentId;
  std::optional<std::string> reason;
  bool operator==(const WithdrawOffer&) const = default;
};

struct Accept {
  static constexpr std::string_view kKind = "accept";
  std::string workItemId;
  std::string agentId;
  bool operator==(const Accept&) const = default;
};

struct Decline {
  static constexpr std::string_view kKind = "decline";
  std::string workItemId;
  std::string agentId;
  std::optional<std::string> reason;
  bool operator==(const Decline&) const = default;
};

struct Transfer {
  static constexpr std::string_view kKind = "transfer";
  std::string workItemId;
  std::optional<std::string> agentId; ///< the agent handing it over
  TransferTarget targetType = TransferTarget::Queue;
  std::string target;
  std::optional<std::string> reason;
  bool operator==(const Transfer&) const = default;
};

struct Complete {
  static constexpr std::string_view kKind = "complete";
  std::string workItemId;
  std::optional<std::string> agentId;
  std::optional<std::string> disposition;
  std::optional<std::string> notes;
  bool operator==(const Complete&) const = default;
};

struct SendReply {
  static constexpr std::string_view kKind = "sendReply";
  std::string workItemId;
  std::string replyId; ///< idempotency key: a reply is sent once per id
  std::optional<std::string> agentId;
  std::vector<Address> to; ///< empty: the customer's address on the item's medium
  std::vector<Address> cc;
  std::optional<std::string> subject;
  Body body;
  std::vector<Attachment> attachments;
  bool operator==(const SendReply&) const = default;
};

struct RedirectCall {
  static constexpr std::string_view kKind = "redirectCall";
  std::string workItemId;
  std::string target; ///< SIP URI, extension or phone number
  std::optional<std::string> reason;
  bool operator==(const RedirectCall&) const = default;
};

struct DeliverChatLine {
  static constexpr std::string_view kKind = "deliverChatLine";
  std::string workItemId;
  std::string lineId;
  std::optional<std::string> agentId;
  std::optional<std::string> name; ///< the name the customer sees
  std::string text;
  bool operator==(const DeliverChatLine&) const = default;
};

struct Disconnect {
  static constexpr std::string_view kKind = "disconnect";
  std::string workItemId;
  std::optional<std::string> reason;
  bool operator==(const Disconnect&) const = default;
};

struct SetAgentState {
  static constexpr std::string_view kKind = "setAgentState";
  std::string agentId;
  AgentState state = AgentState::NotReady;
  std::optional<std::string> reason;
  bool operator==(const SetAgentState&) const = default;
};

using Command = std::variant<Offer, WithdrawOffer, Accept, Decline, Transfer, Complete, SendReply,
                             RedirectCall, DeliverChatLine, Disconnect, SetAgentState>;

// ------------------------------------------------------------------------------------- requests

struct RegisterDriver {
  static constexpr std::string_view kKind = "registerDriver";
  std::string driver;
  std::vector<std::string> media;
  std::optional<std::string> software;
  bool operator==(const RegisterDriver&) const = default;
};

struct Ping {
  static constexpr std::string_view kKind = "ping";
  bool operator==(const Ping&) const = default;
};

struct LookupContact {
  static constexpr std::string_view kKind = "lookupContact";
  std::string kind; ///< address kind: email, phone, chat ...
  std::string address;
  std::optional<std::string> medium;
  bool operator==(const LookupContact&) const = default;
};

struct GetAgentState {
  static constexpr std::string_view kKind = "getAgentState";
  std::string agentId;
  bool operator==(const GetAgentState&) const = default;
};

struct GetWorkItem {
  static constexpr std::string_view kKind = "getWorkItem";
  std::string workItemId;
  bool operator==(const GetWorkItem&) const = default;
};

using Request = std::variant<RegisterDriver, Ping, LookupContact, GetAgentState, GetWorkItem>;

// ------------------------------------------------------------------------------------ responses

struct ResponseError {
  std::string code;
  std::string text;
  bool operator==(const ResponseError&) const = default;
};

/// Answers the message named by the envelope's correlationId; results travel as CRM information.
/// `error` is present exactly when `status` is Error.
struct Response {
  std::string kind; ///< the kind of the message answered ("lookupContact", "workItemArrived" ...)
  ResponseStatus status = ResponseStatus::Ok;
  std::optional<ResponseError> error;
  bool operator==(const Response&) const = default;
};

// -------------------------------------------------------------------------------- notifications

/// The new work item travels beside it, in Message::workItems.
struct WorkItemArrived {
  static constexpr std::string_view kKind = "workItemArrived";
  bool operator==(const WorkItemArrived&) const = default;
};

struct WorkItemRouted {
  static constexpr std::string_view kKind = "workItemRouted";
  std::string workItemId;
  std::string agentId;
  std::optional<std::string> queueId;
  std::optional<std::string> reason;
  bool operator==(const WorkItemRouted&) const = default;
};

struct WorkItemAccepted {
  static constexpr std::string_view kKind = "workItemAccepted";
  std::string workItemId;
  std::string agentId;
  bool operator==(const WorkItemAccepted&) const = default;
};

struct WorkItemUpdated {
  static constexpr std::string_view kKind = "workItemUpdated";
  std::string workItemId;
  std::string change; ///< "message", "chatLine", "callEnded", "attributes" ...
  std::optional<std::string> detail;
  bool operator==(const WorkItemUpdated&) const = default;
};

struct WorkItemEnded {
  static constexpr std::string_view kKind = "workItemEnded";
  std::string workItemId;
  std::optional<std::string> agentId;
  std::optional<std::string> disposition;
  bool operator==(const WorkItemEnded&) const = default;
};

struct WorkItemAbandoned {
  static constexpr std::string_view kKind = "workItemAbandoned";
  std::string workItemId;
  std::string reason; ///< "customerHungUp", "maxWait", "chatClosed" ...
  std::optional<std::string> detail;
  bool operator==(const WorkItemAbandoned&) const = default;
};

struct AgentStateChanged {
  static constexpr std::string_view kKind = "agentStateChanged";
  std::string agentId;
  AgentState state = AgentState::NotReady;
  std::optional<AgentState> previous;
  std::optional<std::string> reason;
  bool operator==(const AgentStateChanged&) const = default;
};

struct CallEvent {
  static constexpr std::string_view kKind = "callEvent";
  std::optional<std::string> workItemId;
  std::string call; ///< the SIP Call-ID or the driver's call id
  CallEventKind event = CallEventKind::Ringing;
  std::optional<std::string> from;
  std::optional<std::string> to;
  std::optional<std::string> cause;
  bool operator==(const CallEvent&) const = default;
};

struct ChatEvent {
  static constexpr std::string_view kKind = "chatEvent";
  std::optional<std::string> workItemId;
  std::string session;
  ChatEventKind event = ChatEventKind::Opened;
  std::optional<std::string> lineId;
  std::optional<LineAuthor> author;
  std::optional<std::string> name; ///< the author's display name
  std::optional<std::string> text;
  bool operator==(const ChatEvent&) const = default;
};

struct DeliveryReport {
  static constexpr std::string_view kKind = "deliveryReport";
  std::string workItemId;
  std::string replyId;
  DeliveryOutcome outcome = DeliveryOutcome::Sent;
  std::optional<std::string> externalId; ///< e.g. the Message-ID of the mail sent
  std::optional<std::string> reason;
  bool operator==(const DeliveryReport&) const = default;
};

/// A driver could not turn what arrived into a work item; the server keeps a dead letter.
struct ContactRejected {
  static constexpr std::string_view kKind = "contactRejected";
  std::string reason;
  std::optional<std::string> sourceKey;
  std::optional<std::string> reference; ///< where the driver kept the original
  std::optional<std::int64_t> size;
  bool operator==(const ContactRejected&) const = default;
};

using Notification =
    std::variant<WorkItemArrived, WorkItemRouted, WorkItemAccepted, WorkItemUpdated, WorkItemEnded,
                 WorkItemAbandoned, AgentStateChanged, CallEvent, ChatEvent, DeliveryReport,
                 ContactRejected>;

// -------------------------------------------------------------------------------------- message

/// Exactly one of command, request, response or notification.
using Payload = std::variant<Command, Request, Response, Notification>;

struct Message {
  std::string version{kMessageVersion};
  std::string id;
  Timestamp time{};
  std::optional<std::string> correlationId; ///< the id of the message this one answers
  Party sender;
  Party addressee;
  std::vector<Agent> agents;
  std::vector<Customer> customers;
  std::vector<WorkItem> workItems;
  Payload payload;
  bool operator==(const Message&) const = default;
};

/// "command", "request", "response" or "notification".
std::string_view categoryOf(const Message& message);
/// The kind's element name: "offer", "lookupContact", "workItemArrived" ... For a response, the
/// kind it answers.
std::string_view kindOf(const Message& message);

} // namespace switchboard
