#include "switchboard/routing/trace.h"

#include "switchboard/timestamp.h"

#include <cmath>
#include <cstdio>

namespace switchboard::routing {

static_assert(static_cast<std::size_t>(Exclusion::HeldForPrevious) + 1 == kExclusionCount,
              "Trace::skipped has a count for every Exclusion");

std::string_view toString(Exclusion exclusion) {
  switch (exclusion) {
  case Exclusion::NotInTarget:
    return "notInTarget";
  case Exclusion::SiteNotAllowed:
    return "siteNotAllowed";
  case Exclusion::ConditionFalse:
    return "conditionFalse";
  case Exclusion::LoggedOut:
    return "loggedOut";
  case Exclusion::NotReady:
    return "notReady";
  case Exclusion::WrapUp:
    return "wrapUp";
  case Exclusion::NoCapacity:
    return "noCapacity";
  case Exclusion::DeclinedBefore:
    return "declinedBefore";
  case Exclusion::HeldForPrevious:
    return "heldForPrevious";
  }
  return "?";
}

std::string_view toString(OrderKey key) {
  switch (key) {
  case OrderKey::LongestIdle:
    return "longestIdle";
  case OrderKey::HighestSkill:
    return "highestSkill";
  case OrderKey::Seniority:
    return "seniority";
  case OrderKey::PreviousAgent:
    return "previousAgent";
  case OrderKey::FewestContacts:
    return "fewestContacts";
  case OrderKey::RoundRobin:
    return "roundRobin";
  case OrderKey::WeightedRandom:
    return "weightedRandom";
  }
  return "?";
}

namespace {

std::string formatNumber(double value) {
  char buffer[32];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
  }
  return buffer;
}

std::string_view outcomeText(TraceOutcome outcome) {
  switch (outcome) {
  case TraceOutcome::Offered:
    return "offered to ";
  case TraceOutcome::NoAgent:
    return "no eligible agent available, waits";
  case TraceOutcome::ItemCondition:
    return "the item does not meet the target at this stage, waits";
  case TraceOutcome::Held:
    return "held for the customer's previous agent";
  }
  return "";
}

} // namespace

std::string formatTrace(const Trace& trace) {
  std::string out = "item " + std::string(trace.itemId) + " in queue " +
                    std::string(trace.queueId) + " (stage " + std::to_string(trace.stage) + ") at ";
  appendTimestamp(trace.time, out);
  out += ": ";
  out += outcomeText(trace.outcome);
  if (trace.outcome == TraceOutcome::Offered) {
    out += trace.winner;
    if (trace.stickyWinner) {
      out += " (previous agent)";
    }
  }
  out += "\n  ordering:";
  for (std::size_t i = 0; i < trace.ordering.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += toString(trace.ordering[i]);
  }
  out += "\n  eligible:";
  if (trace.eligible.empty()) {
    out += " none";
  }
  for (std::size_t i = 0; i < trace.eligible.size(); ++i) {
    const auto& candidate = trace.eligible[i];
    out += i == 0 ? " " : ", ";
    out += candidate.agentId;
    out += " [";
    std::size_t n = 0;
    for (const OrderKey key : trace.ordering) {
      if (key == OrderKey::PreviousAgent) {
        continue;
      }
      if (n > 0) {
        out += ' ';
      }
      out += toString(key);
      out += '=';
      out += formatNumber(candidate.keys[n]);
      ++n;
    }
    out += ']';
    if (candidate.agentId == trace.winner) {
      out += " (winner)";
    }
  }
  out += "\n  excluded:";
  std::uint64_t counted = 0;
  for (const std::uint32_t n : trace.skipped) {
    counted += n;
  }
  if (trace.excluded.empty() && counted == 0 && !trace.passedOver) {
    out += " none";
  }
  for (std::size_t i = 0; i < trace.excluded.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += trace.excluded[i].agentId;
    out += " (";
    out += toString(trace.excluded[i].reason);
    out += ')';
  }
  bool first = trace.excluded.empty();
  for (std::size_t r = 0; r < trace.skipped.size(); ++r) {
    if (trace.skipped[r] == 0) {
      continue;
    }
    out += first ? " " : ", ";
    out += std::to_string(trace.skipped[r]);
    if (!trace.excluded.empty()) {
      out += " more";
    }
    if (static_cast<Exclusion>(r) == Exclusion::NoCapacity) {
      out += " with no room for ";
      out += trace.medium.empty() ? std::string_view("the medium") : trace.medium;
    } else {
      out += " (";
      out += toString(static_cast<Exclusion>(r));
      out += ')';
    }
    first = false;
  }
  if (trace.passedOver) {
    out += first ? " " : ", ";
    out += first ? "agents with no room for " : "others with no room for ";
    out += trace.medium.empty() ? std::string_view("the medium") : trace.medium;
    out += " passed over";
  }
  out += '\n';
  return out;
}

} // namespace switchboard::routing
