#pragma once

// The routing benchmark's second reference: a router that does the least this benchmark's
// workload needs, to show what routing can cost on the machine at hand. Where the naive matcher
// is the slow reference (every agent per decision), this is the fast one: it sets how far the
// engine's throughput is from what a minimal core reaches on the same machine in the same run.
//
// What it keeps of the engine's work: items found by their text id (the engine's IdTable),
// queues found by name, agents in the queues whose skill they have at the level asked for, the
// four orderings the benchmark configures (longest idle; seniority, then longest idle; fewest
// contacts today, then longest idle; round robin) in per-queue sorted runs of 16-byte entries
// removed lazily (an agent's version and key decide whether an entry is live), room by medium
// from capacity mixes, the item's language against the agent's languages, offers that expire,
// declines that exclude the agent, waiting items taken when an agent frees up, the customer's
// last agent, a history step per transition and a small trace per decision (both written as
// the engine writes its own; nothing here reads them).
//
// What it leaves out, all of which the engine does: target expressions (a queue is one skill
// and a level), escalation and site overflow, priorities and ageing of waiting items (they wait
// in arrival order), the trace's keys and named exclusions, history causes, actions carrying
// ids and traces, sticky routing, several stages per queue, wrap-up, agent state reports. It
// routes only the benchmark's workload; it is not a second engine.

#include "id_table.h"
#include "switchboard/routing/routing_config.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::bench {

class LeanRouter {
 public:
  enum class Ordering : std::uint8_t {
    LongestIdle,
    SeniorityThenIdle,
    ContactsThenIdle,
    RoundRobin
  };
  /// A queue takes the agents with `skill` at `minLevel` or more, ordered by `ordering`; an
  /// item also needs an agent whose "languages" hold the item's "language".
  struct QueueSpec {
    std::string id;
    std::string skill;
    int minLevel = 0;
    Ordering ordering = Ordering::LongestIdle;
    std::int64_t offerTimeoutMs = 20'000;
  };
  /// An offer made by the last call: the item's id and the agent's index in the agents given.
  struct Offer {
    std::string_view itemId;
    std::uint32_t agent = 0;
  };

  /// Queues and agents as the benchmark configures the engine; every agent starts ready and
  /// idle since `nowMs`. Media are those the agents' capacity mixes name (at most four).
  LeanRouter(const std::vector<QueueSpec>& queues, const std::vector<routing::AgentSpec>& agents,
             std::int64_t nowMs);

  // The calls the benchmark makes; each replaces offers() with the offers it made. An id that
  // is not known, or an item not in the state the call needs (an accept of an offer that
  // expired meanwhile), is ignored: the call returns false.
  void submit(const routing::ItemSpec& item, std::int64_t nowMs);
  bool accept(std::string_view itemId, std::int64_t nowMs);
  bool decline(std::string_view itemId, std::int64_t nowMs);
  bool complete(std::string_view itemId, std::int64_t nowMs);
  /// Expires the offers due by `nowMs`, and routes their items again.
  void advance(std::int64_t nowMs);
  std::optional<std::int64_t> nextDue() const;

  /// The last call's offers; they (and the ids they view) are valid until the next call.
  std::span<const Offer> offers() const { return offers_; }
  /// Routing attempts: offers made and attempts that left an item waiting, as the engine counts.
  std::uint64_t decisions() const { return decisions_; }
  std::uint64_t offerCount() const { return offerCount_; }

  /// Checks the queues' runs against the agents, for the benchmark to trust the figure: every
  /// agent with room has one live entry in each of its queues, and none without room has any;
  /// the runs are in key order. Returns the first fault found, or an empty string.
  std::string checkRuns() const;

 private:
  static constexpr std::uint32_t kNone = routing::IdTable::kNotFound;
  static constexpr std::size_t kMaxMedia = 4;
  static constexpr std::size_t kMaxMembers = 8;

  struct alignas(64) Agent {
    std::uint32_t version = 0; ///< bumped when it stops being routable: its entries go stale
    std::uint8_t room = 0;     ///< bit m: room for one more item of medium m
    bool filed = false;
    std::uint8_t members = 0;
    std::uint8_t mixes = 0;
    std::uint32_t held = 0; ///< byte m: items of medium m held (offered or accepted)
    std::int64_t idleSince = 0;
    std::uint32_t contacts = 0;
    std::uint32_t seniority = 0;
    std::uint32_t languages = 0; ///< bit per language the agent speaks
    std::array<std::uint16_t, kMaxMembers> queues{};
    std::array<std::uint32_t, 2> limits{}; ///< per capacity mix, byte m: medium m's (at most 127)
  };
  /// An agent filed in a queue under `key` (idle since, or its round-robin turn).
  struct Entry {
    std::uint32_t agent = 0;
    std::uint32_t version = 0;
    std::int64_t key = 0;
  };
  /// Entries in key order from `head` on; those before `head` are gone.
  struct Run {
    std::vector<Entry> entries;
    std::size_t head = 0;
  };
  struct Queue {
    Ordering ordering = Ordering::LongestIdle;
    std::int64_t offerTimeoutMs = 0;
    std::uint64_t turns = 0;
    std::vector<Run> runs; ///< one, or one per seniority (highest first) or contact count
    std::vector<std::uint64_t> turnOf; ///< round robin: each agent's last turn
    std::vector<std::uint32_t> waiting;
    std::size_t waitingHead = 0;
    std::size_t filed = 0;       ///< entries in the runs, stale ones included
    std::size_t compactAt = 256; ///< filed at which the runs drop their stale entries
  };
  enum class State : std::uint8_t { Free, Waiting, Offered, Accepted };
  struct alignas(64) Item {
    std::uint32_t hash = 0;    ///< IdTable::hashOf(id)
    std::array<char, 24> id{}; ///< the benchmark's ids are short
    std::uint8_t idSize = 0;
    State state = State::Free;
    std::uint8_t medium = 0;
    std::uint8_t excludedCount = 0;
    std::uint32_t queue = 0;
    std::uint32_t agent = kNone;
    std::uint32_t language = 0;
    std::uint32_t epoch = 0;
    std::array<std::uint32_t, 2> excluded{};
    std::uint32_t customerHash = 0;
    std::array<char, 24> customer{}; ///< so are their customers' ids
    std::uint8_t customerSize = 0;
    std::string_view idView() const { return {id.data(), idSize}; }
    std::string_view customerView() const { return {customer.data(), customerSize}; }
  };
  struct Customer {
    std::string id;
    std::uint32_t lastAgent = kNone;
  };
  struct Step {
    std::int64_t time = 0;
    std::uint32_t item = 0;
    State state = State::Free;
  };
  struct Trace {
    std::uint32_t item = 0, winner = kNone, looked = 0, noRoom = 0;
  };
  struct Expiry {
    std::int64_t at = 0;
    std::uint32_t item = 0, epoch = 0;
  };
  void begin() { offers_.clear(); }
  /// begin() for a call on an item: its index when it is known and in `state`, else kNone.
  std::uint32_t beginOn(std::string_view itemId, State state);
  void route(std::uint32_t item, std::int64_t now);
  std::uint32_t choose(Item& item);
  void offer(std::uint32_t item, std::uint32_t agent, std::int64_t now);
  void release(std::uint32_t item, std::uint8_t changed, std::int64_t now);
  /// An offer declined or expired: the agent is excluded and released, the item routed again.
  void reroute(std::uint32_t item, std::int64_t now);
  void backfill(std::uint32_t agent, std::int64_t now);
  /// What changed of an agent's keys (refresh()).
  static constexpr std::uint8_t kIdleChanged = 1;
  static constexpr std::uint8_t kContactsChanged = 2;
  /// Recomputes its room; files it where it is not filed and its key changed (`changed`).
  void refresh(std::uint32_t agent, std::uint8_t changed);
  void file(std::uint32_t agent, std::uint32_t queue);
  void compact(Queue& queue);
  Run& runOf(Queue& queue, const Agent& agent);
  std::int64_t keyOf(const Queue& queue, std::uint32_t agent) const;
  bool live(const Queue& queue, std::size_t run, const Entry& entry) const;
  void record(std::uint32_t item, State state, std::int64_t now);
  std::uint8_t mediumOf(std::string_view medium) const;

  std::vector<Agent> agents_;
  std::vector<Queue> queues_;
  std::vector<std::string> queueIds_;
  routing::IdTable queueTable_;
  std::vector<std::string> media_;
  std::vector<std::string> languages_;
  std::vector<Item> items_;
  std::vector<std::uint32_t> freeItems_;
  routing::IdTable itemTable_;
  std::vector<Customer> customers_;
  routing::IdTable customerTable_;
  std::vector<Step> history_; ///< a ring
  std::size_t historyNext_ = 0;
  Trace trace_;
  std::vector<Expiry> expiries_; ///< offer timeouts in time order (one delay per queue here)
  std::size_t expiriesHead_ = 0;
  std::vector<Offer> offers_;
  std::uint64_t decisions_ = 0;
  std::uint64_t offerCount_ = 0;
};

} // namespace switchboard::bench
