#pragma once

// What the routing engine is configured with and fed: agents, queues, classification rules and
// work items, as plain values. The engine copies what it needs into its own compact model
// (interned names, attribute slots, per-medium counters); these types are the boundary.
//
// Durations are milliseconds; times are switchboard::Timestamp (UTC, millisecond resolution).

#include "switchboard/message.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::routing {

using Duration = std::chrono::milliseconds;

/// The most distinct media (voice, chat, email, fax ...) one engine handles.
inline constexpr std::size_t kMaxMedia = 8;
/// The most ordering keys a queue combines (the first key and its tie-breaks).
inline constexpr std::size_t kMaxOrderKeys = 4;
/// The bytes of an item's body that rules read (item.body); the rest is ignored.
inline constexpr std::size_t kMaxBodyBytes = 4096;
/// The bytes the engine keeps of an item's subject, sender, contact point and customer name.
inline constexpr std::size_t kMaxItemTextBytes = 256;

/// A free attribute: one value ("tier" = "gold") or a list ("languages" = ["en", "fr"]).
/// A value that reads fully as a number ("42", "2.5") also compares as that number.
struct AttributeSpec {
  std::string name;
  std::vector<std::string> values;
  bool isList = false;

  static AttributeSpec scalar(std::string name, std::string value) {
    return {std::move(name), {std::move(value)}, false};
  }
  static AttributeSpec list(std::string name, std::vector<std::string> values) {
    return {std::move(name), std::move(values), true};
  }
};

/// At most `max` items of `medium` held at once within one capacity mix.
struct MediumLimit {
  std::string medium;
  int max = 0;
};

/// One allowed way of combining media. An agent may take a new item when at least one of its
/// mixes still has room for it with everything the agent already holds (offered or accepted);
/// media a mix does not list are not allowed in it. So {voice 1} and {chat 3, email 5} as two
/// mixes mean "one call and nothing else, or up to 3 chats and 5 emails together".
struct CapacityMix {
  std::vector<MediumLimit> limits;
};

struct AgentSpec {
  std::string id;
  std::string name;
  std::string site;
  int seniority = 0;
  std::vector<Skill> skills; ///< levels 0 to 10; a higher level is clamped to 10
  std::vector<AttributeSpec> attributes;
  std::vector<CapacityMix> capacity;
  /// Start of the current idle period (time since last contact); absent: when first seen ready.
  std::optional<Timestamp> lastContact;
  int contactsToday = 0;
};

/// How candidates of a queue are ordered. Keys combine in order: later keys break ties of
/// earlier ones; the agent registered first breaks any tie that remains.
enum class OrderKey {
  LongestIdle,    ///< longest time since the agent's last contact first
  HighestSkill,   ///< highest level in the queue's skill, or in the skill named by the item's topic
  Seniority,      ///< highest seniority first
  PreviousAgent,  ///< the customer's previous agent, waited for up to stickyMaxWait; must be first
  FewestContacts, ///< fewest contacts today first
  RoundRobin,     ///< the agent this queue offered to least recently first
  WeightedRandom, ///< random, each agent's chance proportional to its weight attribute
};

enum class EscalationKind {
  Widen,      ///< `expression` is or-ed with the target: more agents qualify
  LowerLevel, ///< every `agent.skills.X >= N` (or `> N`) of the target drops by `levels`
  AddSite,    ///< agents of `site` become eligible
  MoveQueue,  ///< the item moves to queue `queue` and starts over there
};

struct EscalationStep {
  Duration after{0}; ///< time waited in this queue before the step applies
  EscalationKind kind = EscalationKind::Widen;
  std::string expression;
  int levels = 1;
  std::string site;
  std::string queue;
};

enum class MaxWaitOutcome { Abandon, Fail, MoveQueue };

struct QueueSpec {
  std::string id;
  /// Which agents may take this queue's items, e.g.
  /// `agent.skills.billing >= 3 and item.language in agent.languages`. Empty: every agent.
  std::string target;
  std::vector<OrderKey> ordering{OrderKey::LongestIdle};
  /// Added to each item's priority when items of different queues compete for an agent.
  int priority = 0;
  /// Skill for OrderKey::HighestSkill; empty: the skill named by the item attribute skillAttribute.
  std::string skill;
  std::string skillAttribute = "topic";
  /// Agent attribute holding the weight for OrderKey::WeightedRandom (missing: weight 1).
  std::string weightAttribute = "weight";
  Duration stickyMaxWait{std::chrono::seconds(30)};
  Duration offerTimeout{std::chrono::seconds(20)};
  Duration wrapUp{0};
  /// Sites allowed at the start (empty: all sites).
  std::vector<std::string> sites;
  /// When set, only agents of this site qualify until overflowAfter has passed.
  std::string preferredSite;
  Duration overflowAfter{0};
  std::vector<EscalationStep> escalation;
  /// Zero: items wait for ever.
  Duration maxWait{0};
  MaxWaitOutcome maxWaitOutcome = MaxWaitOutcome::Abandon;
  std::string maxWaitQueue; ///< for MaxWaitOutcome::MoveQueue
  /// Priority points an item gains per minute of waiting, so that low-priority items are not
  /// starved by a steady stream of high-priority ones. Zero: strict priority.
  double ageingPerMinute = 0.0;
};

/// A classification rule. Rules run in order on each submitted item; each rule whose condition
/// holds sets its attributes; the first one that names a queue chooses the queue and ends the run.
struct RuleSpec {
  std::string name;
  std::string when; ///< expression over item fields only; empty: always
  std::vector<AttributeSpec> set;
  std::string queue;
};

struct ItemSpec {
  std::string id;
  std::string medium;
  int priority = 50;                ///< 0 to 100
  std::optional<Timestamp> arrival; ///< absent: the time of submission
  std::string customerId;
  std::vector<AttributeSpec> attributes;
  std::string queue;           ///< empty: chosen by the rules or the default queue
  std::string previousAgentId; ///< the customer's last agent known to the CRM

  // The item's own texts, for rules and targets to classify by (docs/routing.md, "Fields").
  // Texts longer than the limits are cut at a UTF-8 character boundary; empty means absent.
  std::string subject;      ///< item.subject; the first kMaxItemTextBytes are kept
  std::string from;         ///< item.from: the customer's address (e-mail, phone number ...)
  std::string contactPoint; ///< item.contactPoint: the address the customer wrote or called to
  std::string customerName; ///< item.customer.name
  /// item.body: the text the customer wrote, of which rules read the first kMaxBodyBytes while
  /// the item is submitted. The engine does not keep it, so targets cannot read it.
  std::string body;
};

enum class TraceLevel {
  None,    ///< no traces (fastest)
  Summary, ///< the candidates looked at before the winner was found, and why they lost
  Full,    ///< every agent: eligible ones with their keys, the others with the reason
};

enum class Matcher {
  Indexed, ///< per-queue indexes of eligible agents and waiting items (the engine)
  Scan,    ///< scan every agent and every waiting item per decision (the reference)
};

struct EngineOptions {
  TraceLevel trace = TraceLevel::Summary;
  Matcher matcher = Matcher::Indexed;
  /// Offer timeouts in a row that set an agent not ready with reason "missed offers"; 0: never.
  int missedOffersLimit = 3;
  /// Seed of the weighted random ordering; the same seed gives the same decisions.
  std::uint64_t seed = 1;
  /// Queue for items that no rule places; empty: such items fail.
  std::string defaultQueue;
};

} // namespace switchboard::routing
