#pragma once

// The parsed form of an expression, before compilation: a tree whose paths are already resolved
// to the fields they read. Queues transform it (widen, lower skill levels) and split its
// top-level conjuncts by what they read before compiling each part (compiled_expression.h).

#include "switchboard/result.h"
#include "switchboard/routing/expression.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::routing {

enum class Field : std::uint8_t {
  AgentId,
  AgentName,
  AgentSite,
  AgentSeniority,
  AgentState,         ///< dynamic
  AgentContactsToday, ///< dynamic
  AgentIdleSeconds,   ///< dynamic
  AgentCapacity,      ///< dynamic: free places for medium `name`
  AgentSkill,         ///< level of skill `name`
  AgentSkills,        ///< the set of skills, only left of `has`
  AgentAttribute,     ///< free attribute `name`
  ItemId,
  ItemMedium,
  ItemPriority,
  ItemCustomer,
  ItemWaitSeconds,
  ItemSubject,
  ItemBody, ///< rules only: read from the submitted spec, not kept
  ItemFrom,
  ItemContactPoint,
  ItemCustomerName,
  ItemAttribute, ///< free attribute `name`
};

bool isAgentField(Field field);
/// Agent fields that change while the agent works (state, counters, idle time, capacity).
bool isDynamicAgentField(Field field);

enum class NodeKind : std::uint8_t { Or, And, Not, Compare, Number, String, Bool, List, Path };
enum class CompareOp : std::uint8_t {
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  In,
  NotIn,
  Has,
  Contains, ///< text operators: case- and accent-insensitive (text_match.h)
  StartsWith,
  EndsWith,
};

/// Whether `op` is one of the text operators.
inline bool isTextOp(CompareOp op) {
  return op == CompareOp::Contains || op == CompareOp::StartsWith || op == CompareOp::EndsWith;
}

struct Node {
  NodeKind kind = NodeKind::Bool;
  CompareOp op = CompareOp::Eq;
  std::size_t column = 0;
  std::vector<Node> children;
  double number = 0.0;
  std::string text; ///< String: the literal; Path: the skill, attribute or medium name
  bool boolean = false;
  Field field = Field::ItemId;
};

/// Parses and resolves `text`. A blank text is the literal `true`.
Result<Node, ParseError> parseExpression(std::string_view text, ExpressionScope scope);

/// Every top-level conjunct of `node` (node itself when it is not an `and`).
std::vector<Node> conjuncts(const Node& node);

/// `node` with every `agent.skills.X >= N` / `> N` (and the mirrored forms) lowered by
/// `levels`, never below 0.
Node lowerSkillLevels(Node node, int levels);

} // namespace switchboard::routing
