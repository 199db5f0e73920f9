#pragma once

// Helpers for engine tests: a clock in seconds from a fixed start, short ways to declare agents,
// queues and items, and the engine's actions copied into owned values.

#include "switchboard/routing/routing_engine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::routing::testing {

/// An item of `medium` for queue "q" in French.
inline ItemSpec frenchItem(const std::string& id, const std::string& medium) {
  ItemSpec spec;
  spec.id = id;
  spec.queue = "q";
  spec.medium = medium;
  spec.attributes = {AttributeSpec::scalar("language", "fr")};
  return spec;
}

/// `seconds` after 2026-01-05T08:00:00Z, a Monday morning.
inline Timestamp at(double seconds) {
  return Timestamp(
      std::chrono::milliseconds(1'767'600'000'000LL + static_cast<std::int64_t>(seconds * 1000.0)));
}

struct Event {
  enum class Kind { Offer, Item, Agent } kind = Kind::Offer;
  std::string item;
  std::string agent;
  std::string queue;
  WorkItemState itemState = WorkItemState::New;
  AgentState agentState = AgentState::LoggedOut;
  std::string cause; ///< item cause or agent reason
  Timestamp expires{};
  std::string trace; ///< formatted, for offers with a trace
};

inline std::vector<Event> copy(Actions actions) {
  std::vector<Event> events;
  for (const auto& action : actions) {
    Event event;
    if (const auto* offer = std::get_if<OfferMade>(&action)) {
      event.kind = Event::Kind::Offer;
      event.item = offer->itemId;
      event.agent = offer->agentId;
      event.queue = offer->queueId;
      event.expires = offer->expires;
      if (offer->trace != nullptr) {
        event.trace = formatTrace(*offer->trace);
      }
    } else if (const auto* item = std::get_if<ItemChanged>(&action)) {
      event.kind = Event::Kind::Item;
      event.item = item->itemId;
      event.agent = item->agentId;
      event.queue = item->queueId;
      event.itemState = item->state;
      event.cause = item->cause;
    } else if (const auto* agent = std::get_if<AgentChanged>(&action)) {
      event.kind = Event::Kind::Agent;
      event.agent = agent->agentId;
      event.agentState = agent->state;
      event.cause = agent->reason;
    }
    events.push_back(std::move(event));
  }
  return events;
}

/// The first offer among `events`, or nullptr when there is none.
inline const Event* firstOffer(const std::vector<Event>& events) {
  for (const auto& e : events) {
    if (e.kind == Event::Kind::Offer) {
      return &e;
    }
  }
  return nullptr;
}

/// "item>agent" for each offer, in order.
inline std::vector<std::string> offers(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.kind == Event::Kind::Offer) {
      out.push_back(e.item + ">" + e.agent);
    }
  }
  return out;
}

class EngineTest : public ::testing::Test {
 protected:
  explicit EngineTest(EngineOptions options = {}) : engine_(options) {}

  std::vector<Event> check(const Outcome& outcome) {
    EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.error().message);
    if (!outcome.ok()) {
      return {};
    }
    auto events = copy(outcome.value());
    log_.insert(log_.end(), events.begin(), events.end());
    return events;
  }

  AgentSpec agentSpec(std::string id, std::vector<Skill> skills = {}) {
    AgentSpec spec;
    spec.id = std::move(id);
    spec.skills = std::move(skills);
    spec.capacity = {CapacityMix{{{"voice", 1}}}, CapacityMix{{{"chat", 3}, {"email", 5}}}};
    return spec;
  }

  /// Adds an agent and makes it ready at `time`.
  void addReady(const AgentSpec& spec, double time = 0) {
    check(engine_.upsertAgent(spec, at(time)));
    check(engine_.setAgentState(spec.id, AgentState::Ready, "", at(time)));
  }
  void addReady(std::string id, std::vector<Skill> skills = {}, double time = 0) {
    addReady(agentSpec(std::move(id), std::move(skills)), time);
  }

  QueueSpec queueSpec(std::string id, std::string target = "",
                      std::vector<OrderKey> ordering = {OrderKey::LongestIdle}) {
    QueueSpec spec;
    spec.id = std::move(id);
    spec.target = std::move(target);
    spec.ordering = std::move(ordering);
    return spec;
  }
  void addQueue(const QueueSpec& spec, double time = 0) {
    check(engine_.upsertQueue(spec, at(time)));
  }

  ItemSpec itemSpec(std::string id, std::string queue, std::string medium = "voice",
                    int priority = 50) {
    ItemSpec spec;
    spec.id = std::move(id);
    spec.queue = std::move(queue);
    spec.medium = std::move(medium);
    spec.priority = priority;
    return spec;
  }
  std::vector<Event> submit(const ItemSpec& spec, double time) {
    return check(engine_.submit(spec, at(time)));
  }
  std::vector<Event> submit(std::string id, std::string queue, double time,
                            std::string medium = "voice", int priority = 50) {
    return submit(itemSpec(std::move(id), std::move(queue), std::move(medium), priority), time);
  }
  std::vector<Event> accept(std::string_view item, std::string_view agent, double time) {
    return check(engine_.accept(item, agent, at(time)));
  }
  std::vector<Event> complete(std::string_view item, double time) {
    return check(engine_.complete(item, at(time)));
  }
  std::vector<Event> advance(double time) { return check(engine_.advance(at(time))); }

  /// The agent the item was last offered to in `events`, or "" when none.
  static std::string offeredTo(const std::vector<Event>& events, std::string_view item) {
    std::string agent;
    for (const auto& e : events) {
      if (e.kind == Event::Kind::Offer && e.item == item) {
        agent = e.agent;
      }
    }
    return agent;
  }

  AgentState stateOf(std::string_view agent) const { return engine_.agent(agent)->state; }

  RoutingEngine engine_;
  std::vector<Event> log_;
};

} // namespace switchboard::routing::testing
