#include "message_layout.h"

#include "switchboard/message.h"
#include "switchboard/timestamp.h"

#include <array>
#include <charconv>
#include <optional>
#include <type_traits>
#include <variant>

namespace switchboard::layout {

TypeLayout::TypeLayout(std::vector<FieldLayout> fieldList, RuleCheck ruleCheck)
    : fields(std::move(fieldList)), check(ruleCheck) {
  for (const FieldLayout& field : fields) {
    if (field.kind == FieldKind::Content) {
      content = &field;
    } else if (field.kind != FieldKind::Attribute) {
      hasChildren = true;
    }
  }
}

const FieldLayout* TypeLayout::attribute(std::u16string_view name) const {
  for (const FieldLayout& field : fields) {
    if (field.kind == FieldKind::Attribute && field.wideName == name) {
      return &field;
    }
  }
  return nullptr;
}

const FieldLayout* TypeLayout::element(std::u16string_view name) const {
  for (const FieldLayout& field : fields) {
    switch (field.kind) {
    case FieldKind::Attribute:
    case FieldKind::Content:
      break;
    case FieldKind::Choice:
      for (const Alternative& alternative : field.alternatives) {
        if (alternative.wideName == name) {
          return &field;
        }
      }
      break;
    default:
      if (field.wideName == name) {
        return &field;
      }
    }
  }
  return nullptr;
}

namespace {

// Names in the schema are ASCII, so widening is a copy.
std::u16string widen(std::string_view name) {
  return {name.begin(), name.end()};
}

// ------------------------------------------------------------------------- scalar values as text

template <class T>
struct Value;

template <>
struct Value<std::string> {
  static bool parse(std::string_view text, std::string& value) {
    value.assign(text);
    return true;
  }
  static void format(const std::string& value, std::string& out) { out += value; }
};

template <class T>
requires std::is_integral_v<T>
struct Value<T> {
  static bool parse(std::string_view text, T& value) {
    if (!text.empty() && text.front() == '+') {
      text.remove_prefix(1);
    }
    const char* end = text.data() + text.size();
    auto [stop, status] = std::from_chars(text.data(), end, value);
    return status == std::errc{} && stop == end && !text.empty();
  }
  static void format(T value, std::string& out) {
    std::array<char, 24> digits{};
    auto [stop, status] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), stop);
  }
};

template <class E>
requires std::is_enum_v<E>
struct Value<E> {
  static bool parse(std::string_view text, E& value) {
    std::optional<E> parsed = enumFromString<E>(text);
    if (parsed) {
      value = *parsed;
    }
    return parsed.has_value();
  }
  static void format(E value, std::string& out) { out += toString(value); }
};

template <>
struct Value<Timestamp> {
  static bool parse(std::string_view text, Timestamp& value) {
    std::optional<Timestamp> parsed = parseTimestamp(text);
    if (parsed) {
      value = *parsed;
    }
    return parsed.has_value();
  }
  static void format(Timestamp value, std::string& out) { appendTimestamp(value, out); }
};

// An xs:list of tokens, such as the media a driver serves.
template <>
struct Value<std::vector<std::string>> {
  static bool parse(std::string_view text, std::vector<std::string>& value) {
    value.clear();
    while (!text.empty()) {
      std::size_t end = text.find(' ');
      if (end != 0) {
        value.emplace_back(text.substr(0, end));
      }
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return true;
  }
  static void format(const std::vector<std::string>& value, std::string& out) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (i > 0) {
        out += ' ';
      }
      out += value[i];
    }
  }
};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {
  using Inner = T;
};

template <class M>
struct MemberOf;
template <class C, class M>
struct MemberOf<M C::*> {
  using Class = C;
  using Type = M;
};

template <auto Member>
using ClassOf = typename MemberOf<decltype(Member)>::Class;
template <auto Member>
using TypeOf = typename MemberOf<decltype(Member)>::Type;

template <auto Member>
TypeOf<Member>& member(void* object) {
  return static_cast<ClassOf<Member>*>(object)->*Member;
}
template <auto Member>
const TypeOf<Member>& member(const void* object) {
  return static_cast<const ClassOf<Member>*>(object)->*Member;
}

// --------------------------------------------------------------------------------- field builders

template <class T>
struct Tag {};

template <class T>
const TypeLayout& layoutOf();

template <auto Member>
FieldLayout scalar(FieldKind kind, std::string_view name) {
  using M = TypeOf<Member>;
  FieldLayout field;
  field.kind = kind;
  field.name = name;
  field.wideName = widen(name);
  if constexpr (IsOptional<M>::value) {
    using Inner = typename IsOptional<M>::Inner;
    field.parse = [](void* object, std::string_view text) {
      return Value<Inner>::parse(text, member<Member>(object).emplace());
    };
    field.format = [](const void* object, std::string& out) {
      const M& value = member<Member>(object);
      if (value) {
        Value<Inner>::format(*value, out);
      }
      return value.has_value();
    };
  } else {
    field.parse = [](void* object, std::string_view text) {
      return Value<M>::parse(text, member<Member>(object));
    };
    field.format = [](const void* object, std::string& out) {
      Value<M>::format(member<Member>(object), out);
      return true;
    };
  }
  return field;
}

template <auto Member>
FieldLayout attribute(std::string_view name) {
  return scalar<Member>(FieldKind::Attribute, name);
}
template <auto Member>
FieldLayout text(std::string_view name) {
  return scalar<Member>(FieldKind::Text, name);
}
template <auto Member>
FieldLayout content() {
  return scalar<Member>(FieldKind::Content, {});
}

template <auto Member>
FieldLayout child(std::string_view name) {
  using M = TypeOf<Member>;
  FieldLayout field;
  field.kind = FieldKind::Child;
  field.name = name;
  field.wideName = widen(name);
  if constexpr (IsOptional<M>::value) {
    field.nested = &layoutOf<typename IsOptional<M>::Inner>;
    field.emplace = [](void* object) -> void* { return &member<Member>(object).emplace(); };
    field.count = [](const void* object) -> std::size_t {
      return member<Member>(object).has_value() ? 1 : 0;
    };
    field.at = [](const void* object, std::size_t) -> const void* {
      return &*member<Member>(object);
    };
  } else {
    field.nested = &layoutOf<M>;
    field.emplace = [](void* object) -> void* { return &member<Member>(object); };
    field.count = [](const void*) -> std::size_t { return 1; };
    field.at = [](const void* object, std::size_t) -> const void* {
      return &member<Member>(object);
    };
  }
  return field;
}

template <auto Member>
FieldLayout list(std::string_view name) {
  using M = TypeOf<Member>;
  FieldLayout field;
  field.kind = FieldKind::List;
  field.name = name;
  field.wideName = widen(name);
  field.nested = &layoutOf<typename M::value_type>;
  field.emplace = [](void* object) -> void* { return &member<Member>(object).emplace_back(); };
  field.count = [](const void* object) -> std::size_t { return member<Member>(object).size(); };
  field.at = [](const void* object, std::size_t index) -> const void* {
    return &member<Member>(object)[index];
  };
  return field;
}

template <class V, std::size_t I>
Alternative alternative(std::string_view name) {
  using Alt = std::variant_alternative_t<I, V>;
  return Alternative{
      name,
      widen(name),
      &layoutOf<Alt>,
      [](void* variant) -> void* { return &static_cast<V*>(variant)->template emplace<I>(); },
      [](const void* variant) -> const void* {
        return &std::get<I>(*static_cast<const V*>(variant));
      },
  };
}

template <class V, std::size_t... I>
std::vector<Alternative> alternatives(const std::array<std::string_view, sizeof...(I)>& names,
                                      std::index_sequence<I...>) {
  return {alternative<V, I>(names[I])...};
}

// A Choice over the variant member `Member`, whose alternatives are named by `names`.
template <auto Member>
FieldLayout choice(const std::array<std::string_view, std::variant_size_v<TypeOf<Member>>>& names) {
  using V = TypeOf<Member>;
  FieldLayout field;
  field.kind = FieldKind::Choice;
  field.alternatives = alternatives<V>(names, std::make_index_sequence<std::variant_size_v<V>>{});
  field.variant = [](void* object) -> void* { return &member<Member>(object); };
  field.constVariant = [](const void* object) -> const void* { return &member<Member>(object); };
  field.index = [](const void* variant) { return static_cast<const V*>(variant)->index(); };
  return field;
}

// A variant of kinds (Command, Request, Notification) is an element holding one element named
// by the kind of the alternative it holds.
template <class... Kinds>
TypeLayout describe(Tag<std::variant<Kinds...>>) {
  using V = std::variant<Kinds...>;
  FieldLayout field;
  field.kind = FieldKind::Choice;
  field.alternatives = alternatives<V>({Kinds::kKind...}, std::index_sequence_for<Kinds...>{});
  field.variant = [](void* object) { return object; };
  field.constVariant = [](const void* object) { return object; };
  field.index = [](const void* variant) { return static_cast<const V*>(variant)->index(); };
  return TypeLayout({std::move(field)});
}

// ------------------------------------------------------------------------------ building blocks

TypeLayout describe(Tag<Party>) {
  return TypeLayout({attribute<&Party::type>("type"), attribute<&Party::id>("id")});
}

TypeLayout describe(Tag<Attribute>) {
  return TypeLayout({attribute<&Attribute::name>("name"), content<&Attribute::value>()});
}

TypeLayout describe(Tag<Address>) {
  return TypeLayout({attribute<&Address::kind>("kind"), attribute<&Address::name>("name"),
                     content<&Address::value>()});
}

TypeLayout describe(Tag<Body>) {
  return TypeLayout({attribute<&Body::type>("type"), content<&Body::text>()});
}

TypeLayout describe(Tag<Attachment>) {
  return TypeLayout({attribute<&Attachment::name>("name"), attribute<&Attachment::type>("type"),
                     attribute<&Attachment::size>("size"), attribute<&Attachment::digest>("digest"),
                     attribute<&Attachment::ref>("ref")});
}

TypeLayout describe(Tag<Skill>) {
  return TypeLayout({attribute<&Skill::name>("name"), attribute<&Skill::level>("level")});
}

TypeLayout describe(Tag<Capacity>) {
  return TypeLayout({attribute<&Capacity::medium>("medium"), attribute<&Capacity::max>("max"),
                     attribute<&Capacity::active>("active")});
}

TypeLayout describe(Tag<TranscriptLine>) {
  return TypeLayout({attribute<&TranscriptLine::id>("id"), attribute<&TranscriptLine::time>("time"),
                     attribute<&TranscriptLine::author>("author"),
                     attribute<&TranscriptLine::name>("name"), content<&TranscriptLine::text>()});
}

TypeLayout describe(Tag<HistoryEntry>) {
  return TypeLayout(
      {attribute<&HistoryEntry::time>("time"), attribute<&HistoryEntry::state>("state"),
       attribute<&HistoryEntry::cause>("cause"), attribute<&HistoryEntry::actorId>("actor")});
}

TypeLayout describe(Tag<ResponseError>) {
  return TypeLayout({attribute<&ResponseError::code>("code"), content<&ResponseError::text>()});
}

// ------------------------------------------------------------------------------ CRM information

TypeLayout describe(Tag<Agent>) {
  return TypeLayout({
      attribute<&Agent::id>("id"),
      attribute<&Agent::name>("name"),
      attribute<&Agent::site>("site"),
      attribute<&Agent::state>("state"),
      attribute<&Agent::stateReason>("stateReason"),
      attribute<&Agent::stateSince>("stateSince"),
      attribute<&Agent::seniority>("seniority"),
      attribute<&Agent::lastContact>("lastContact"),
      attribute<&Agent::contactsToday>("contactsToday"),
      list<&Agent::skills>("skill"),
      list<&Agent::capacity>("capacity"),
      list<&Agent::attributes>("attribute"),
  });
}

TypeLayout describe(Tag<Customer>) {
  return TypeLayout({
      attribute<&Customer::ref>("ref"),
      attribute<&Customer::name>("name"),
      attribute<&Customer::language>("language"),
      attribute<&Customer::tier>("tier"),
      attribute<&Customer::lastAgentId>("lastAgent"),
      list<&Customer::addresses>("address"),
      list<&Customer::attributes>("attribute"),
  });
}

TypeLayout describe(Tag<WorkItem>) {
  return TypeLayout({
      attribute<&WorkItem::id>("id"),
      attribute<&WorkItem::medium>("medium"),
      attribute<&WorkItem::state>("state"),
      attribute<&WorkItem::priority>("priority"),
      attribute<&WorkItem::queueId>("queue"),
      attribute<&WorkItem::agentId>("agent"),
      attribute<&WorkItem::created>("created"),
      attribute<&WorkItem::sourceKey>("sourceKey"),
      attribute<&WorkItem::thread>("thread"),
      child<&WorkItem::customer>("customer"),
      child<&WorkItem::contactPoint>("contactPoint"),
      text<&WorkItem::subject>("subject"),
      child<&WorkItem::body>("body"),
      list<&WorkItem::transcript>("line"),
      list<&WorkItem::attachments>("attachment"),
      list<&WorkItem::attributes>("attribute"),
      list<&WorkItem::history>("history"),
  });
}

// ------------------------------------------------------------------------------------- commands

TypeLayout describe(Tag<Offer>) {
  return TypeLayout({attribute<&Offer::workItemId>("workItem"), attribute<&Offer::agentId>("agent"),
                     attribute<&Offer::queueId>("queue"), attribute<&Offer::expires>("expires"),
                     attribute<&Offer::reason>("reason")});
}

TypeLayout describe(Tag<WithdrawOffer>) {
  return TypeLayout({attribute<&WithdrawOffer::workItemId>("workItem"),
                     attribute<&WithdrawOffer::agentId>("agent"),
                     attribute<&WithdrawOffer::reason>("reason")});
}

TypeLayout describe(Tag<Accept>) {
  return TypeLayout(
      {attribute<&Accept::workItemId>("workItem"), attribute<&Accept::agentId>("agent")});
}

TypeLayout describe(Tag<Decline>) {
  return TypeLayout({attribute<&Decline::workItemId>("workItem"),
                     attribute<&Decline::agentId>("agent"), attribute<&Decline::reason>("reason")});
}

TypeLayout describe(Tag<Transfer>) {
  return TypeLayout(
      {attribute<&Transfer::workItemId>("workItem"), attribute<&Transfer::agentId>("agent"),
       attribute<&Transfer::targetType>("targetType"), attribute<&Transfer::target>("target"),
       attribute<&Transfer::reason>("reason")});
}

TypeLayout describe(Tag<Complete>) {
  return TypeLayout(
      {attribute<&Complete::workItemId>("workItem"), attribute<&Complete::agentId>("agent"),
       attribute<&Complete::disposition>("disposition"), text<&Complete::notes>("notes")});
}

TypeLayout describe(Tag<SendReply>) {
  return TypeLayout({
      attribute<&SendReply::workItemId>("workItem"),
      attribute<&SendReply::replyId>("replyId"),
      attribute<&SendReply::agentId>("agent"),
      list<&SendReply::to>("to"),
      list<&SendReply::cc>("cc"),
      text<&SendReply::subject>("subject"),
      child<&SendReply::body>("body"),
      list<&SendReply::attachments>("attachment"),
  });
}

TypeLayout describe(Tag<RedirectCall>) {
  return TypeLayout({attribute<&RedirectCall::workItemId>("workItem"),
                     attribute<&RedirectCall::target>("target"),
                     attribute<&RedirectCall::reason>("reason")});
}

TypeLayout describe(Tag<DeliverChatLine>) {
  return TypeLayout(
      {attribute<&DeliverChatLine::workItemId>("workItem"),
       attribute<&DeliverChatLine::lineId>("lineId"), attribute<&DeliverChatLine::agentId>("agent"),
       attribute<&DeliverChatLine::name>("name"), text<&DeliverChatLine::text>("text")});
}

TypeLayout describe(Tag<Disconnect>) {
  return TypeLayout(
      {attribute<&Disconnect::workItemId>("workItem"), attribute<&Disconnect::reason>("reason")});
}

TypeLayout describe(Tag<SetAgentState>) {
  return TypeLayout({attribute<&SetAgentState::agentId>("agent"),
                     attribute<&SetAgentState::state>("state"),
                     attribute<&SetAgentState::reason>("reason")});
}

// ------------------------------------------------------------------------------------- requests

TypeLayout describe(Tag<RegisterDriver>) {
  return TypeLayout({attribute<&RegisterDriver::driver>("driver"),
                     attribute<&RegisterDriver::media>("media"),
                     attribute<&RegisterDriver::software>("software")});
}

TypeLayout describe(Tag<Ping>) {
  return TypeLayout({});
}

TypeLayout describe(Tag<LookupContact>) {
  return TypeLayout({attribute<&LookupContact::kind>("kind"),
                     attribute<&LookupContact::address>("address"),
                     attribute<&LookupContact::medium>("medium")});
}

TypeLayout describe(Tag<GetAgentState>) {
  return TypeLayout({attribute<&GetAgentState::agentId>("agent")});
}

TypeLayout describe(Tag<GetWorkItem>) {
  return TypeLayout({attribute<&GetWorkItem::workItemId>("workItem")});
}

std::string checkResponse(const void* object) {
  const auto& response = *static_cast<const Response*>(object);
  if ((response.status == ResponseStatus::Error) != response.error.has_value()) {
    return "a response carries an 'error' element exactly when its status is 'error'";
  }
  return {};
}

TypeLayout describe(Tag<Response>) {
  return TypeLayout({attribute<&Response::kind>("kind"), attribute<&Response::status>("status"),
                     child<&Response::error>("error")},
                    &checkResponse);
}

// -------------------------------------------------------------------------------- notifications

TypeLayout describe(Tag<WorkItemArrived>) {
  return TypeLayout({});
}

TypeLayout describe(Tag<WorkItemRouted>) {
  return TypeLayout({attribute<&WorkItemRouted::workItemId>("workItem"),
                     attribute<&WorkItemRouted::agentId>("agent"),
                     attribute<&WorkItemRouted::queueId>("queue"),
                     attribute<&WorkItemRouted::reason>("reason")});
}

TypeLayout describe(Tag<WorkItemAccepted>) {
  return TypeLayout({attribute<&WorkItemAccepted::workItemId>("workItem"),
                     attribute<&WorkItemAccepted::agentId>("agent")});
}

TypeLayout describe(Tag<WorkItemUpdated>) {
  return TypeLayout({attribute<&WorkItemUpdated::workItemId>("workItem"),
                     attribute<&WorkItemUpdated::change>("change"),
                     attribute<&WorkItemUpdated::detail>("detail")});
}

TypeLayout describe(Tag<WorkItemEnded>) {
  return TypeLayout({attribute<&WorkItemEnded::workItemId>("workItem"),
                     attribute<&WorkItemEnded::agentId>("agent"),
                     attribute<&WorkItemEnded::disposition>("disposition")});
}

TypeLayout describe(Tag<WorkItemAbandoned>) {
  return TypeLayout({attribute<&WorkItemAbandoned::workItemId>("workItem"),
                     attribute<&WorkItemAbandoned::reason>("reason"),
                     attribute<&WorkItemAbandoned::detail>("detail")});
}

TypeLayout describe(Tag<AgentStateChanged>) {
  return TypeLayout({attribute<&AgentStateChanged::agentId>("agent"),
                     attribute<&AgentStateChanged::state>("state"),
                     attribute<&AgentStateChanged::previous>("previous"),
                     attribute<&AgentStateChanged::reason>("reason")});
}

TypeLayout describe(Tag<CallEvent>) {
  return TypeLayout({attribute<&CallEvent::workItemId>("workItem"),
                     attribute<&CallEvent::call>("call"), attribute<&CallEvent::event>("event"),
                     attribute<&CallEvent::from>("from"), attribute<&CallEvent::to>("to"),
                     attribute<&CallEvent::cause>("cause")});
}

TypeLayout describe(Tag<ChatEvent>) {
  return TypeLayout({attribute<&ChatEvent::workItemId>("workItem"),
                     attribute<&ChatEvent::session>("session"),
                     attribute<&ChatEvent::event>("event"), attribute<&ChatEvent::lineId>("lineId"),
                     attribute<&ChatEvent::author>("author"), attribute<&ChatEvent::name>("name"),
                     text<&ChatEvent::text>("text")});
}

TypeLayout describe(Tag<DeliveryReport>) {
  return TypeLayout({attribute<&DeliveryReport::workItemId>("workItem"),
                     attribute<&DeliveryReport::replyId>("replyId"),
                     attribute<&DeliveryReport::outcome>("outcome"),
                     attribute<&DeliveryReport::externalId>("externalId"),
                     attribute<&DeliveryReport::reason>("reason")});
}

TypeLayout describe(Tag<ContactRejected>) {
  return TypeLayout({attribute<&ContactRejected::reason>("reason"),
                     attribute<&ContactRejected::sourceKey>("sourceKey"),
                     attribute<&ContactRejected::reference>("reference"),
                     attribute<&ContactRejected::size>("size")});
}

// -------------------------------------------------------------------------------------- message

TypeLayout describe(Tag<Message>) {
  return TypeLayout({
      attribute<&Message::version>("version"),
      attribute<&Message::id>("id"),
      attribute<&Message::time>("time"),
      attribute<&Message::correlationId>("correlationId"),
      child<&Message::sender>("sender"),
      child<&Message::addressee>("addressee"),
      list<&Message::agents>("agent"),
      list<&Message::customers>("customer"),
      list<&Message::workItems>("workItem"),
      choice<&Message::payload>({"command", "request", "response", "notification"}),
  });
}

template <class T>
const TypeLayout& layoutOf() {
  static const TypeLayout layout = describe(Tag<T>{});
  return layout;
}

} // namespace

const TypeLayout& messageLayout() {
  return layoutOf<Message>();
}

} // namespace switchboard::layout
