// Routing engine benchmark: 10,000 agents, 200 skills, 100 queues, 100,000 work items arriving
// and completing in simulated time, on one thread. The same workload runs through the indexed
// engine, through the reference matcher that scans every agent (and every waiting item) per
// decision, and through the lean router (bench/lean_router.h), a router that does the least this
// workload needs. What each call is given (an arrival's ItemSpec, an item's id) is made just
// before the call, untimed, as the server makes it from the message it has just read. Prints:
// - decisions per second: routing decisions (RoutingEngine::decisions(): offers made plus
//   attempts that left an item waiting) divided by the time spent in every engine call of the
//   run (submit, accept, decline, complete, advance), so bookkeeping calls count against it.
//   Each call is timed on its own, and the cost of reading the clock (measured at start: the
//   median of empty intervals) is taken off each call's time;
// - offers per second: the same with only the decisions that gave an item to an agent;
// - latency per decision: each call that made decisions, timed and divided by the decisions it
//   made; p50 and p99 over decisions;
// - where the time goes: share of engine time, calls and time per call, by kind of call; and the
//   time of queueAgents() for every queue (what GET /v1/queues costs);
// - the ratio of the engine's decisions per second to the naive matcher's. The naive matcher is
//   slow (about 300 us per decision), so by default it runs the first 10,000 items only; the
//   indexed engine runs that same prefix too, and the two must make identical offers there
//   (same items to the same agents at the same times), else the benchmark fails;
// - the ratio of the engine's decisions per second to the lean router's, over all items, timed
//   the same way: how far the engine is from what a minimal core makes on this machine in this
//   run. The lean router's state is audited during its run (every routable agent filed once in
//   each of its queues, runs in order), else the benchmark fails;
// - heap bytes per queued item, with nobody logged in so that every item waits (every
//   allocation counts, over-aligned ones included).
//
// Usage: bench_routing [--items=N] [--naive-items=N] [--no-lean] [--no-memory]
//        (--naive-items=0 skips the naive reference, --no-lean the lean one, --no-memory the
//        memory figure, for profiling)

#include "lean_router.h"
#include "switchboard/routing/routing_engine.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

// Heap accounting only while the memory figure is taken, so timed runs pay nothing for it.
bool gCounting = false;
long long gHeapBytes = 0;

} // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  if (gCounting) {
    gHeapBytes += static_cast<long long>(malloc_usable_size(p));
  }
  return p;
}
void operator delete(void* p) noexcept {
  if (p != nullptr) {
    if (gCounting) {
      gHeapBytes -= static_cast<long long>(malloc_usable_size(p));
    }
    std::free(p);
  }
}
void operator delete(void* p, std::size_t) noexcept {
  operator delete(p);
}
// The engine's over-aligned types (agent records, ready-index chunks, memberships) are allocated
// through the aligned forms; they count as the others do.
void* operator new(std::size_t size, std::align_val_t alignment) {
  void* p = std::aligned_alloc(static_cast<std::size_t>(alignment),
                               (size + static_cast<std::size_t>(alignment) - 1) &
                                   ~(static_cast<std::size_t>(alignment) - 1));
  if (p == nullptr) {
    throw std::bad_alloc();
  }
  if (gCounting) {
    gHeapBytes += static_cast<long long>(malloc_usable_size(p));
  }
  return p;
}
void operator delete(void* p, std::align_val_t) noexcept {
  operator delete(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  operator delete(p);
}

namespace {

using namespace switchboard;
using namespace switchboard::routing;
using switchboard::bench::LeanRouter;
using Clock = std::chrono::steady_clock;

constexpr int kAgents = 10'000;
constexpr int kSkills = 200;
constexpr int kQueues = 100;
constexpr double kArrivalsPerSecond = 38.0;

Timestamp at(double seconds) {
  return Timestamp(
      std::chrono::milliseconds(1'767'600'000'000LL + static_cast<std::int64_t>(seconds * 1000.0)));
}

const std::vector<std::string> kLanguages{"en", "fr", "de", "es", "it"};
const std::vector<std::string> kMedia{"voice", "chat", "email"};

/// The benchmark's queues and agents, for the engine and for the lean router alike.
struct Workload {
  std::vector<QueueSpec> queues;
  std::vector<LeanRouter::QueueSpec> leanQueues; ///< the same queues, as the lean router reads them
  std::vector<AgentSpec> agents;
};

Workload makeWorkload() {
  Workload workload;
  std::mt19937 random(42);
  for (int q = 0; q < kQueues; ++q) {
    QueueSpec queue;
    queue.id = "q" + std::to_string(q);
    const std::string skill = "s" + std::to_string(q * 2);
    queue.target = "agent.skills." + skill + " >= 4 and item.language in agent.languages";
    LeanRouter::QueueSpec lean{queue.id, skill, 4, LeanRouter::Ordering::LongestIdle, 20'000};
    switch (q % 4) {
    case 0:
      queue.ordering = {OrderKey::LongestIdle};
      break;
    case 1:
      queue.ordering = {OrderKey::Seniority, OrderKey::LongestIdle};
      lean.ordering = LeanRouter::Ordering::SeniorityThenIdle;
      break;
    case 2:
      queue.ordering = {OrderKey::FewestContacts, OrderKey::LongestIdle};
      lean.ordering = LeanRouter::Ordering::ContactsThenIdle;
      break;
    default:
      queue.ordering = {OrderKey::RoundRobin};
      lean.ordering = LeanRouter::Ordering::RoundRobin;
      break;
    }
    queue.escalation = {{std::chrono::seconds(30), EscalationKind::LowerLevel, "", 2, "", ""}};
    if (q % 5 == 0) {
      queue.preferredSite = "site0";
      queue.overflowAfter = std::chrono::seconds(20);
    }
    queue.offerTimeout = std::chrono::seconds(20);
    queue.ageingPerMinute = q % 2 == 0 ? 0.0 : 2.0;
    workload.queues.push_back(std::move(queue));
    workload.leanQueues.push_back(std::move(lean));
  }
  for (int a = 0; a < kAgents; ++a) {
    AgentSpec agent;
    agent.id = "agent" + std::to_string(a);
    agent.site = "site" + std::to_string(a % 3);
    agent.seniority = static_cast<int>(random() % 20);
    std::vector<int> skills;
    while (skills.size() < 8) {
      const int s = static_cast<int>(random() % kSkills);
      if (std::find(skills.begin(), skills.end(), s) == skills.end()) {
        skills.push_back(s);
      }
    }
    for (int s : skills) {
      agent.skills.push_back({"s" + std::to_string(s), 1 + static_cast<int>(random() % 10)});
    }
    agent.attributes = {AttributeSpec::list("languages", {"en", kLanguages[1 + random() % 4]})};
    agent.capacity = {CapacityMix{{{"voice", 1}}}, CapacityMix{{{"chat", 3}, {"email", 5}}}};
    workload.agents.push_back(std::move(agent));
  }
  return workload;
}

void configure(RoutingEngine& engine, const Workload& workload, bool ready) {
  for (const QueueSpec& queue : workload.queues) {
    (void)engine.upsertQueue(queue, at(0));
  }
  for (const AgentSpec& agent : workload.agents) {
    (void)engine.upsertAgent(agent, at(0));
    if (ready) {
      (void)engine.setAgentState(agent.id, AgentState::Ready, "", at(0));
    }
  }
}

struct Arrival {
  double time = 0;
  ItemSpec spec;
  double acceptAfter = 0;
  double handleFor = 0;
  bool declines = false;
  bool ignores = false;
};

std::vector<Arrival> makeArrivals(int count) {
  std::mt19937_64 random(7);
  std::exponential_distribution<double> gap(kArrivalsPerSecond);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Arrival> arrivals;
  arrivals.reserve(static_cast<std::size_t>(count));
  double t = 1.0;
  for (int i = 0; i < count; ++i) {
    t += gap(random);
    Arrival arrival;
    arrival.time = t;
    arrival.spec.id = "item" + std::to_string(i);
    arrival.spec.queue = "q" + std::to_string(random() % kQueues);
    const double m = unit(random);
    arrival.spec.medium = m < 0.5 ? "voice" : (m < 0.8 ? "chat" : "email");
    arrival.spec.priority = static_cast<int>(random() % 100);
    arrival.spec.customerId = "c" + std::to_string(random() % 50'000);
    arrival.spec.attributes = {AttributeSpec::scalar(
        "language", unit(random) < 0.7 ? "en" : kLanguages[1 + random() % 4])};
    arrival.acceptAfter = 0.5 + 2.5 * unit(random);
    const double mean = m < 0.5 ? 180.0 : (m < 0.8 ? 300.0 : 400.0);
    arrival.handleFor = std::exponential_distribution<double>(1.0 / mean)(random);
    arrival.declines = unit(random) < 0.02;
    arrival.ignores = unit(random) < 0.01;
    arrivals.push_back(std::move(arrival));
  }
  return arrivals;
}

struct RunResult {
  std::uint64_t decisions = 0;
  std::uint64_t offers = 0;
  std::uint64_t calls = 0;
  double engineSeconds = 0;
  std::vector<double> latencies; ///< ns per decision, one per decision
  std::size_t itemsRun = 0;
  std::uint64_t offerDigest = 0xcbf29ce484222325ULL; ///< FNV-1a over every offer, in order
  /// Per call kind (submit, accept, decline, complete, advance): calls, seconds, decisions.
  std::array<std::uint64_t, 5> kindCalls{};
  std::array<double, 5> kindSeconds{};
  std::array<std::uint64_t, 5> kindDecisions{};
  double queueAgentsSeconds = 0; ///< queueAgents() for every queue, once, at the end
  std::size_t queueAgentsCounted = 0;
  std::string fault; ///< what an audit of the router's state found wrong (see run())
};

const std::array<const char*, 5> kKindNames{"submit", "accept", "decline", "complete", "advance"};

void digest(std::uint64_t& hash, std::string_view bytes) {
  for (const char c : bytes) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  hash = (hash ^ 0xff) * 0x100000001b3ULL;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) {
    return 0;
  }
  const auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

/// What timing a call costs by itself: the median of many empty intervals (two clock reads with
/// nothing between). Each engine call's measured time includes about one such interval; the
/// runs subtract it, so that a call of half a microsecond is not charged 5-10 % for the clock.
Clock::duration clockOverhead() {
  static std::array<Clock::duration, 100'001> empty; // static: 800 KB
  for (auto& interval : empty) {
    const auto start = Clock::now();
    interval = Clock::now() - start;
  }
  std::nth_element(empty.begin(), empty.begin() + 50'000, empty.end());
  return empty[50'000];
}

Clock::duration gClockOverhead{};

/// A call's measured time without the clock's own share, never below zero.
Clock::duration engineTime(Clock::duration measured) {
  return std::max(Clock::duration::zero(), measured - gClockOverhead);
}

std::int64_t msOf(Timestamp time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

/// The engine as the event loop drives it. A call on an item returns whether it took effect (an
/// accept of an offer that expired meanwhile does not); forEachOffer() then reads its offers.
class EngineCalls {
 public:
  EngineCalls(Matcher matcher, const Workload& workload) : engine_(optionsFor(matcher)) {
    configure(engine_, workload, true);
  }
  std::optional<Timestamp> nextDue() const { return engine_.nextDue(); }
  void advance(Timestamp now) { actions_ = engine_.advance(now); }
  bool submit(const ItemSpec& spec, Timestamp now) { return keep(engine_.submit(spec, now)); }
  bool accept(std::string_view item, std::string_view agent, Timestamp now) {
    return keep(engine_.accept(item, agent, now));
  }
  bool decline(std::string_view item, std::string_view agent, Timestamp now) {
    return keep(engine_.decline(item, agent, "busy", now));
  }
  bool complete(std::string_view item, Timestamp now) { return keep(engine_.complete(item, now)); }
  /// f(item id, agent id, time) for each offer of the last call.
  template <typename F>
  void forEachOffer(F&& f) const {
    for (const auto& action : actions_) {
      if (const auto* offer = std::get_if<OfferMade>(&action)) {
        f(offer->itemId, offer->agentId, offer->time);
      }
    }
  }
  std::uint64_t decisions() const { return engine_.decisions(); }
  std::uint64_t offers() const { return engine_.offers(); }
  RoutingEngine& engine() { return engine_; }

 private:
  static EngineOptions optionsFor(Matcher matcher) {
    EngineOptions options;
    options.matcher = matcher;
    return options;
  }
  bool keep(const Outcome& outcome) {
    actions_ = outcome.ok() ? outcome.value() : Actions{};
    return outcome.ok();
  }
  RoutingEngine engine_;
  Actions actions_;
};

/// The lean router (bench/lean_router.h) behind the same calls as EngineCalls.
class LeanCalls {
 public:
  explicit LeanCalls(const Workload& workload)
      : router_(workload.leanQueues, workload.agents, msOf(at(0))), agents_(workload.agents) {}
  std::optional<Timestamp> nextDue() const {
    const auto due = router_.nextDue();
    return due ? std::optional<Timestamp>(Timestamp(std::chrono::milliseconds(*due)))
               : std::nullopt;
  }
  void advance(Timestamp now) {
    last_ = now;
    router_.advance(msOf(now));
  }
  bool submit(const ItemSpec& spec, Timestamp now) {
    last_ = now;
    router_.submit(spec, msOf(now));
    return true;
  }
  bool accept(std::string_view item, std::string_view /*agent*/, Timestamp now) {
    last_ = now;
    return router_.accept(item, msOf(now));
  }
  bool decline(std::string_view item, std::string_view /*agent*/, Timestamp now) {
    last_ = now;
    return router_.decline(item, msOf(now));
  }
  bool complete(std::string_view item, Timestamp now) {
    last_ = now;
    return router_.complete(item, msOf(now));
  }
  template <typename F>
  void forEachOffer(F&& f) const {
    for (const auto& offer : router_.offers()) {
      f(offer.itemId, std::string_view(agents_[offer.agent].id), last_);
    }
  }
  std::uint64_t decisions() const { return router_.decisions(); }
  std::uint64_t offers() const { return router_.offerCount(); }
  /// What LeanRouter::checkRuns() finds wrong, or an empty string.
  std::string audit() const { return router_.checkRuns(); }

 private:
  LeanRouter router_;
  const std::vector<AgentSpec>& agents_;
  Timestamp last_{};
};

/// Runs the first `items` arrivals through `calls`, timing each call. Calls that can audit
/// their own state (the lean router) are audited every 4,096 calls, untimed: a fault stops the
/// run, in RunResult::fault.
template <typename Calls>
RunResult run(Calls& calls, const std::vector<Arrival>& arrivals, std::size_t items) {
  enum class Kind { Arrive, Accept, Decline, Complete };
  struct Event {
    double time;
    std::uint64_t sequence;
    Kind kind;
    std::size_t arrival;
    std::string agent;
    bool operator>(const Event& other) const {
      return time != other.time ? time > other.time : sequence > other.sequence;
    }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  std::uint64_t sequence = 0;
  std::vector<std::uint8_t> offersSoFar(arrivals.size(), 0);
  for (std::size_t i = 0; i < items; ++i) {
    events.push({arrivals[i].time, sequence++, Kind::Arrive, i, {}});
  }
  RunResult result;
  result.itemsRun = items;
  result.latencies.reserve(items * 2);
  const std::uint64_t decisionsBefore = calls.decisions();
  const std::uint64_t offersBefore = calls.offers();
  std::uint64_t decisionsSeen = decisionsBefore;
  auto account = [&](std::size_t kind, Clock::duration took) {
    const double seconds = std::chrono::duration<double>(took).count();
    const std::uint64_t decided = calls.decisions() - decisionsSeen;
    decisionsSeen += decided;
    ++result.calls;
    result.engineSeconds += seconds;
    ++result.kindCalls[kind];
    result.kindSeconds[kind] += seconds;
    result.kindDecisions[kind] += decided;
    return decided;
  };
  auto handle = [&](double now, Clock::duration took, std::size_t kind) {
    const std::uint64_t decided = account(kind, took);
    if (decided > 0) {
      const double perDecision =
          std::chrono::duration<double, std::nano>(took).count() / static_cast<double>(decided);
      result.latencies.insert(result.latencies.end(), decided, perDecision);
    }
    calls.forEachOffer([&](std::string_view itemId, std::string_view agentId, Timestamp time) {
      digest(result.offerDigest, itemId);
      digest(result.offerDigest, agentId);
      digest(result.offerDigest, std::to_string(time.time_since_epoch().count()));
      const std::size_t i = std::strtoul(itemId.data() + 4, nullptr, 10);
      const Arrival& arrival = arrivals[i];
      // Some agents decline or miss an item's first offer; the next agent takes it.
      const bool first = offersSoFar[i]++ == 0;
      if (first && arrival.ignores) {
        return; // the offer times out inside the engine
      }
      events.push({now + arrival.acceptAfter, sequence++,
                   first && arrival.declines ? Kind::Decline : Kind::Accept, i,
                   std::string(agentId)});
    });
  };
  while (!events.empty()) {
    Event event = events.top();
    events.pop();
    const double now = event.time;
    if (auto due = calls.nextDue(); due && *due <= at(now)) {
      const auto start = Clock::now();
      calls.advance(at(now));
      handle(now, engineTime(Clock::now() - start), 4);
    }
    const Arrival& arrival = arrivals[event.arrival];
    // What the call is given is made just before it, untimed, as in the server, which builds an
    // arrival's ItemSpec from the message (and takes an id from the request) on the thread that
    // then calls the engine. Passing the pre-generated inputs instead would charge the engine
    // for reading the benchmark's own 100,000 specs, cold.
    ItemSpec spec;
    std::string itemId;
    if (event.kind == Kind::Arrive) {
      spec = arrival.spec;
    } else {
      itemId = arrival.spec.id;
    }
    const auto start = Clock::now();
    const bool took = [&] {
      switch (event.kind) {
      case Kind::Arrive:
        return calls.submit(spec, at(now));
      case Kind::Accept:
        return calls.accept(itemId, event.agent, at(now));
      case Kind::Decline:
        return calls.decline(itemId, event.agent, at(now));
      case Kind::Complete:
        return calls.complete(itemId, at(now));
      }
      return false;
    }();
    const auto time = engineTime(Clock::now() - start);
    if (!took) {
      account(static_cast<std::size_t>(event.kind), time);
      continue; // e.g. accepting an offer that expired meanwhile
    }
    handle(now, time, static_cast<std::size_t>(event.kind));
    if (event.kind == Kind::Accept) {
      events.push({now + arrival.handleFor, sequence++, Kind::Complete, event.arrival, {}});
    }
    if constexpr (requires { calls.audit(); }) {
      if (result.calls % 4096 == 0) {
        result.fault = calls.audit();
        if (!result.fault.empty()) {
          break;
        }
      }
    }
  }
  result.decisions = calls.decisions() - decisionsBefore;
  result.offers = calls.offers() - offersBefore;
  return result;
}

/// The engine's run, and what GET /v1/queues costs after it: the ready and busy agents of
/// every queue.
RunResult run(Matcher matcher, const Workload& workload, const std::vector<Arrival>& arrivals,
              std::size_t items) {
  EngineCalls calls(matcher, workload);
  RunResult result = run(calls, arrivals, items);
  std::size_t counted = 0;
  const auto countStart = Clock::now();
  for (int q = 0; q < kQueues; ++q) {
    if (auto counts = calls.engine().queueAgents("q" + std::to_string(q))) {
      counted += counts->ready + counts->busy;
    }
  }
  result.queueAgentsSeconds = std::chrono::duration<double>(Clock::now() - countStart).count();
  result.queueAgentsCounted = counted;
  return result;
}

double bytesPerQueuedItem(const Workload& workload, const std::vector<Arrival>& arrivals) {
  RoutingEngine engine;
  configure(engine, workload, false); // nobody logged in: every item waits
  gCounting = true;
  gHeapBytes = 0;
  for (const auto& arrival : arrivals) {
    (void)engine.submit(arrival.spec, at(arrival.time));
  }
  gCounting = false;
  return static_cast<double>(gHeapBytes) / static_cast<double>(arrivals.size());
}

void print(const char* name, RunResult& r) {
  std::printf("%-8s items %7zu  decisions %8llu  offers %8llu  engine calls %8llu  time %7.3f s\n",
              name, r.itemsRun, static_cast<unsigned long long>(r.decisions),
              static_cast<unsigned long long>(r.offers), static_cast<unsigned long long>(r.calls),
              r.engineSeconds);
  std::printf("%-8s decisions/s %10.0f   latency per decision p50 %8.2f us  p99 %8.2f us\n", name,
              static_cast<double>(r.decisions) / r.engineSeconds,
              percentile(r.latencies, 0.50) / 1000.0, percentile(r.latencies, 0.99) / 1000.0);
  // Counting only the decisions that gave an item to an agent, not the attempts that left it
  // waiting, over the same engine time.
  std::printf("%-8s offers/s    %10.0f\n", name, static_cast<double>(r.offers) / r.engineSeconds);
  if (r.queueAgentsCounted > 0) {
    std::printf("%-8s queueAgents() for all %d queues: %.1f us\n", name, kQueues,
                1e6 * r.queueAgentsSeconds);
  }
  std::printf("%-8s where the time goes:", name);
  for (std::size_t k = 0; k < kKindNames.size(); ++k) {
    if (r.kindCalls[k] > 0) {
      std::printf("  %s %.0f%% (%llu calls, %.2f us each, %llu decisions)", kKindNames[k],
                  100.0 * r.kindSeconds[k] / r.engineSeconds,
                  static_cast<unsigned long long>(r.kindCalls[k]),
                  1e6 * r.kindSeconds[k] / static_cast<double>(r.kindCalls[k]),
                  static_cast<unsigned long long>(r.kindDecisions[k]));
    }
  }
  std::printf("\n");
}

} // namespace

int main(int argc, char** argv) {
  std::size_t items = 100'000;
  std::size_t naiveItems = 10'000;
  bool memory = true;
  bool lean = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-memory") == 0) {
      memory = false;
    }
    if (std::strcmp(argv[i], "--no-lean") == 0) {
      lean = false;
    }
    if (std::strncmp(argv[i], "--items=", 8) == 0) {
      items = std::strtoul(argv[i] + 8, nullptr, 10);
    } else if (std::strncmp(argv[i], "--naive-items=", 14) == 0) {
      naiveItems = std::strtoul(argv[i] + 14, nullptr, 10);
    }
  }
  naiveItems = std::min(naiveItems, items);
  const Workload workload = makeWorkload();
  const auto arrivals = makeArrivals(static_cast<int>(items));
  gClockOverhead = clockOverhead();
  std::printf("routing: %d agents, %d skills, %d queues, %zu items over %.0f simulated s, one "
              "thread\n",
              kAgents, kSkills, kQueues, items, arrivals.back().time);
  std::printf("timing: each engine call is timed on its own; the clock's own cost, %.0f ns per "
              "call (median of 100,001 empty intervals), is subtracted\n",
              std::chrono::duration<double, std::nano>(gClockOverhead).count());

  RunResult indexed = run(Matcher::Indexed, workload, arrivals, items);
  print("indexed", indexed);
  const double indexedRate = static_cast<double>(indexed.decisions) / indexed.engineSeconds;
  if (naiveItems > 0) {
    RunResult naive = run(Matcher::Scan, workload, arrivals, naiveItems);
    print("naive", naive);
    RunResult same =
        naiveItems == items ? indexed : run(Matcher::Indexed, workload, arrivals, naiveItems);
    if (same.offerDigest != naive.offerDigest || same.decisions != naive.decisions ||
        same.offers != naive.offers) {
      std::printf("MISMATCH: on the first %zu items the indexed engine and the naive matcher "
                  "decided differently\n",
                  naiveItems);
      return 1;
    }
    std::printf("naive ran the first %zu of %zu items; on them both made the same %llu decisions "
                "and %llu offers (offer digest %016llx)\n",
                naiveItems, items, static_cast<unsigned long long>(naive.decisions),
                static_cast<unsigned long long>(naive.offers),
                static_cast<unsigned long long>(naive.offerDigest));
    const double naiveRate = static_cast<double>(naive.decisions) / naive.engineSeconds;
    std::printf("ratio indexed/naive decisions per second: %.1fx\n", indexedRate / naiveRate);
  }
  if (lean) {
    // The fast reference: what a router that does the least this workload needs makes of the
    // same arrivals on this machine, in this run (bench/lean_router.h says what it leaves out).
    LeanCalls calls(workload);
    RunResult leanRun = run(calls, arrivals, items);
    print("lean", leanRun);
    if (leanRun.fault.empty()) {
      leanRun.fault = calls.audit();
    }
    if (!leanRun.fault.empty()) {
      std::printf("LEAN ROUTER FAULT: %s\n", leanRun.fault.c_str());
      return 1;
    }
    const double leanRate = static_cast<double>(leanRun.decisions) / leanRun.engineSeconds;
    std::printf("ratio indexed/lean decisions per second: %.2fx\n", indexedRate / leanRate);
  }
  if (memory) {
    std::printf("memory: %.0f bytes per queued item (100%% of %zu items waiting)\n",
                bytesPerQueuedItem(workload, arrivals), arrivals.size());
  }
  std::printf("targets: >= 1,000,000 decisions/s, p99 <= 10 us, <= 1024 bytes per queued item\n");
  return 0;
}
